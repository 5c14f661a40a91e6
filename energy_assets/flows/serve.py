"""`make flows`: the operational flows as deployments of the Prefect server, with their schedules.

retrain Sundays 03:00, monitor_drift Mondays 09:00; ingest, simulate_drift and
verify_reproducibility have no schedule (run them from the Prefect UI or `prefect deployment
run`). Waits for the Prefect API (PREFECT_API_URL, default the embedded server of `make run` on
:4200) before registering, since both start together.

Two ways to run them, chosen by ENERGY_PREFECT_WORK_POOL (energy_assets/settings.py):
- unset (default): `serve` in this one process, which runs every flow run in itself;
- a pool name: the deployments are registered on that *process* work pool (created if missing)
  and this process becomes a `prefect worker start --pool NAME`; more workers (`make workers`,
  the compose `prefect-worker` service) take runs from the same pool, each in a subprocess. The
  deployments name their flows by module path, so any worker with this project installed runs them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import urllib.request

DEFAULT_API_URL = "http://127.0.0.1:4200/api"
WAIT_SECONDS = 120


def wait_for_api(url: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(
                f"Prefect API {url} (PREFECT_API_URL) not reachable after {timeout:.0f} s: start it with `make run`"
            )
        time.sleep(1)


def deployments(**options):
    from energy_assets.flows.ingest import ingest
    from energy_assets.flows.monitor_drift import CRON as MONITOR_CRON
    from energy_assets.flows.monitor_drift import monitor_drift
    from energy_assets.flows.retrain import CRON as RETRAIN_CRON
    from energy_assets.flows.retrain import retrain
    from energy_assets.flows.simulate_drift import simulate_drift
    from energy_assets.flows.verify_reproducibility import verify_reproducibility

    return [
        retrain.to_deployment(
            "weekly", cron=RETRAIN_CRON, description="Retrain both models and let the gates decide.", **options
        ),
        monitor_drift.to_deployment(
            "weekly", cron=MONITOR_CRON, description="Drift of the latest month; retrains on drift.", **options
        ),
        ingest.to_deployment(
            "on-demand", description="Version a new export with DVC and build its month partitions.", **options
        ),
        simulate_drift.to_deployment(
            "on-demand", description="Evidence that the monitor detects known shifts.", **options
        ),
        verify_reproducibility.to_deployment(
            "on-demand", description="Rebuild the champions and compare every metric.", **options
        ),
    ]


def ensure_process_pool(pool: str) -> None:
    """Create the process work pool unless it exists (any type: a pool made by hand is kept as it is)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another worker created it meanwhile
                client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def deploy_to_pool(pool: str) -> list:
    """Register the deployments on the work pool; return their ids. Runs start in the project root."""
    from prefect import deploy
    from prefect.types.entrypoint import EntrypointType

    from energy_assets.settings import PROJECT_ROOT

    ensure_process_pool(pool)
    return deploy(  # type: ignore[return-value]  # the sync call returns the ids; the union covers `await`
        *deployments(entrypoint_type=EntrypointType.MODULE_PATH, job_variables={"working_dir": str(PROJECT_ROOT)}),
        work_pool_name=pool,
        print_next_steps_message=False,
        ignore_warnings=True,
    )


def worker_command(pool: str) -> list[str]:
    """`prefect worker start` on the pool: it polls the server and runs each flow run in a subprocess."""
    prefect = os.path.join(os.path.dirname(sys.executable), "prefect")
    command = [
        prefect if os.path.exists(prefect) else "prefect",
        "worker",
        "start",
        "--pool",
        pool,
        "--type",
        "process",
    ]
    # Where a port is set for it (the compose services), the worker answers /health for the healthcheck.
    return command + (["--with-healthcheck"] if os.environ.get("PREFECT_WORKER_WEBSERVER_PORT") else [])


def main() -> int:
    from energy_assets.settings import get_settings
    from energy_assets.startup import telemetry_off

    telemetry_off()  # flow runs inherit this environment
    os.environ.setdefault("PREFECT_API_URL", DEFAULT_API_URL)
    wait_for_api(os.environ["PREFECT_API_URL"])
    pool = get_settings().prefect_work_pool
    if pool:
        deploy_to_pool(pool)
        command = worker_command(pool)
        os.execv(command[0], command)  # this process becomes the pool's first worker
    from prefect import serve

    serve(*deployments())
    return 0


if __name__ == "__main__":
    sys.exit(main())
