"""The PostgreSQL stack, started natively on loopback: fresh databases, MLflow, Prefect, Dagster, API.

Where no PostgreSQL answers, these tests skip with the reason, unless CI=true: CI must run them,
so there a missing server fails the run. The server is ENERGY_TEST_POSTGRES_URL (default: the
local trust-auth server, postgresql://postgres@127.0.0.1:5432); it needs the right to create
databases. Every test module gets its own databases (energy_test_<random>_<tool>), dropped after.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from energy_assets.services import dagster_webserver, mlflow_server, prefect_server
from energy_assets.settings import SettingsError, masked

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVER_URL = os.environ.get("ENERGY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
TOOLS = ("dagster", "mlflow", "prefect")


def _connect(database: str = "postgres"):
    import psycopg2

    connection = psycopg2.connect(f"{SERVER_URL}/{database}", connect_timeout=3)
    connection.autocommit = True
    return connection


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server URL, once it answered; skip (or fail under CI=true) when it does not."""
    try:
        _connect().close()
    except Exception as error:  # any reason it cannot be reached: refused, auth, missing driver
        message = f"no PostgreSQL reachable at {masked(SERVER_URL)} (ENERGY_TEST_POSTGRES_URL): {str(error).strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires the PostgreSQL tests to run, but {message}", pytrace=False)
        pytest.skip(message)
    return SERVER_URL


@dataclass
class Databases:
    prefix: str
    names: dict[str, str]

    def url(self, tool: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{SERVER_URL.split('://', 1)[1]}/{self.names[tool]}"

    def query(self, tool: str, sql: str, params: tuple = ()) -> list[tuple]:
        connection = _connect(self.names[tool])
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def databases(postgres_server):
    """Fresh dagster / mlflow / prefect databases for one test module; dropped (connections and all) after."""
    prefix = f"energy_test_{secrets.token_hex(4)}"
    names = {tool: f"{prefix}_{tool}" for tool in TOOLS}
    admin = _connect()
    try:
        with admin.cursor() as cursor:
            for name in names.values():
                cursor.execute(f'CREATE DATABASE "{name}"')
        prefect = _connect(names["prefect"])
        with prefect.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        prefect.close()
        yield Databases(prefix, names)
    finally:
        with admin.cursor() as cursor:
            for name in names.values():
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class BackgroundService:
    """One server process of the stack, its log in a file; stopped (process group and all) by the fixture."""

    name: str
    command: list[str]
    env: dict[str, str]
    health_url: str
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> BackgroundService:
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.health_url, timeout=3) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer {self.health_url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Stack:
    databases: Databases
    home: Path
    env: dict[str, str]
    services: dict[str, BackgroundService]

    def url(self, name: str) -> str:
        """The base URL of a service, e.g. http://127.0.0.1:PORT."""
        return "/".join(self.services[name].health_url.split("/")[:3])


def stack_env(databases: Databases, home: Path, mlflow_port: int, prefect_port: int) -> dict[str, str]:
    """The environment every process of the stack shares: the postgres profile, as the compose file sets it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ENERGY_", "MLFLOW_", "PREFECT_", "DAGSTER_"))
    }
    env.update(
        {
            "ENERGY_PROFILE": "postgres",
            "ENERGY_POSTGRES_URL": SERVER_URL,
            "ENERGY_DAGSTER_DB": databases.names["dagster"],
            "ENERGY_MLFLOW_DB": databases.names["mlflow"],
            "ENERGY_PREFECT_DB": databases.names["prefect"],
            "ENERGY_HOME": str(home),
            "ENERGY_RAW_CSV": str(PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"),
            "DAGSTER_HOME": str(home / "dagster"),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{mlflow_port}",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
            "PREFECT_HOME": str(home / "prefect-client"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "true",
        }
    )
    return env


def write_dagster_home(env: dict[str, str]) -> Path:
    """dagster.yaml on the PostgreSQL database, written by the startup module as the containers do."""
    done = subprocess.run(
        [sys.executable, "-m", "energy_assets.startup", "dagster-home"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise SettingsError(done.stderr)
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def stack(databases, tmp_path_factory):
    """MLflow (PostgreSQL backend, served artifacts), Prefect server (PostgreSQL) and the Dagster webserver.

    The three start in parallel; the fixture returns once each answers its health endpoint.
    """
    home = tmp_path_factory.mktemp("pg-energy-home")
    logs = tmp_path_factory.mktemp("pg-logs")
    ports = {name: free_port() for name in ("mlflow", "prefect", "dagster")}
    env = stack_env(databases, home, ports["mlflow"], ports["prefect"])
    write_dagster_home(env)
    services = {
        "mlflow": BackgroundService(
            "mlflow",
            *mlflow_server(databases.url("mlflow"), str(home / "mlartifacts"), ports["mlflow"], env),
            f"http://127.0.0.1:{ports['mlflow']}/health",
            logs / "mlflow.log",
        ),
        "prefect": BackgroundService(
            "prefect",
            *prefect_server(
                ports["prefect"],
                str(home / "prefect-server"),
                databases.url("prefect", "postgresql+asyncpg"),
                env,
                ui=False,
            ),
            f"http://127.0.0.1:{ports['prefect']}/api/health",
            logs / "prefect.log",
        ),
        "dagster": BackgroundService(
            "dagster",
            dagster_webserver(ports["dagster"]),
            env,
            f"http://127.0.0.1:{ports['dagster']}/server_info",
            logs / "dagster.log",
        ),
    }
    # The daemon dequeues runs submitted to the webserver (QueuedRunCoordinator in the generated
    # dagster.yaml) and launches each in its own process; it has no health endpoint of its own.
    daemon = BackgroundService(
        "dagster-daemon",
        [str(BIN / "dagster-daemon"), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        env,
        services["dagster"].health_url,
        logs / "dagster-daemon.log",
    )
    try:
        for service in [*services.values(), daemon]:
            service.start()
        for service in services.values():
            service.wait_healthy(timeout=120)
        yield Stack(databases, home, env, {**services, "dagster-daemon": daemon})
    finally:
        # In parallel: each may take its grace period to shut down.
        with ThreadPoolExecutor(len(services) + 1) as pool:
            list(pool.map(BackgroundService.stop, [daemon, *services.values()]))


def run_python(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """A Python command of the project in a child process on the stack's environment, bounded in time."""
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
    )
