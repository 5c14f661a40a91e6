"""A Prefect worker takes a flow run from a process work pool and completes it.

`python -m energy_assets.flows.serve` with ENERGY_PREFECT_WORK_POOL set (as `make run` and the
compose `flows` service start it in the team setup) registers the deployments on a process work
pool, by module path, and becomes `prefect worker start --pool`. A run of the `ingest/on-demand`
deployment created through the server's API must be picked up by that worker, executed in a
process of its own, and complete; the Dagster run the flow started records that process's pid.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.engines.conftest import engine_env
from tests.flows.conftest import dvc_project
from tests.postgres.conftest import BackgroundService, free_port

pytestmark = [pytest.mark.workers, pytest.mark.timeout(900)]

POOL = "energy-test-process"
MONTH = "2018-12"


def _api(base: str, path: str, body: dict | None = None, attempts: int = 6):
    """One call of the server's REST API, retried on 503 as Prefect's own client does.

    On SQLite the server answers 503 while its database is locked by another writer (the worker's
    heartbeats, the deployment registration); the client in `prefect` retries those, so this does too.
    """
    for attempt in range(attempts):
        request = urllib.request.Request(
            f"{base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
            method="POST" if body is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 503 or attempt == attempts - 1:
                raise
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def pool_worker(tmp_path_factory):
    """A Prefect server (SQLite, free port) and `energy_assets.flows.serve` on a process pool; both stopped after."""
    import sys

    home = tmp_path_factory.mktemp("prefect-worker-home")
    area = dvc_project(home / "project")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = BackgroundService(
        "prefect",
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        engine_env(
            home,
            PREFECT_HOME=str(home / "prefect-server"),
            PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            PREFECT_UI_ENABLED="false",
        ),
        f"{api}/health",
        home / "prefect-server.log",
    )
    env = engine_env(
        home,
        ENERGY_RAW_CSV=str(area),
        ENERGY_PREFECT_WORK_POOL=POOL,
        PREFECT_API_URL=api,
        PREFECT_HOME=str(home / "prefect-client"),
        PREFECT_WORKER_QUERY_SECONDS="2",  # poll the pool every 2 s instead of 10
    )
    worker = BackgroundService(
        "flows", [sys.executable, "-m", "energy_assets.flows.serve"], env, f"{api}/health", home / "worker.log"
    )
    try:
        server.start().wait_healthy(timeout=180)
        worker.start()
        yield api, worker, home
    finally:
        worker.stop()
        server.stop()


def _deployment_id(api: str, worker: BackgroundService, timeout: float = 300) -> str:
    """The ingest deployment's id, once serve registered it on the pool and became the pool's worker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log_tail()}"
        try:
            online = _api(api, f"/work_pools/{POOL}/workers/filter", {})
        except urllib.error.HTTPError as error:
            if error.code != 404:  # 404: serve has not created the pool yet
                raise
            online = []
        if any(w["status"] == "ONLINE" for w in online):
            return _api(api, "/deployments/name/ingest/on-demand")["id"]
        time.sleep(1)
    raise TimeoutError(f"no ONLINE worker on pool {POOL} within {timeout:.0f} s:\n{worker.log_tail()}")


def test_a_prefect_worker_runs_a_deployment_from_the_process_pool(pool_worker):
    import dagster as dg

    api, worker, home = pool_worker
    deployment = _deployment_id(api, worker)
    described = _api(api, f"/deployments/{deployment}")
    assert described["work_pool_name"] == POOL
    assert described["entrypoint"] == "energy_assets.flows.ingest.ingest"  # by module path: no source to pull
    assert _api(api, f"/work_pools/{POOL}")["type"] == "process"
    flow_run = _api(api, f"/deployments/{deployment}/create_flow_run", {"parameters": {"export": MONTH}})
    deadline = time.monotonic() + 600
    while True:
        state = _api(api, f"/flow_runs/{flow_run['id']}")
        if state["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert state["state_type"] == "COMPLETED", (
        f"{state['state_type']}: {state['state']['message']}\n{worker.log_tail(60)}"
    )
    assert state["work_pool_name"] == POOL
    # The worker ran the flow in a process of its own (the process worker records its pid), not in itself.
    flow_pid = (state["infrastructure_pid"] or "").rsplit(":", 1)[-1]
    assert flow_pid.isdigit() and int(flow_pid) != worker.process.pid, state["infrastructure_pid"]
    # That process drove Dagster: the ingest run (in-process here) names it, and succeeded.
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    (run,) = instance.get_runs(filters=dg.RunsFilter(job_name="ingest_month"))
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["energy/process_pid"] == flow_pid
