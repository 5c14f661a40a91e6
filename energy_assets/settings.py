"""Where state lives: the one module that knows whether the embedded or the PostgreSQL profile runs.

`ENERGY_PROFILE=local` (default): everything under `ENERGY_HOME` (default `.energy/` in the project):
the Dagster instance on SQLite, the MLflow store `mlflow.db` with its artifacts beside it, the
Parquet files of the tabular assets, and the Prefect database.
`ENERGY_PROFILE=postgres`: Dagster, MLflow and Prefect on PostgreSQL databases named by env.
Nothing else in the code knows which profile runs. Free of Dagster imports (the API uses it).

Read-only: every call reads the environment afresh, and nothing here writes a file or the
environment. The side effects of starting up (telemetry defaults, dagster.yaml, the MLflow
experiment, the Celery workers' YAML) and the command line are in `energy_assets.startup`; every
ENERGY_* variable, with its default and meaning, is listed in `energy_assets.config_vars`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from energy_assets.config_vars import SettingsError as SettingsError  # raised here, caught by callers
from energy_assets.config_vars import env, env_choice

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The DVC-tracked raw area: every export in it (*.csv) is read. With only the bundled UCI file in
# it, the data version is that file's DVC md5.
RAW_AREA = PROJECT_ROOT / "data" / "raw"
BUNDLED_EXPORT_NAME = "steel_industry_energy.csv"
DEFAULT_RAW_SOURCE = RAW_AREA
EXPERIMENT_NAME = "energy-copilot"
ESTIMATOR_MODEL_NAME = "energy-usage-estimator"
FORECASTER_MODEL_NAME = "energy-day-ahead-forecaster"
CHAMPION_ALIAS = "champion"
PROFILES = ("local", "postgres")
# Where a Dagster run's steps execute: in the run's own process (default), or as tasks on
# dagster-celery workers. Independent of the storage profile and of the partitioning.
EXECUTORS = ("in_process", "celery")


# Tracking URIs this module derived itself. mlflow.set_tracking_uri() writes its argument back to
# the MLFLOW_TRACKING_URI env var, so an env value found here is MLflow's echo, not a user override.
_DERIVED_TRACKING_URIS: set[str] = set()


@dataclass(frozen=True)
class CeleryEngine:
    """The Celery side of ENERGY_EXECUTOR=celery: where steps are queued and their results kept.

    The run (which submits steps) and every worker (which executes them) must agree on all three,
    so both read them from here: the executor in definitions.py, the workers' YAML from
    `startup.celery_worker_config()`.
    """

    broker: str  # ENERGY_CELERY_BROKER
    backend: str  # ENERGY_CELERY_BACKEND
    queue: str  # ENERGY_CELERY_QUEUE

    def executor_config(self) -> dict:
        """The dagster-celery executor config (also the `execution.config` block the workers read)."""
        return {
            "broker": self.broker,
            "backend": self.backend,
            # One step per worker process at a time, taken when it starts: an idle worker gets the
            # next ready step instead of it waiting behind a busy worker's prefetched one.
            "config_source": {"task_default_queue": self.queue, "worker_prefetch_multiplier": 1},
        }


@dataclass(frozen=True)
class Settings:
    profile: str
    home: Path
    raw_source: Path
    mlflow_tracking_uri: str
    postgres_url: str | None
    executor: str = "in_process"  # ENERGY_EXECUTOR
    celery: CeleryEngine | None = None  # set when executor == "celery"
    prefect_work_pool: str | None = None  # ENERGY_PREFECT_WORK_POOL: flows run by `prefect worker`, not `serve`

    @property
    def raw_area(self) -> Path:
        """The folder exports are dropped into: the raw source if it is a folder, else the folder of that file."""
        return folder_of(self.raw_source)

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def asset_dir(self) -> Path:
        """Parquet files of the tabular assets: one file per asset or per partition."""
        return self.home / "assets"

    @property
    def mlflow_artifact_root(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def prefect_database_url(self) -> str:
        if self.profile == "postgres":
            return _database_url(self.postgres_url, env("ENERGY_PREFECT_DB") or "", "postgresql+asyncpg")
        return f"sqlite+aiosqlite:///{self.prefect_home / 'prefect.db'}"

    @property
    def mlflow_backend_store_uri(self) -> str:
        """The store `mlflow server` runs on (the tracking URI may instead be that server's http URL)."""
        if self.profile == "postgres":
            return _database_url(self.postgres_url, env("ENERGY_MLFLOW_DB") or "")
        return f"sqlite:///{self.home / 'mlflow.db'}"

    def dagster_storage_config(self) -> dict:
        """The `storage` section of dagster.yaml for this profile."""
        if self.profile == "postgres":
            return {"postgres": {"postgres_url": _database_url(self.postgres_url, env("ENERGY_DAGSTER_DB") or "")}}
        return {"sqlite": {"base_dir": str(self.dagster_home / "storage")}}


def folder_of(raw_source: Path) -> Path:
    """The folder exports are dropped into: `raw_source` if it is a folder, else the folder of that file."""
    return raw_source if raw_source.is_dir() else raw_source.parent


# SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the pinned driver is psycopg2-binary.
SYNC_DRIVER = "postgresql+psycopg2"


def _database_url(server_url: str | None, database: str, driver: str = SYNC_DRIVER) -> str:
    """The URL of one database on the ENERGY_POSTGRES_URL server, with the driver a tool expects."""
    if not server_url:
        raise SettingsError("ENERGY_PROFILE=postgres needs ENERGY_POSTGRES_URL (e.g. postgresql://user:pass@host:5432)")
    base = server_url.rstrip("/")
    scheme, separator, rest = base.partition("://")
    if not separator or not scheme.startswith("postgres") or not rest:
        raise SettingsError(
            f"ENERGY_POSTGRES_URL must look like postgresql://user:pass@host:5432, got {masked(server_url)!r}"
        )
    if "/" in rest:
        raise SettingsError(
            f"ENERGY_POSTGRES_URL names the server only (no database path), got {masked(server_url)!r}; "
            "the databases come from ENERGY_DAGSTER_DB, ENERGY_MLFLOW_DB and ENERGY_PREFECT_DB"
        )
    if not database:
        raise SettingsError("ENERGY_DAGSTER_DB, ENERGY_MLFLOW_DB and ENERGY_PREFECT_DB must not be empty")
    return f"{driver}://{rest}/{database}"


def masked(url: str) -> str:
    """A URL with its password replaced, for messages and logs."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def get_settings() -> Settings:
    """Settings from the environment, read afresh on every call (tests change ENERGY_HOME)."""
    profile = env_choice("ENERGY_PROFILE", PROFILES)
    home = Path(env("ENERGY_HOME", str(PROJECT_ROOT / ".energy")) or "").resolve()
    raw_source = Path(env("ENERGY_RAW_CSV", str(DEFAULT_RAW_SOURCE)) or "")
    postgres_url = env("ENERGY_POSTGRES_URL")
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri or tracking_uri in _DERIVED_TRACKING_URIS:
        if profile == "postgres":
            tracking_uri = _database_url(postgres_url, env("ENERGY_MLFLOW_DB") or "")
        else:
            tracking_uri = f"sqlite:///{home / 'mlflow.db'}"  # absolute path: four slashes in all
        _DERIVED_TRACKING_URIS.add(tracking_uri)
    executor = env_choice("ENERGY_EXECUTOR", EXECUTORS)
    return Settings(
        profile=profile,
        home=home,
        raw_source=raw_source,
        mlflow_tracking_uri=tracking_uri,
        postgres_url=postgres_url,
        executor=executor,
        celery=_celery_engine() if executor == "celery" else None,
        prefect_work_pool=env("ENERGY_PREFECT_WORK_POOL") or None,
    )


def _celery_engine() -> CeleryEngine:
    engine = CeleryEngine(
        broker=env("ENERGY_CELERY_BROKER") or "",
        backend=env("ENERGY_CELERY_BACKEND") or "",
        queue=env("ENERGY_CELERY_QUEUE") or "",
    )
    for key, value, schemes in (
        ("ENERGY_CELERY_BROKER", engine.broker, ("amqp", "pyamqp", "redis", "rediss")),
        ("ENERGY_CELERY_BACKEND", engine.backend, ("redis", "rediss", "rpc", "db+postgresql", "db+sqlite")),
    ):
        if value.partition("://")[0] not in schemes:
            raise SettingsError(f"{key}={masked(value)!r} must be a URL with a scheme in {list(schemes)}")
    if not engine.queue.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise SettingsError(f"ENERGY_CELERY_QUEUE={engine.queue!r} must be letters, digits, '-', '_' or '.'")
    return engine
