"""Resources: where tabular assets are stored, and MLflow tracking through dagster-mlflow."""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import mlflow
import pandas as pd
from dagster_mlflow.resources import CONFIG_SCHEMA, MlFlow
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from energy_assets import settings
from energy_assets.ingest.reader import DATA_VERSION, combine_versions


class ParquetIOManager(dg.ConfigurableIOManager):
    """Tabular assets as Parquet under ENERGY_HOME/assets: one file per asset, or one per partition.

    A partitioned asset may emit several partitions in one run as {partition_key: DataFrame}; a
    downstream asset gets the partitions it depends on concatenated in key order. Small dict
    outputs (a trained model's summary) are stored as JSON.
    """

    base_dir: str = ""  # empty: ENERGY_HOME/assets, resolved when used

    def _root(self) -> Path:
        return Path(self.base_dir) if self.base_dir else settings.get_settings().asset_dir

    def _path(self, key: dg.AssetKey, partition: str | None, suffix: str) -> Path:
        base = self._root().joinpath(*key.path)
        return base / f"{partition}{suffix}" if partition is not None else base.with_suffix(suffix)

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if obj is None:
            return
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            parts = obj if isinstance(obj, dict) else {keys[0]: obj}
            missing = set(keys) - set(parts)
            if missing:
                raise ValueError(f"{context.asset_key.to_user_string()}: no output for partitions {sorted(missing)}")
            for key in keys:
                self._write(self._path(context.asset_key, key, ".parquet"), parts[key])
            return
        if isinstance(obj, pd.DataFrame):
            self._write(self._path(context.asset_key, None, ".parquet"), obj)
        elif isinstance(obj, dict) and obj and all(isinstance(v, pd.DataFrame) for v in obj.values()):
            for name, frame in obj.items():  # several tables of one asset: a folder, one file each
                self._write(self._path(context.asset_key, None, "") / f"{name}.parquet", frame)
        elif isinstance(obj, dict):
            path = self._path(context.asset_key, None, ".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(obj, indent=2, default=str))
        else:
            raise TypeError(f"{context.asset_key.to_user_string()}: cannot store {type(obj).__name__}")

    @staticmethod
    def _write(path: Path, frame: pd.DataFrame) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own per writer: two runs may write the same unpartitioned asset at once.
        tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.{threading.get_ident()}.tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)  # readers never see half a file

    def load_input(self, context: dg.InputContext):
        key = context.upstream_output.asset_key if context.upstream_output else context.asset_key
        if context.has_asset_partitions:
            paths = [self._path(key, p, ".parquet") for p in sorted(context.asset_partition_keys)]
            absent = [str(p) for p in paths if not p.exists()]
            if absent:
                raise FileNotFoundError(f"{key.to_user_string()}: partitions not materialized: {absent}")
            parts = {p.stem: pd.read_parquet(p) for p in paths}
            frame = pd.concat(list(parts.values()), ignore_index=True)
            frame.attrs = combined_attrs(parts)
            return frame
        parquet = self._path(key, None, ".parquet")
        if parquet.exists():
            return pd.read_parquet(parquet)
        folder = self._path(key, None, "")
        if folder.is_dir() and any(folder.glob("*.parquet")):
            return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
        as_json = self._path(key, None, ".json")
        if as_json.exists():
            return json.loads(as_json.read_text())
        raise FileNotFoundError(f"{key.to_user_string()} has not been materialized under {self._root()}")


def combined_attrs(parts: dict[str, pd.DataFrame]) -> dict:
    """The attrs of partitions read together: their raw data version, one or combined.

    Partitions rebuilt by different runs may come from different raw versions; then the version
    is a hash over each partition's, and `data_versions` lists them.
    """
    versions = {key: part.attrs.get(DATA_VERSION) for key, part in parts.items()}
    known = {k: v for k, v in versions.items() if v}
    if not known:
        return {}
    distinct = set(known.values())
    version = distinct.pop() if len(distinct) == 1 and len(known) == len(versions) else combine_versions(versions)
    return {DATA_VERSION: version, "data_versions": versions}


@dg.resource(
    config_schema=CONFIG_SCHEMA, description="dagster-mlflow's tracking run, with the experiment kept under ENERGY_HOME"
)
def mlflow_tracking(context) -> MlFlow:
    """dagster-mlflow's `mlflow_tracking`, on the store the settings name when the run starts.

    The tracking URI is resolved per run (not when the code location loads), and the experiment is
    created first: dagster-mlflow would give it MLflow's default artifact root (./mlruns in the
    working directory), while the embedded state belongs in ENERGY_HOME.
    """
    settings.ensure_experiment(name=context.resource_config["experiment_name"])  # sets the tracking URI
    return MlFlow(context)


def mlflow_resource() -> dg.ResourceDefinition:
    return mlflow_tracking.configured(
        {
            "experiment_name": settings.EXPERIMENT_NAME,
            "mlflow_tracking_uri": None,  # resolved per run from the settings, see above
        }
    )


@contextmanager
def child_run(tracking: MlFlow, run_name: str, tags: dict[str, str]):
    """An MLflow run for one model, nested under the Dagster run's MLflow run by an explicit parent tag.

    The explicit tag (rather than the fluent run stack) keeps the nesting right even after
    dagster-mlflow's hook has ended the parent run because another step failed.
    """
    client = mlflow.MlflowClient()
    # dagster-mlflow leaves `mlflow_run_id` None in the process that started the parent run, and a
    # tracking server rejects a None tag (a SQL store silently dropped the nesting).
    active = mlflow.active_run()
    parent = tracking.mlflow_run_id or (active.info.run_id if active else tracking._get_current_run_id())
    experiment = tracking.experiment
    if experiment is None:  # dagster-mlflow looks it up right after mlflow.set_experiment created it
        raise dg.Failure(f"MLflow experiment {tracking.experiment_name!r} is missing from {mlflow.get_tracking_uri()}")
    run = client.create_run(
        experiment_id=experiment.experiment_id,
        run_name=run_name,
        tags={**({MLFLOW_PARENT_RUN_ID: parent} if parent else {}), **tags},
    )
    with mlflow.start_run(run_id=run.info.run_id, nested=True) as active:
        yield active
