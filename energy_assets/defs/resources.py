"""Resources: everything outside the process an asset, check or sensor touches, as a typed parameter.

- `RawSource`: the raw exports (a CSV file or a folder of them) and their source map;
- `AssetStore`: the folder of the stored assets (ENERGY_HOME/assets);
- `ModelRegistry`: the MLflow tracking store and model registry, with a `client()`;
- `MlflowTracking`: dagster-mlflow's tracking run (the `mlflow` resource its end_mlflow_on_run_finished
  hook ends), created on the registry's store with the experiment kept under ENERGY_HOME;
- `ParquetIOManager`: tabular assets as Parquet in the asset store.

Every field left empty resolves from `energy_assets.settings` when it is used, not when the code
location loads: a test or a flow that changes ENERGY_HOME between runs gets the new place.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import mlflow
import pandas as pd
from dagster_mlflow.resources import MlFlow
from mlflow.entities import RunStatus
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from pydantic import Field, PrivateAttr

from energy_assets import settings, startup
from energy_assets.config_vars import env
from energy_assets.ingest.reader import DATA_VERSION, combine_versions


class RawSource(dg.ConfigurableResource):
    """The raw exports `raw_readings` reads and the sensor watches."""

    path: str = Field(
        default="", description="CSV export or folder of exports. Empty: env ENERGY_RAW_CSV, else data/raw/."
    )
    source_map: str = Field(
        default="",
        description="YAML source map of the exports' shape. Empty: env ENERGY_SOURCE_MAP, else the UCI export's.",
    )

    def source(self) -> Path:
        return Path(self.path) if self.path else settings.get_settings().raw_source

    def area(self) -> Path:
        """The folder exports are dropped into (the sensor's)."""
        return settings.folder_of(self.source())

    def map_path(self) -> str:
        return self.source_map or env("ENERGY_SOURCE_MAP") or ""


class AssetStore(dg.ConfigurableResource):
    """The folder of the stored assets: Parquet tables and the JSON beside them (drift summaries)."""

    base_dir: str = Field(default="", description="Empty: ENERGY_HOME/assets.")

    def root(self) -> Path:
        return Path(self.base_dir) if self.base_dir else settings.get_settings().asset_dir


class ModelRegistry(dg.ConfigurableResource):
    """The MLflow tracking store and model registry the models are registered in and promoted on."""

    tracking_uri: str = Field(
        default="", description="Empty: MLFLOW_TRACKING_URI, else the store the settings derive (ENERGY_HOME)."
    )

    def uri(self) -> str:
        return self.tracking_uri or settings.get_settings().mlflow_tracking_uri

    def client(self) -> mlflow.MlflowClient:
        uri = self.uri()
        return mlflow.MlflowClient(uri, registry_uri=uri)


class MlflowTracking(dg.ConfigurableResource):
    """dagster-mlflow's tracking run (`MlFlow`) on the registry's store, under resource key `mlflow`.

    The experiment is created first, when a step starts: dagster-mlflow would give it MLflow's
    default artifact root (./mlruns in the working directory), while the embedded state belongs in
    ENERGY_HOME. dagster-mlflow's `end_mlflow_on_run_finished` hook (on the jobs that train) calls
    `end_run` on this resource after the job's last step, or with FAILED after a failed step.
    """

    registry: ModelRegistry
    experiment_name: str = Field(default=settings.EXPERIMENT_NAME, description="MLflow experiment of the runs.")
    _run: MlFlow | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        startup.ensure_experiment(name=self.experiment_name, tracking_uri=self.registry.uri())  # sets the URI
        # MlFlow reads a legacy resource context: this one, with dagster-mlflow's own config keys.
        legacy = SimpleNamespace(
            log=context.log,
            dagster_run=context.dagster_run,
            run_id=context.run_id,
            resource_config={
                "experiment_name": self.experiment_name,
                "mlflow_tracking_uri": None,  # set above, per run
                "parent_run_id": None,
                "mlflow_run_id": None,
                "env": {},
                "env_to_tag": None,
                "extra_tags": {},
            },
        )
        self._run = MlFlow(legacy)

    @property
    def run(self) -> MlFlow:
        if self._run is None:
            raise dg.Failure("the mlflow resource was not set up for this step")
        return self._run

    def end_run(self, status: str = RunStatus.to_string(RunStatus.FINISHED)) -> None:
        """End the Dagster run's MLflow run (what dagster-mlflow's hook calls)."""
        mlflow.end_run(status=status)  # what MlFlow.end_run is (dagster-mlflow forwards mlflow's functions)


class ParquetIOManager(dg.ConfigurableIOManager):
    """Tabular assets as Parquet under ENERGY_HOME/assets: one file per asset, or one per partition.

    A partitioned asset may emit several partitions in one run as {partition_key: DataFrame}; a
    downstream asset gets the partitions it depends on concatenated in key order. Small dict
    outputs (a trained model's summary) are stored as JSON.
    """

    base_dir: str = ""  # empty: ENERGY_HOME/assets, resolved when used

    def _root(self) -> Path:
        return AssetStore(base_dir=self.base_dir).root()

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


def resources() -> dict[str, object]:
    """The code location's resources; empty fields resolve from the settings when used (see above)."""
    registry = ModelRegistry()
    return {
        "io_manager": ParquetIOManager(),
        "raw_source": RawSource(),
        "asset_store": AssetStore(),
        "model_registry": registry,
        "mlflow": MlflowTracking(registry=registry),
    }


@contextmanager
def child_run(tracking: MlflowTracking, run_name: str, tags: dict[str, str]):
    """An MLflow run for one model, nested under the Dagster run's MLflow run by an explicit parent tag.

    The explicit tag (rather than the fluent run stack) keeps the nesting right even after
    dagster-mlflow's hook has ended the parent run because another step failed.
    """
    client = mlflow.MlflowClient()
    parent_run = tracking.run
    # dagster-mlflow leaves `mlflow_run_id` None in the process that started the parent run, and a
    # tracking server rejects a None tag (a SQL store silently dropped the nesting).
    active = mlflow.active_run()
    parent = parent_run.mlflow_run_id or (active.info.run_id if active else parent_run._get_current_run_id())
    experiment = parent_run.experiment
    if experiment is None:  # dagster-mlflow looks it up right after mlflow.set_experiment created it
        raise dg.Failure(
            f"MLflow experiment {parent_run.experiment_name!r} is missing from {mlflow.get_tracking_uri()}"
        )
    run = client.create_run(
        experiment_id=experiment.experiment_id,
        run_name=run_name,
        tags={**({MLFLOW_PARENT_RUN_ID: parent} if parent else {}), **tags},
    )
    with mlflow.start_run(run_id=run.info.run_id, nested=True) as active:
        yield active
