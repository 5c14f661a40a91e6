"""`make pipeline`: materialize the whole asset graph in the ENERGY_HOME Dagster instance, print a summary.

Runs land in the same instance the Dagster UI shows. The exit code is 0 when every check passed,
or when the only failed checks are champion gates (the champion was kept, which is a decision,
not an error), and 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from energy_assets import settings as energy_settings
from energy_assets import startup
from energy_assets.config_vars import env
from energy_assets.schema import SchemaError


@dataclass
class PipelineResult:
    run_id: str
    success: bool
    counts: dict[str, int] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)  # every check evaluated in the run: passed?
    failed_checks: dict[str, str] = field(default_factory=dict)
    gate_decisions: dict[str, str] = field(default_factory=dict)
    champions: dict[str, dict] = field(default_factory=dict)
    running_mlflow_runs: list[str] = field(default_factory=list)
    ended_mlflow_runs: list[str] = field(default_factory=list)  # of a failed run, ended FAILED here

    @property
    def only_gates_failed(self) -> bool:
        return bool(self.failed_checks) and all(name.endswith("_beats_champion") for name in self.failed_checks)

    @property
    def ok(self) -> bool:
        return (self.success or self.only_gates_failed) and not self.running_mlflow_runs


class SourceProblem(Exception):
    """The raw source or its source map cannot be read; the message names the file and config key."""


def _months_in(raw_source: str, source_map: str) -> list[str]:
    """The months the source's timestamps fall in (a date parse, not a validation: that runs in the job)."""
    from energy_assets.defs.assets.data_assets import RAW_PATH_KEY, SOURCE_MAP_KEY
    from energy_assets.ingest import reader
    from energy_assets.ingest.sourcemap import SourceMapError, load_source_map
    from energy_assets.ingest.validation import interval_months

    try:
        frame, _, _ = reader.read_raw(
            raw_source, RAW_PATH_KEY, load_source_map(source_map, SOURCE_MAP_KEY), SOURCE_MAP_KEY
        )
    except (FileNotFoundError, reader.RawSourceError, SchemaError, SourceMapError) as error:
        raise SourceProblem(str(error)) from None
    return interval_months(frame)


def run_pipeline(
    raw_source: str | Path | None = None,
    job_name: str = "energy_pipeline",
    instance=None,
    run_config: dict | None = None,
    source_map: str | Path | None = None,
) -> PipelineResult:
    """Materialize `job_name` over every month of the raw source in one run.

    `run_config` is merged into the job's run config, e.g.
    {"ops": {"usage_estimator": {"config": {"cv_folds": 0}}}}.
    """
    import dagster as dg
    import mlflow

    from energy_assets.defs.execution import execute
    from energy_assets.defs.partitions import register_months
    from energy_assets.defs.run_cleanup import close_orphaned_runs, end_mlflow_runs, process_tags

    current = energy_settings.get_settings()
    startup.ensure_dagster_home(current)
    instance = instance or dg.DagsterInstance.get()
    close_orphaned_runs(instance)  # runs of an earlier pipeline whose process was killed (logged when found)
    source = str(raw_source or current.raw_source)
    mapping = str(source_map or env("ENERGY_SOURCE_MAP") or "")
    months = _months_in(source, mapping)
    if not months:
        raise SystemExit(f"{source}: no clean reading in the raw source, nothing to materialize")
    register_months(instance, months)
    ops = {} if job_name == "retrain_models" else {"raw_readings": {"config": {"path": source, "source_map": mapping}}}
    ops.update((run_config or {}).get("ops", {}))
    # The console shows INFO and up; every event, DEBUG included, is still in the run's log in the UI.
    loggers = {"console": {"config": {"log_level": "INFO"}}}
    outcome = execute(  # in this process, or step by step on Celery workers (ENERGY_EXECUTOR)
        job_name,
        instance,
        run_config={"loggers": loggers, **(run_config or {}), "ops": ops},
        tags={
            "dagster/asset_partition_range_start": months[0],
            "dagster/asset_partition_range_end": months[-1],
            **process_tags(),  # lets a later run close this one if this process dies
        },
    )
    result = PipelineResult(run_id=outcome.run_id, success=outcome.success)
    for evaluation in outcome.get_asset_check_evaluations():
        name = evaluation.check_name
        result.checks[name] = result.checks.get(name, True) and evaluation.passed
        if name.endswith("_beats_champion"):
            result.gate_decisions[evaluation.asset_key.to_user_string()] = evaluation.description or ""
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            result.failed_checks[name] = evaluation.description or "failed"
    rejected = instance.get_latest_materialization_event(dg.AssetKey("rejected_readings"))
    if rejected is not None and rejected.run_id == outcome.run_id:
        metadata = rejected.asset_materialization.metadata
        result.counts = {
            k: int(metadata[k].value)
            for k in ("raw_rows", "clean_rows", "rejected_rows", "exact_duplicates_dropped")
            if k in metadata
        }
    result.champions = champion_summary()
    if not outcome.success:  # e.g. interrupted (Ctrl-C, SIGTERM) before dagster-mlflow's hook ran
        result.ended_mlflow_runs = end_mlflow_runs(outcome.run_id, "FAILED")
    client = mlflow.MlflowClient(current.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(energy_settings.EXPERIMENT_NAME)
    if experiment is not None:
        running = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.dagster_run_id = '{outcome.run_id}' and attributes.status = 'RUNNING'",
        )
        result.running_mlflow_runs = [r.info.run_id for r in running]
    return result


