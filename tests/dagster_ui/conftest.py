"""A `make run`-style Dagster stack: dagster-webserver and dagster-daemon on one instance in a temporary home.

Started once per module, on a free port of 127.0.0.1, with the embedded (SQLite) profile, the
dagster.yaml the settings module writes, and a raw area of its own holding a copy of the bundled
export (the repository's data/raw is never touched). Tests talk to it as the UI does: GraphQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from energy_assets.verify import CheckFailed, check_dagster_daemon
from tests.conftest import BUNDLED_CSV, PROJECT_ROOT
from tests.postgres.conftest import BIN, BackgroundService, free_port, write_dagster_home

LOCATION = {"repositoryLocationName": "energy_assets", "repositoryName": "__repository__"}


def wait_for(condition, timeout: float, what: str, interval: float = 1.0):
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(interval)


@dataclass
class UiStack:
    home: Path
    raw_area: Path
    env: dict[str, str]
    url: str
    webserver: BackgroundService
    daemon: BackgroundService

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]

    @property
    def mlflow_tracking_uri(self) -> str:
        return f"sqlite:///{self.home / 'mlflow.db'}"

    def logs(self) -> str:
        return f"webserver:\n{self.webserver.log_tail()}\n\ndaemon:\n{self.daemon.log_tail()}"


def _daemon_healthy(url: str) -> bool:
    try:
        check_dagster_daemon(url, timeout=10)
        return True
    except (CheckFailed, OSError):
        return False


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory) -> UiStack:
    home = tmp_path_factory.mktemp("ui-energy-home")
    area = home / "raw"
    area.mkdir()
    shutil.copyfile(BUNDLED_CSV, area / BUNDLED_CSV.name)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENERGY_", "MLFLOW_", "DAGSTER_", "PREFECT_"))}
    env.update(
        {
            "ENERGY_PROFILE": "local",
            "ENERGY_HOME": str(home),
            "ENERGY_RAW_CSV": str(area),
            "DAGSTER_HOME": str(home / "dagster"),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    write_dagster_home(env)
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    webserver = BackgroundService(
        "dagster-webserver",
        [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(port)],
        env,
        f"http://127.0.0.1:{port}/server_info",
        home / "webserver.log",
    )
    daemon = BackgroundService(
        "dagster-daemon",
        [str(BIN / "dagster-daemon"), "run", "-w", workspace],
        env,
        webserver.health_url,
        home / "daemon.log",
    )
    stack = UiStack(home, area, env, f"http://127.0.0.1:{port}", webserver, daemon)
    # One process creates the fresh instance's storage first (see services.prepare_dagster_instance).
    prepare = "from energy_assets.services import prepare_dagster_instance; prepare_dagster_instance()"
    subprocess.run([sys.executable, "-c", prepare], env=env, cwd=PROJECT_ROOT, check=True, timeout=300)
    try:
        webserver.start()
        daemon.start()
        webserver.wait_healthy(timeout=180)
        wait_for(
            lambda: daemon.process.poll() is not None or _daemon_healthy(stack.url), 180, "dagster-daemon heartbeat"
        )
        assert daemon.process.poll() is None, stack.logs()
        yield stack
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(BackgroundService.stop, [daemon, webserver]))
