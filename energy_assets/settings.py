"""Where state lives: the one module that knows whether the embedded or the PostgreSQL profile runs.

`ENERGY_PROFILE=local` (default): everything under `ENERGY_HOME` (default `.energy/` in the project):
the Dagster instance on SQLite, the MLflow store `mlflow.db` with its artifacts beside it, the
Parquet files of the tabular assets, and the Prefect database.
`ENERGY_PROFILE=postgres`: Dagster, MLflow and Prefect on PostgreSQL databases named by env.
Nothing else in the code knows which profile runs. Free of Dagster imports (the API uses it).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

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
DEFAULT_CELERY_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_CELERY_BACKEND = "redis://127.0.0.1:6379/0"
DEFAULT_CELERY_QUEUE = "dagster"

# Telemetry off by default everywhere this code runs (a user may still override each one).
for _key, _value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}.items():
    os.environ.setdefault(_key, _value)


# Tracking URIs this module derived itself. mlflow.set_tracking_uri() writes its argument back to
# the MLFLOW_TRACKING_URI env var, so an env value found here is MLflow's echo, not a user override.
_DERIVED_TRACKING_URIS: set[str] = set()


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class CeleryEngine:
    """The Celery side of ENERGY_EXECUTOR=celery: where steps are queued and their results kept.

    The run (which submits steps) and every worker (which executes them) must agree on all three,
    so both read them from here: the executor in definitions.py, the workers' YAML from
    `celery_worker_config()`.
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
        return self.raw_source if self.raw_source.is_dir() else self.raw_source.parent

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
            return _database_url(
                self.postgres_url, os.environ.get("ENERGY_PREFECT_DB", "prefect"), "postgresql+asyncpg"
            )
        return f"sqlite+aiosqlite:///{self.prefect_home / 'prefect.db'}"

    @property
    def mlflow_backend_store_uri(self) -> str:
        """The store `mlflow server` runs on (the tracking URI may instead be that server's http URL)."""
        if self.profile == "postgres":
            return _database_url(self.postgres_url, os.environ.get("ENERGY_MLFLOW_DB", "mlflow"))
        return f"sqlite:///{self.home / 'mlflow.db'}"

    def dagster_storage_config(self) -> dict:
        """The `storage` section of dagster.yaml for this profile."""
        if self.profile == "postgres":
            return {
                "postgres": {
                    "postgres_url": _database_url(self.postgres_url, os.environ.get("ENERGY_DAGSTER_DB", "dagster"))
                }
            }
        return {"sqlite": {"base_dir": str(self.dagster_home / "storage")}}


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
    profile = os.environ.get("ENERGY_PROFILE", "local")
    if profile not in PROFILES:
        raise SettingsError(f"ENERGY_PROFILE={profile!r} is not one of {list(PROFILES)}")
    home = Path(os.environ.get("ENERGY_HOME", PROJECT_ROOT / ".energy")).resolve()
    raw_source = Path(os.environ.get("ENERGY_RAW_CSV", DEFAULT_RAW_SOURCE))
    postgres_url = os.environ.get("ENERGY_POSTGRES_URL")
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri or tracking_uri in _DERIVED_TRACKING_URIS:
        if profile == "postgres":
            tracking_uri = _database_url(postgres_url, os.environ.get("ENERGY_MLFLOW_DB", "mlflow"))
        else:
            tracking_uri = f"sqlite:///{home / 'mlflow.db'}"  # absolute path: four slashes in all
        _DERIVED_TRACKING_URIS.add(tracking_uri)
    executor = os.environ.get("ENERGY_EXECUTOR", "in_process")
    if executor not in EXECUTORS:
        raise SettingsError(f"ENERGY_EXECUTOR={executor!r} is not one of {list(EXECUTORS)}")
    return Settings(
        profile=profile,
        home=home,
        raw_source=raw_source,
        mlflow_tracking_uri=tracking_uri,
        postgres_url=postgres_url,
        executor=executor,
        celery=_celery_engine() if executor == "celery" else None,
        prefect_work_pool=os.environ.get("ENERGY_PREFECT_WORK_POOL") or None,
    )


