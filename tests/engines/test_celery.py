"""Dagster steps on two real Celery workers (RabbitMQ broker, Redis results), and a worker killed mid-step.

One module, one pair of workers (`python -m energy_assets.workers`, as `make workers`) on a queue
of its own, one ENERGY_HOME. The ingest run's event log must show every step executed by a worker
process, both workers used; then a training step's process is killed (SIGKILL) while it runs: the
step fails with the run, and re-execution from that failure completes it, registering the model
exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

pytestmark = [pytest.mark.workers, pytest.mark.celery, pytest.mark.timeout(900)]

ESTIMATOR = "energy-usage-estimator"
# The estimator without the published protocol's 5-fold CV and with 60 boosting iterations: what is
# proven here is the engine, not the model.
TRAINING_SUBSET = ["train_readings", "holdout_readings", "usage_estimator"]


def _events(instance, run_id: str, event_type):
    return [e for e in instance.all_logs(run_id, of_type=event_type) if e.dagster_event is not None]


@pytest.fixture(scope="module")
def ingest_run(celery_stack) -> str:
    """`make pipeline --job ingest_month` (every month of the bundled export) with ENERGY_EXECUTOR=celery."""
    done = celery_stack.run_python(
        "import sys; from energy_assets.pipeline import main; sys.exit(main(['--job', 'ingest_month']))"
    )
    assert done.returncode == 0, f"ingest on Celery failed:\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    run_id = next(line.split()[2].rstrip(":") for line in done.stdout.splitlines() if line.startswith("Dagster run "))
    return run_id


def test_every_step_runs_in_a_celery_worker_and_both_workers_take_steps(celery_stack, ingest_run):
    import dagster as dg

    instance = celery_stack.instance()
    run = instance.get_run_by_id(ingest_run)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    coordinator_pid = int(run.tags["energy/process_pid"])  # the process that ran the executor
    starts = {
        e.dagster_event.step_key: e.dagster_event.pid
        for e in _events(instance, ingest_run, dg.DagsterEventType.STEP_START)
    }
    assert {"raw_readings", "validated_readings", "clean_readings", "rejected_readings"} <= set(starts), sorted(starts)
    assert coordinator_pid not in starts.values(), "a step ran in the run's own process"
    # dagster-celery's engine event, written by the worker that took the step: its Celery node name.
    taken = {}
    for entry in _events(instance, ingest_run, dg.DagsterEventType.ENGINE_EVENT):
        metadata = entry.dagster_event.engine_event_data.metadata
        if "Celery worker" in metadata:
            taken[entry.dagster_event.step_key] = metadata["Celery worker"].value
    assert set(taken) == set(starts), f"steps without a worker's event: {set(starts) - set(taken)}"
    assert set(taken.values()) == set(celery_stack.worker_names), taken  # both workers, and only this module's
    # One pool process per step (--max-tasks-per-child 1): every step's pid is its own.
    assert len(set(starts.values())) == len(starts)


def _wait_for_step_start(instance, step_key: str, process, timeout: float = 600) -> int:
    """The pid of the process that started `step_key` in the newest run, once it has; fails if the run ends first."""
    import dagster as dg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(limit=1)
        if runs:
            for entry in _events(instance, runs[0].run_id, dg.DagsterEventType.STEP_START):
                if entry.dagster_event.step_key == step_key:
                    return entry.dagster_event.pid
        assert process.poll() is None, f"the run ended before {step_key} started"
        time.sleep(0.3)
    raise TimeoutError(f"{step_key} did not start within {timeout:.0f} s")


def _estimator_versions(home) -> list:
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    return client.search_model_versions(f"name = '{ESTIMATOR}'")


def test_a_worker_process_killed_mid_step_fails_the_step_and_reexecution_completes_it_once(celery_stack, ingest_run):
    import subprocess
    import sys

    import dagster as dg

    from tests.conftest import PROJECT_ROOT

    instance = celery_stack.instance()
    months = list(instance.get_dynamic_partitions("month"))
    script = (
        "import json, dagster as dg; from energy_assets.defs.execution import execute; "
        "instance = dg.DagsterInstance.get(); "
        "result = execute('retrain_models', instance, "
        "run_config={'ops': {'usage_estimator': {'config': {'cv_folds': 0, 'max_iter': 60}}}}, "
        f"tags={{'dagster/asset_partition_range_start': {months[0]!r}, "
        f"'dagster/asset_partition_range_end': {months[-1]!r}}}, "
        f"asset_selection=[dg.AssetKey(k) for k in {TRAINING_SUBSET!r}]); "
        "print(json.dumps({'run_id': result.run_id, 'success': result.success}))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        env=celery_stack.env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid = _wait_for_step_start(instance, "usage_estimator", process)
    os.kill(pid, signal.SIGKILL)  # the worker's pool process executing the step: as an OOM kill would
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-4000:]
    first = json.loads(out.strip().splitlines()[-1])
    assert first["success"] is False
    failed = instance.get_run_by_id(first["run_id"])
    assert failed.status == dg.DagsterRunStatus.FAILURE
    succeeded_steps = {
        e.dagster_event.step_key for e in _events(instance, first["run_id"], dg.DagsterEventType.STEP_SUCCESS)
    }
    assert "readings_split" in succeeded_steps and "usage_estimator" not in succeeded_steps
    # The worker reported its pool process lost (Celery's WorkerLostError); the executor failed the run with it.
    errors = " ".join(
        f"{e.dagster_event.message} {getattr(e.dagster_event.event_specific_data, 'error', '')}"
        for e in instance.all_logs(first["run_id"])
        if e.dagster_event is not None
        and e.dagster_event.event_type in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.ENGINE_EVENT)
    )
    assert "WorkerLostError" in errors, errors[-3000:]
    assert not [v for v in _estimator_versions(celery_stack.home) if v.tags.get("dagster_run_id") == first["run_id"]], (
        "the killed step registered a version before it was killed: kill earlier"
    )

    retry = celery_stack.run_python(
        "import json, dagster as dg; from energy_assets.defs.execution import execute; "
        f"result = execute('retrain_models', dg.DagsterInstance.get(), reexecute_from_failure_of={first['run_id']!r}); "
        "print(json.dumps({'run_id': result.run_id, 'success': result.success}))"
    )
    assert retry.returncode == 0, retry.stderr[-4000:]
    second = json.loads(retry.stdout.strip().splitlines()[-1])
    assert second["success"] is True, retry.stderr[-4000:]
    rerun = instance.get_run_by_id(second["run_id"])
    assert rerun.parent_run_id == first["run_id"]
    reexecuted = {
        e.dagster_event.step_key for e in _events(instance, second["run_id"], dg.DagsterEventType.STEP_SUCCESS)
    }
    assert "usage_estimator" in reexecuted and "readings_split" not in reexecuted, (
        reexecuted
    )  # the split came from the parent
    versions = _estimator_versions(celery_stack.home)
    assert [v.tags.get("dagster_run_id") for v in versions] == [second["run_id"]], [
        (v.version, v.tags.get("dagster_run_id")) for v in versions
    ]
    # Every MLflow run of both Dagster runs ended (FAILED for the killed one, FINISHED for the retry).
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{celery_stack.home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("energy-copilot")
    statuses = {
        run_id: sorted(
            r.info.status for r in client.search_runs([experiment.experiment_id], f"tags.dagster_run_id = '{run_id}'")
        )
        for run_id in (first["run_id"], second["run_id"])
    }
    assert "RUNNING" not in statuses[first["run_id"]] + statuses[second["run_id"]], statuses
