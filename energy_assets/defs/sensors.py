"""Sensors, run by dagster-daemon (`make run`, the compose stack).

- `raw_area_exports`: a new or changed export in the raw area requests `ingest_month` for the
  months it touches (cursor: the md5 of every export).
- `clean_data_followers`: declarative automation: features and the train/holdout split follow the
  clean readings. The models are not automated: retraining goes through the gated Prefect flow.
- `mlflow_runs_of_failed_runs` / `_canceled_runs` / `_succeeded_runs`: the MLflow runs a Dagster
  run that failed, was canceled or succeeded left RUNNING end FAILED / KILLED / FINISHED.
- `orphaned_in_process_runs`: closes in-process runs whose process died (see run_cleanup).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd
from mlflow.entities import RunStatus

from energy_assets import schema
from energy_assets.defs.jobs import ingest_month
from energy_assets.defs.partitions import MONTHS, monthly_partitions
from energy_assets.defs.resources import ModelRegistry, RawSource
from energy_assets.defs.run_cleanup import close_orphaned_runs, end_mlflow_runs
from energy_assets.ingest import reader
from energy_assets.ingest.validation import month_of, validate

SENSOR_INTERVAL_SECONDS = 30
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def _area_state(area: Path, previous: dict[str, dict]) -> dict[str, dict]:
    """{file name: {md5, size, mtime_ns}} of every export in the raw area; unchanged files are not re-hashed."""
    state = {}
    for path in sorted(area.glob("*.csv")):
        if not path.is_file():
            continue
        stat = path.stat()
        known = previous.get(path.name, {})
        same = known.get("size") == stat.st_size and known.get("mtime_ns") == stat.st_mtime_ns
        state[path.name] = {
            "md5": known["md5"] if same else reader.file_md5(path),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }
    return state


def _last_ingested_version(instance: dg.DagsterInstance) -> str | None:
    event = instance.get_latest_materialization_event(dg.AssetKey("raw_readings"))
    if event is None or event.asset_materialization is None:
        return None
    return str(event.asset_materialization.metadata["dvc_md5"].value)


def _months_of(area: Path, names: list[str]) -> list[str]:
    frames = [reader.read_export(area / name) for name in names]
    clean = validate(pd.concat(frames, ignore_index=True)).clean
    return sorted(month_of(clean[schema.TIMESTAMP]).unique())


@dg.sensor(
    job=ingest_month,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A new or changed CSV export in the raw area (settings.raw_area: data/raw/, or the folder of "
    "ENERGY_RAW_CSV) requests ingest_month for the months it touches. An area whose data version is the one last "
    "ingested (by `make pipeline`, the ingest flow or this sensor) requests nothing.",
)
def raw_area_exports(context: dg.SensorEvaluationContext, raw_source: RawSource):
    area = raw_source.area()
    previous = json.loads(context.cursor) if context.cursor else {}
    current = _area_state(area, previous)
    ingested = _last_ingested_version(context.instance)
    if ingested is None:
        return dg.SkipReason(
            "raw_readings was never materialized here: `make pipeline` or the ingest flow builds the first state"
        )
    files = [area / name for name in current]
    if files and reader.source_version(files) == ingested:
        # Already ingested as it is: the state `make pipeline` built, or an export the ingest flow added.
        return dg.SensorResult(skip_reason="the raw area is the version last ingested", cursor=json.dumps(current))
    changed = sorted(name for name, entry in current.items() if previous.get(name, {}).get("md5") != entry["md5"])
    if not changed:
        removed = sorted(set(previous) - set(current))
        note = f"; removed (not re-ingested): {removed}" if removed else ""
        return dg.SensorResult(skip_reason=f"no new or changed export{note}", cursor=json.dumps(current))
    try:
        months = _months_of(area, changed)
    except (reader.RawSourceError, schema.SchemaError, ValueError, OSError) as error:
        # Recorded in the cursor so a broken file is reported once, not every 30 s.
        context.log.error(f"cannot read {changed}: {error}")
        return dg.SensorResult(skip_reason=f"unreadable export {changed}: {error}", cursor=json.dumps(current))
    if not months:
        return dg.SensorResult(
            skip_reason=f"{changed}: no clean reading, nothing to ingest", cursor=json.dumps(current)
        )
    known = list(context.instance.get_dynamic_partitions(MONTHS))
    new = [m for m in months if m not in known]
    order = [m for m in known + new if m in set(months)]
    tags = {RANGE_START_TAG: order[0], RANGE_END_TAG: order[-1]} if len(order) > 1 else {"dagster/partition": order[0]}
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=",".join(f"{name}:{current[name]['md5']}" for name in changed),
                run_config={"ops": {"raw_readings": {"config": {"path": str(area)}}}},
                tags={**tags, "energy/exports": ",".join(changed)},
            )
        ],
        dynamic_partitions_requests=[monthly_partitions.build_add_request(new)] if new else [],
        cursor=json.dumps(current),
    )


clean_data_followers = dg.AutomationConditionSensorDefinition(
    "clean_data_followers",
    target=dg.AssetSelection.assets("features", "train_readings", "holdout_readings"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    description="Features and the train/holdout split follow new clean readings (AutomationCondition.eager). "
    "Models retrain only through the gated Prefect flow `retrain`.",
)


def _mlflow_runs_of(run_status: dg.DagsterRunStatus, mlflow_status: str, adjective: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=f"mlflow_runs_of_{adjective}_runs",
        run_status=run_status,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=10,
        description=(
            f"Ends the MLflow runs a {adjective} Dagster run left RUNNING (e.g. its worker was killed) as "
            f"{mlflow_status}."
        ),
    )
    def _sensor(context: dg.RunStatusSensorContext, model_registry: ModelRegistry):
        ended = end_mlflow_runs(context.dagster_run.run_id, mlflow_status, model_registry.client())
        if ended:
            context.log.info(f"run {context.dagster_run.run_id} {adjective}: MLflow runs {ended} ended {mlflow_status}")

    return _sensor


mlflow_runs_of_failed_runs = _mlflow_runs_of(
    dg.DagsterRunStatus.FAILURE, RunStatus.to_string(RunStatus.FAILED), "failed"
)
mlflow_runs_of_canceled_runs = _mlflow_runs_of(
    dg.DagsterRunStatus.CANCELED, RunStatus.to_string(RunStatus.KILLED), "canceled"
)
# With steps on Celery workers, a step after the job's last node (dagster-mlflow's cue to end the
# MLflow run) resumes it in its own process; nothing else ends it once the Dagster run succeeded.
mlflow_runs_of_succeeded_runs = _mlflow_runs_of(
    dg.DagsterRunStatus.SUCCESS, RunStatus.to_string(RunStatus.FINISHED), "succeeded"
)


@dg.sensor(
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the in-process runs (make pipeline, embedded flows) of this host whose process died, "
    "and ends their MLflow runs as KILLED.",
)
def orphaned_in_process_runs(context: dg.SensorEvaluationContext, model_registry: ModelRegistry):
    closed = close_orphaned_runs(context.instance, context.log, model_registry.client())
    return dg.SkipReason(f"closed orphaned runs {closed}" if closed else "no orphaned in-process run")


SENSORS = [
    raw_area_exports,
    clean_data_followers,
    mlflow_runs_of_failed_runs,
    mlflow_runs_of_canceled_runs,
    mlflow_runs_of_succeeded_runs,
    orphaned_in_process_runs,
]