def _celery_engine() -> CeleryEngine:
    engine = CeleryEngine(
        broker=os.environ.get("ENERGY_CELERY_BROKER", DEFAULT_CELERY_BROKER),
        backend=os.environ.get("ENERGY_CELERY_BACKEND", DEFAULT_CELERY_BACKEND),
        queue=os.environ.get("ENERGY_CELERY_QUEUE", DEFAULT_CELERY_QUEUE),
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


def celery_worker_config(settings: Settings | None = None) -> Path:
    """Write the YAML `dagster-celery worker start -y` reads (the executor's config, from the env) and return it."""
    import yaml

    settings = settings or get_settings()
    if settings.celery is None:
        raise SettingsError("Celery workers need ENERGY_EXECUTOR=celery (and ENERGY_CELERY_BROKER / _BACKEND / _QUEUE)")
    target = settings.home / "celery" / f"{settings.celery.queue}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({"execution": {"config": settings.celery.executor_config()}}, sort_keys=False))
    return target


# Run monitoring, done by dagster-daemon (`make run`, the compose stack). Dagster's default run
# launcher cannot ask a run worker's health, so the limits are these, measured in docs/architecture.md:
# - a launched run whose worker process dies is marked failed by its code server within a second;
# - a run stuck starting (or cancelling) is marked failed (canceled) after 180 s, checked every 30 s;
# - an in-process run (`make pipeline`, embedded flows) whose process died is closed by the sensor
#   `close_orphaned_runs` (every 30 s while the daemon runs) or by the next pipeline or flow start.
RUN_MONITORING = {
    "enabled": True,
    "start_timeout_seconds": 180,
    "cancel_timeout_seconds": 180,
    "poll_interval_seconds": 30,
}


def ensure_dagster_home(settings: Settings | None = None) -> Path:
    """Create DAGSTER_HOME with a dagster.yaml for the profile, point the env at it, and return it."""
    import yaml

    settings = settings or get_settings()
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = {
        "storage": settings.dagster_storage_config(),
        "telemetry": {"enabled": False},
        "run_monitoring": RUN_MONITORING,
    }
    if settings.profile == "postgres":
        # A team stack runs dagster-daemon, which dequeues runs and caps their concurrency.
        config["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"}
    config.update(_instance_extra())
    target = home / "dagster.yaml"
    text = yaml.safe_dump(config, sort_keys=False)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _instance_extra() -> dict:
    """Top-level dagster.yaml sections from the file ENERGY_DAGSTER_INSTANCE_EXTRA names, e.g. a
    `run_launcher` (K8sRunLauncher) or `compute_logs` (S3) when the stack scales out; each replaces
    the generated section of the same name (docs/deployment.md)."""
    import yaml

    path = os.environ.get("ENERGY_DAGSTER_INSTANCE_EXTRA")
    if not path:
        return {}
    try:
        extra = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SettingsError(f"ENERGY_DAGSTER_INSTANCE_EXTRA={path!r} is not a readable YAML file: {error}") from error
    if not isinstance(extra, dict):
        raise SettingsError(f"ENERGY_DAGSTER_INSTANCE_EXTRA={path!r} must hold a mapping of dagster.yaml sections")
    return extra


def ensure_experiment(settings: Settings | None = None, name: str = EXPERIMENT_NAME) -> str:
    """Create the MLflow experiment with its artifacts under ENERGY_HOME (local stores), return its id."""
    import mlflow

    settings = settings or get_settings()
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_location = None
    if settings.mlflow_tracking_uri.startswith(("sqlite:", "postgresql")) or "://" not in settings.mlflow_tracking_uri:
        settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
        artifact_location = settings.mlflow_artifact_root.as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def main(argv: list[str] | None = None) -> int:
    """`python -m energy_assets.settings [show|dagster-home|celery-config]`: print the backends, or
    write dagster.yaml, or write the Celery workers' YAML.

    Containers run `dagster-home` before their command, so the dagster.yaml they read always comes
    from this module and the environment (no hand-kept copy per deployment); Celery workers are
    started on the YAML `celery-config` writes, so they listen where the runs submit.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m energy_assets.settings", description=main.__doc__)
    parser.add_argument("command", nargs="?", default="show", choices=["show", "dagster-home", "celery-config"])
    args = parser.parse_args(argv)
    try:
        current = get_settings()
        if args.command == "dagster-home":
            print(ensure_dagster_home(current) / "dagster.yaml")
            return 0
        if args.command == "celery-config":
            print(celery_worker_config(current))
            return 0
        print(f"profile        {current.profile}")
        print(f"ENERGY_HOME    {current.home}")
        print(f"raw source     {current.raw_source}")
        print(f"mlflow         {masked(current.mlflow_tracking_uri)}")
        storage = current.dagster_storage_config()
        print(
            "dagster        "
            f"{masked(storage['postgres']['postgres_url']) if 'postgres' in storage else storage['sqlite']['base_dir']}"
        )
        print(f"prefect        {masked(current.prefect_database_url)}")
        if current.celery is not None:
            print(
                f"executor       celery: broker {masked(current.celery.broker)}, backend "
                f"{masked(current.celery.backend)}, queue {current.celery.queue}"
            )
        else:
            print(f"executor       {current.executor}")
        print(
            "flows run by   "
            + (
                f"prefect worker, pool {current.prefect_work_pool}"
                if current.prefect_work_pool
                else "serve (one process)"
            )
        )
    except SettingsError as error:
        print(f"settings error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
