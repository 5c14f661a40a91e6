"""`make workers`: Celery workers for Dagster steps (and a Prefect worker for the flows' pool), until Ctrl-C.

Each Dagster worker is dagster-celery's own command,
`dagster-celery worker start -A dagster_celery.app -y YAML -q QUEUE -n NAME -- --concurrency C`,
on the YAML `python -m energy_assets.startup celery-config` writes from ENERGY_CELERY_BROKER,
ENERGY_CELERY_BACKEND and ENERGY_CELERY_QUEUE, so the workers listen where runs with
ENERGY_EXECUTOR=celery submit their steps. Steps read and write the same Dagster instance
(DAGSTER_HOME), Parquet store (ENERGY_HOME/assets) and MLflow store as the run: on one machine
that is ENERGY_HOME; across machines, the PostgreSQL profile and a shared volume
(docs/deployment.md). With ENERGY_PREFECT_WORK_POOL set, one `prefect worker` on that pool runs
beside them (PREFECT_API_URL names the server).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from energy_assets import config_vars, startup
from energy_assets import settings as energy_settings
from energy_assets.services import prepare_dagster_instance

WORKER_PRELOAD = "energy_assets.defs.celery_worker"

BIN = Path(sys.executable).parent


def celery_commands(count: int, concurrency: int, name: str, current: energy_settings.Settings) -> list[list[str]]:
    """One `dagster-celery worker start` command per worker, on the settings' broker, backend and queue."""
    config = startup.celery_worker_config(current)
    assert current.celery is not None  # celery_worker_config raised otherwise
    return [
        [
            str(BIN / "dagster-celery"),
            "worker",
            "start",
            "-A",
            "dagster_celery.app",
            "-y",
            str(config),
            "-q",
            current.celery.queue,
            "-n",
            f"{name}{index}",
            "--loglevel",
            "INFO",
            # Imported once by the worker's main process, so each pool process forks with the code
            # location loaded instead of importing it (seconds) per step.
            "-i",
            WORKER_PRELOAD,
            # after `--`: celery's own worker options. One step per pool process, then a fresh one:
            # MLflow's active-run stack (dagster-mlflow's resource) is process state, and a step of
            # one Dagster run must not find the MLflow run of another run's step still active.
            "--",
            "--concurrency",
            str(concurrency),
            "--max-tasks-per-child",
            "1",
            "--without-gossip",
            "--without-mingle",
        ]
        for index in range(1, count + 1)
    ]


def worker_env(current: energy_settings.Settings) -> dict[str, str]:
    """The workers' environment: this one, with the Dagster home and `celery` (called by name) on PATH."""
    return {
        **os.environ,
        "DAGSTER_HOME": str(current.dagster_home),
        "ENERGY_HOME": str(current.home),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def main(argv: list[str] | None = None) -> int:
    startup.telemetry_off()  # the workers inherit this environment
    parser = argparse.ArgumentParser(prog="python -m energy_assets.workers", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count",
        type=int,
        default=int(config_vars.env("ENERGY_CELERY_WORKERS") or 2),
        help="Celery workers (env ENERGY_CELERY_WORKERS, default 2)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="steps each worker runs at once (processes of its pool)"
    )
    parser.add_argument("--name", default="energy-worker-", help="worker name prefix (celery adds @host)")
    args = parser.parse_args(argv)
    os.environ.setdefault("ENERGY_EXECUTOR", "celery")  # workers exist for the Celery executor
    try:
        current = energy_settings.get_settings()
        if current.celery is None:
            raise energy_settings.SettingsError(
                f"ENERGY_EXECUTOR={current.executor!r}: Celery workers need ENERGY_EXECUTOR=celery"
            )
        startup.ensure_dagster_home(current)
        prepare_dagster_instance()  # once, before the workers open it together (see there)
    except energy_settings.SettingsError as error:
        print(f"settings error: {error}", file=sys.stderr)
        return 2
    commands = [
        (f"{args.name}{i + 1}", c)
        for i, c in enumerate(celery_commands(args.count, args.concurrency, args.name, current))
    ]
    if current.prefect_work_pool:
        from energy_assets.flows.serve import worker_command

        commands.append((f"prefect-worker ({current.prefect_work_pool})", worker_command(current.prefect_work_pool)))
    env = worker_env(current)
    started = []
    for name, command in commands:
        # A session of its own: `dagster-celery worker start` runs `celery worker` as its child, so
        # signals go to the whole group, and stopping waits until every process of it is gone.
        process = subprocess.Popen(command, env=env, cwd=energy_settings.PROJECT_ROOT, start_new_session=True)
        started.append((name, process))
        print(f"{name}: pid {process.pid}", flush=True)
    print(
        f"queue {current.celery.queue} on {energy_settings.masked(current.celery.broker)}, results in "
        f"{energy_settings.masked(current.celery.backend)}; Ctrl-C stops them all.",
        flush=True,
    )

    def _terminate(*_) -> None:
        stop_groups([p for _, p in started])
        sys.exit(0)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        while True:
            for name, process in started:
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; stopping the others", flush=True)
                    stop_groups([p for _, p in started])
                    return process.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        stop_groups([p for _, p in started])
    return 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(processes: list[subprocess.Popen], grace: float = 60) -> None:
    """SIGTERM each worker's process group, SIGKILL after `grace` s.

    SIGTERM is celery's warm shutdown: a running step may finish.
    """
    groups = []
    for process in processes:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGTERM)
            groups.append(process.pid)
    deadline = time.monotonic() + grace
    while groups and time.monotonic() < deadline:
        for process in processes:
            process.poll()  # reap the group leaders
        groups = [g for g in groups if _group_alive(g)]
        time.sleep(0.2)
    for pgid in groups:
        os.killpg(pgid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
