"""`make run`'s second half: start the UIs and services on the embedded state until Ctrl-C.

Each service is one ordinary command of its own tool (dagster-webserver, mlflow server, ...),
started as a child process with the same environment; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from energy_assets import settings as energy_settings
from energy_assets import startup

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Service:
    name: str
    url: str
    command: list[str]
    env: dict[str, str]


def mlflow_server(
    backend_store_uri: str, artifacts_destination: str, port: int, env: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The `mlflow server` command and environment every stack here starts (make run, the PostgreSQL tests, the bench).

    The server proxies artifact uploads to `artifacts_destination`, so clients need no access to it.
    """
    command = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        backend_store_uri,
        "--serve-artifacts",
        "--artifacts-destination",
        artifacts_destination,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # One process instead of sixteen: none of these stacks needs MLflow's job runner.
    return command, {**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def prefect_server(
    port: int, prefect_home: str, database_url: str, env: dict[str, str], *, ui: bool = True
) -> tuple[list[str], dict[str, str]]:
    """The `prefect server start` command and environment of every stack here (make run, the tests, the bench).

    The server gets its own PREFECT_HOME and database; a client's PREFECT_API_URL in `env` is left out.
    """
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server_env = {
        **{k: v for k, v in env.items() if k != "PREFECT_API_URL"},
        "PREFECT_HOME": prefect_home,
        "PREFECT_API_DATABASE_CONNECTION_URL": database_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    if ui:
        server_env["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{port}/api"
    else:
        server_env["PREFECT_UI_ENABLED"] = "false"
    return command, server_env


def dagster_webserver(port: int, *options: str) -> list[str]:
    """The `dagster-webserver` command over the project's workspace on loopback, with extra `options`."""
    workspace = str(energy_settings.PROJECT_ROOT / "workspace.yaml")
    return [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(port), *options]


def prepare_dagster_instance() -> None:
    """Create and migrate the Dagster instance's storage once, before its processes start together.

    On a fresh SQLite instance, a webserver, a daemon and a code server that start at the same time
    each create the schema and stamp its version, which can leave two alembic heads in the
    schedule database; every later start then fails to load the code location.
    """
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()


def services() -> list[Service]:
    current = energy_settings.get_settings()
    startup.ensure_dagster_home(current)
    prepare_dagster_instance()
    startup.ensure_experiment(current)
    base_env = {"DAGSTER_HOME": str(current.dagster_home), "ENERGY_HOME": str(current.home)}
    found = [
        Service(
            "dagster",
            "http://127.0.0.1:3000",
            # Warnings and errors only on the console: events, ticks and runs are in the UI.
            dagster_webserver(3000, "--dagster-log-level", "warning", "--code-server-log-level", "warning"),
            base_env,
        ),
        # Backfills, run monitoring, sensors and the run queue (UI-launched runs are queued) on the
        # same instance as the webserver; its heartbeat shows in the UI and in `make verify`.
        Service(
            "daemon",
            "http://127.0.0.1:3000/deployment/daemons",
            # At INFO it logs every sensor tick (several a minute); the ticks are on the UI's sensor pages.
            [
                str(BIN / "dagster-daemon"),
                "run",
                "-w",
                str(energy_settings.PROJECT_ROOT / "workspace.yaml"),
                "--log-level",
                "warning",
            ],
            base_env,
        ),
        Service(
            "mlflow",
            "http://127.0.0.1:5000",
            *mlflow_server(current.mlflow_tracking_uri, current.mlflow_artifact_root.as_uri(), 5000, base_env),
        ),
        Service(
            "prefect",
            "http://127.0.0.1:4200",
            *prefect_server(4200, str(current.prefect_home), current.prefect_database_url, base_env),
        ),
        # The operational flows as scheduled deployments of that server (waits for it to answer).
        Service(
            "flows",
            "http://127.0.0.1:4200/deployments",
            [sys.executable, "-m", "energy_assets.flows.serve"],
            {**base_env, "PREFECT_HOME": str(current.prefect_home), "PREFECT_API_URL": "http://127.0.0.1:4200/api"},
        ),
        # The prediction service over the champions of the same registry (docs at /docs).
        Service(
            "api",
            "http://127.0.0.1:8000/docs",
            [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", "8000"],
            base_env,
        ),
        # The operator dashboard (Streamlit), over that API.
        Service(
            "dashboard",
            "http://127.0.0.1:8501",
            [sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", "8501"],
            {**base_env, "ENERGY_API_URL": "http://127.0.0.1:8000"},
        ),
    ]
    return found


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)  # names of services to start; none: all
    startup.telemetry_off()  # the services inherit this environment
    started: list[tuple[Service, subprocess.Popen]] = []
    for service in [s for s in services() if not wanted or s.name in wanted]:
        process = subprocess.Popen(service.command, env={**os.environ, **service.env}, cwd=energy_settings.PROJECT_ROOT)
        started.append((service, process))
        print(f"{service.name:>8}: {service.url}  (pid {process.pid})", flush=True)
    print("Ctrl-C stops them all.", flush=True)

    def stop(*_signal_args):
        for _, process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.time() + 15
        for _, process in started:
            try:
                process.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while True:
            for service, process in started:
                if process.poll() is not None:
                    print(f"{service.name} exited with code {process.returncode}; stopping the others", flush=True)
                    stop()
                    return process.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
