"""Starting up: the side effects every entry point needs before it reads or writes state.

`energy_assets.settings` only reads; this module acts on what it reads: telemetry defaults in the
environment (`telemetry_off`), the Dagster instance's dagster.yaml (`ensure_dagster_home`), the
MLflow experiment with its artifacts under ENERGY_HOME (`ensure_experiment`), the Celery workers'
YAML (`celery_worker_config`), and the command line `python -m energy_assets.startup`. Entry
points (make targets, containers, the code location, the API) call what they need.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from energy_assets.config_vars import env
from energy_assets.settings import EXPERIMENT_NAME, Settings, SettingsError, get_settings, masked

# Telemetry off by default everywhere this code runs (a user may still override each one).
TELEMETRY_DEFAULTS = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def telemetry_off() -> None:
    """Set each telemetry switch to off unless the environment already sets it."""
    for key, value in TELEMETRY_DEFAULTS.items():
        os.environ.setdefault(key, value)


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

    path = env("ENERGY_DAGSTER_INSTANCE_EXTRA")
    if not path:
        return {}
    try:
        extra = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SettingsError(f"ENERGY_DAGSTER_INSTANCE_EXTRA={path!r} is not a readable YAML file: {error}") from error
    if not isinstance(extra, dict):
        raise SettingsError(f"ENERGY_DAGSTER_INSTANCE_EXTRA={path!r} must hold a mapping of dagster.yaml sections")
    return extra


def ensure_experiment(
    settings: Settings | None = None, name: str = EXPERIMENT_NAME, tracking_uri: str | None = None
) -> str:
    """Create the MLflow experiment with its artifacts under ENERGY_HOME (local stores), return its id.

    Points the process's MLflow at `tracking_uri` (default: the settings' tracking URI) first.
    """
    import mlflow

    settings = settings or get_settings()
    tracking_uri = tracking_uri or settings.mlflow_tracking_uri
    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_location = None
    if tracking_uri.startswith(("sqlite:", "postgresql")) or "://" not in tracking_uri:
        settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
        artifact_location = settings.mlflow_artifact_root.as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def main(argv: list[str] | None = None) -> int:
    """`python -m energy_assets.startup [show|dagster-home|celery-config]`: print the backends, or
    write dagster.yaml, or write the Celery workers' YAML.

    Containers run `dagster-home` before their command, so the dagster.yaml they read always comes
    from this module and the environment (no hand-kept copy per deployment); Celery workers are
    started on the YAML `celery-config` writes, so they listen where the runs submit.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m energy_assets.startup", description=main.__doc__)
    parser.add_argument("command", nargs="?", default="show", choices=["show", "dagster-home", "celery-config"])
    args = parser.parse_args(argv)
    telemetry_off()
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
