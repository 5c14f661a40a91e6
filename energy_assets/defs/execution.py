"""Where a run's steps execute, and starting a run so that they do.

ENERGY_EXECUTOR (energy_assets/settings.py) picks the code location's executor: the in-process
executor by default (one process per run; steps sharing it skip ~2 s of imports each), or
dagster-celery's executor, which queues every step as a Celery task for `dagster-celery` workers
(`make workers`, the compose `dagster-worker` service). Runs launched by the webserver or the
daemon use that executor by themselves. Runs this project starts from Python (`make pipeline`,
the embedded flows) go through `execute`: `execute_in_process` ignores a job's executor, so with
Celery the run is started with `dg.execute_job` on the reconstructable job instead, which the
workers load again from this module's code location by its module path.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
from mlflow.entities import RunStatus

from energy_assets import settings as energy_settings
from energy_assets.defs.run_cleanup import end_mlflow_runs

DEFINITIONS_MODULE = "energy_assets.definitions"


def executor_def(current: energy_settings.Settings | None = None) -> dg.ExecutorDefinition:
    current = current or energy_settings.get_settings()
    if current.celery is None:
        return dg.in_process_executor
    from dagster_celery import celery_executor

    return celery_executor.configured(current.celery.executor_config(), name="celery")


def recon_job(job_name: str):
    """The job as a pointer every worker resolves itself: module energy_assets.definitions, attribute defs."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    return ReconstructableRepository.for_module(DEFINITIONS_MODULE, "defs").get_reconstructable_job(job_name)


def execute(
    job_name: str,
    instance: dg.DagsterInstance,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    reexecute_from_failure_of: str | None = None,
) -> dg.ExecutionResult:
    """Run `job_name` to its end on the configured executor; a failed run is returned, not raised.

    `reexecute_from_failure_of`: a failed run's id; only its failed (or unfinished) steps and
    what depends on them run again, on the parent's outputs (needs the Celery path's persistent
    instance; the in-process path accepts it too).
    """
    from energy_assets.definitions import defs

    if energy_settings.get_settings().celery is None and reexecute_from_failure_of is None:
        return defs.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            run_config=run_config or {},
            tags=tags,
            asset_selection=asset_selection,
            raise_on_error=False,
        )
    options = (
        dg.ReexecutionOptions.from_failure(reexecute_from_failure_of, instance) if reexecute_from_failure_of else None
    )
    with dg.execute_job(
        recon_job(job_name),
        instance,
        run_config=None if options else (run_config or {}),
        tags=tags,
        raise_on_error=False,
        asset_selection=None if options else asset_selection,
        reexecution_options=options,
    ) as result:
        pass
    # dagster-mlflow's hook ends the run's MLflow run after the job's last node in topological
    # order; with steps in other processes, a later step (a check) may have resumed it. The run is
    # over now: end what it left RUNNING, as the daemon's sensors do for runs they see end.
    end_mlflow_runs(result.run_id, RunStatus.to_string(RunStatus.FINISHED if result.success else RunStatus.FAILED))
    return result
