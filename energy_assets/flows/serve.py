"""`make flows`: serve the operational flows as deployments of the Prefect server, with their schedules.

retrain Sundays 03:00, monitor_drift Mondays 09:00; ingest, simulate_drift and
verify_reproducibility are served without a schedule (run them from the Prefect UI or
`prefect deployment run`). Waits for the Prefect API (PREFECT_API_URL, default the embedded
server of `make run` on :4200) before registering, since both start together.
"""

from __future__ import annotations

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


def deployments():
    from energy_assets.flows.ingest import ingest
    from energy_assets.flows.monitor_drift import CRON as MONITOR_CRON
    from energy_assets.flows.monitor_drift import monitor_drift
    from energy_assets.flows.retrain import CRON as RETRAIN_CRON
    from energy_assets.flows.retrain import retrain
    from energy_assets.flows.simulate_drift import simulate_drift
    from energy_assets.flows.verify_reproducibility import verify_reproducibility

    return [
        retrain.to_deployment("weekly", cron=RETRAIN_CRON, description="Retrain both models and let the gates decide."),
        monitor_drift.to_deployment(
            "weekly", cron=MONITOR_CRON, description="Drift of the latest month; retrains on drift."
        ),
        ingest.to_deployment("on-demand", description="Version a new export with DVC and build its month partitions."),
        simulate_drift.to_deployment("on-demand", description="Evidence that the monitor detects known shifts."),
        verify_reproducibility.to_deployment(
            "on-demand", description="Rebuild the champions and compare every metric."
        ),
    ]


def main() -> int:
    os.environ.setdefault("PREFECT_API_URL", DEFAULT_API_URL)
    wait_for_api(os.environ["PREFECT_API_URL"])
    from prefect import serve

    serve(*deployments())
    return 0


if __name__ == "__main__":
    sys.exit(main())