def champion_summary() -> dict[str, dict]:
    """Each registered model's champion version and its holdout metrics, read from the registry."""
    import mlflow

    from energy_assets import lineage
    from energy_assets.gating.champion import champion_version

    client = mlflow.MlflowClient(energy_settings.get_settings().mlflow_tracking_uri)
    summary = {}
    for name in (energy_settings.ESTIMATOR_MODEL_NAME, energy_settings.FORECASTER_MODEL_NAME):
        try:
            champion = champion_version(client, name)
        except Exception:  # registry not created yet
            champion = None
        if champion is not None:
            summary[name] = {
                "version": champion.version,
                **{
                    k: float(champion.tags[t])
                    for k, t in (
                        ("rmse", lineage.TAG_HOLDOUT_RMSE),
                        ("mae", lineage.TAG_HOLDOUT_MAE),
                        ("r2", lineage.TAG_HOLDOUT_R2),
                    )
                },
            }
    return summary


def format_summary(result: PipelineResult) -> str:
    status = "succeeded" if result.success else "failed"
    if result.only_gates_failed:
        status = (
            "stopped at a champion gate: a candidate that does not beat its champion is not promoted (see the "
            "gates below)"
        )
    lines = [f"Dagster run {result.run_id}: {status}"]
    if result.counts:
        c = result.counts
        lines.append(
            f"rows in {c.get('raw_rows', 0):,} | clean {c.get('clean_rows', 0):,} | rejected "
            f"{c.get('rejected_rows', 0):,} | exact duplicates dropped {c.get('exact_duplicates_dropped', 0):,}"
        )
    for asset, decision in result.gate_decisions.items():
        lines.append(f"gate {asset}: {decision}")
    for name, champion in result.champions.items():
        lines.append(
            f"champion {name} v{champion['version']}: holdout RMSE {champion['rmse']:.3f} kWh, "
            f"MAE {champion['mae']:.3f} kWh, R2 {champion['r2']:.4f}"
        )
    for name, message in result.failed_checks.items():
        if not name.endswith("_beats_champion"):  # gate outcomes are listed above as decisions
            lines.append(f"FAILED check {name}: {message}")
    if result.running_mlflow_runs:
        lines.append(f"MLflow runs left RUNNING: {result.running_mlflow_runs}")
    if result.ended_mlflow_runs:
        lines.append(f"MLflow runs of the failed run, left RUNNING, ended FAILED: {result.ended_mlflow_runs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    startup.telemetry_off()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--raw", help="raw CSV export or folder (default: env ENERGY_RAW_CSV, else the bundled UCI file)"
    )
    parser.add_argument(
        "--source-map",
        help="YAML source map of the export's shape (default: env ENERGY_SOURCE_MAP, else the UCI shape)",
    )
    parser.add_argument(
        "--job", default="energy_pipeline", choices=["energy_pipeline", "ingest_month", "retrain_models"]
    )
    args = parser.parse_args(argv)
    try:
        result = run_pipeline(args.raw, job_name=args.job, source_map=args.source_map)
    except SourceProblem as error:
        print(f"cannot read the raw source: {error}", file=sys.stderr)
        return 2
    print(format_summary(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
