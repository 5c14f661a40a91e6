"""`make verify`: does every service of a running stack answer, and does the API serve a champion?

Works against `make run` and against the compose stack alike: the base URLs come from the
environment (defaults are the ports both publish on this machine). One line per service, exit
code 1 when any check fails. `--wait N` retries for up to N seconds, for a stack still starting.

    ENERGY_DAGSTER_URL  (http://127.0.0.1:3000)  GET /server_info, then POST /graphql
                                                 instance { daemonHealth }: every required daemon healthy
    ENERGY_MLFLOW_URL   (http://127.0.0.1:5000)  GET /health
    ENERGY_PREFECT_URL  (http://127.0.0.1:4200)  GET /api/health
    ENERGY_API_URL      (http://127.0.0.1:8000)  GET /health, then GET /model: a champion is served
    ENERGY_DASHBOARD_URL (http://127.0.0.1:8501) GET /_stcore/health, then its page is the dashboard's
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from energy_assets.config_vars import env
from energy_assets.settings import CHAMPION_ALIAS


class CheckFailed(Exception):
    """The service answered, but not what a healthy one answers."""


@dataclass(frozen=True)
class ServiceCheck:
    name: str
    env_key: str
    default_url: str
    check: Callable[[str, float], str]  # (base URL, timeout) -> detail for the report line

    def base_url(self) -> str:
        return (env(self.env_key, self.default_url) or self.default_url).rstrip("/")


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        raise CheckFailed(f"GET {url} answered HTTP {error.code}") from error


def _json(url: str, timeout: float):
    _, body = _get(url, timeout)
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise CheckFailed(f"GET {url} did not answer JSON: {body[:80]!r}") from error


def check_dagster(base: str, timeout: float) -> str:
    info = _json(f"{base}/server_info", timeout)
    version = info.get("dagster_webserver_version") or info.get("dagster_version")
    if not version:
        raise CheckFailed(f"{base}/server_info names no Dagster version: {info}")
    return f"dagster-webserver {version}"


DAEMON_HEALTH_QUERY = (
    "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy lastHeartbeatTime } } } }"
)


def check_dagster_daemon(base: str, timeout: float) -> str:
    """dagster-daemon's heartbeat as the webserver reads it from the shared instance (the UI's Daemons page)."""
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": DAEMON_HEALTH_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise CheckFailed(f"POST {base}/graphql answered HTTP {error.code}") from error
    statuses = (((answer.get("data") or {}).get("instance") or {}).get("daemonHealth") or {}).get("allDaemonStatuses")
    if statuses is None:
        raise CheckFailed(f"{base}/graphql answered no daemon health: {answer.get('errors') or answer}")
    required = [s for s in statuses if s["required"]]
    unhealthy = sorted(s["daemonType"] for s in required if not s["healthy"])
    if not required or unhealthy:
        raise CheckFailed(
            f"dagster-daemon has no heartbeat for {unhealthy or 'any daemon'} (is dagster-daemon running on this "
            "instance?)"
        )
    age = time.time() - max(s["lastHeartbeatTime"] or 0 for s in required)
    return f"{len(required)} daemons healthy, last heartbeat {age:.0f} s ago"


def check_mlflow(base: str, timeout: float) -> str:
    _, body = _get(f"{base}/health", timeout)
    if body.strip() != b"OK":
        raise CheckFailed(f"{base}/health answered {body[:80]!r}, not OK")
    return "tracking server healthy"


def check_prefect(base: str, timeout: float) -> str:
    if _json(f"{base}/api/health", timeout) is not True:
        raise CheckFailed(f"{base}/api/health did not answer true")
    version = _get(f"{base}/api/admin/version", timeout)[1].decode().strip().strip('"')
    return f"prefect server {version}"


def check_api(base: str, timeout: float) -> str:
    health = _json(f"{base}/health", timeout)
    if health.get("status") != "ok":
        raise CheckFailed(f"{base}/health status is {health.get('status')!r}: {health.get('models')}")
    info = _json(f"{base}/model", timeout)
    models = info.get("models", []) if isinstance(info, dict) else info
    champions = [m for m in models if m.get("alias") == CHAMPION_ALIAS and m.get("version")]
    if not champions:
        raise CheckFailed(f"{base}/model serves no {CHAMPION_ALIAS!r} model version: {info}")
    return "serving " + ", ".join(f"{m['name']} v{m['version']}" for m in champions)


def check_dashboard(base: str, timeout: float) -> str:
    _, body = _get(f"{base}/_stcore/health", timeout)
    if body.strip() != b"ok":
        raise CheckFailed(f"{base}/_stcore/health answered {body[:80]!r}, not ok")
    _, page = _get(base, timeout)
    if b"<title>Streamlit</title>" not in page:
        raise CheckFailed(f"{base} does not serve a Streamlit app")
    return "streamlit healthy"


CHECKS = [
    ServiceCheck("dagster", "ENERGY_DAGSTER_URL", "http://127.0.0.1:3000", check_dagster),
    ServiceCheck("daemon", "ENERGY_DAGSTER_URL", "http://127.0.0.1:3000", check_dagster_daemon),
    ServiceCheck("mlflow", "ENERGY_MLFLOW_URL", "http://127.0.0.1:5000", check_mlflow),
    ServiceCheck("prefect", "ENERGY_PREFECT_URL", "http://127.0.0.1:4200", check_prefect),
    ServiceCheck("api", "ENERGY_API_URL", "http://127.0.0.1:8000", check_api),
    ServiceCheck("dashboard", "ENERGY_DASHBOARD_URL", "http://127.0.0.1:8501", check_dashboard),
]


def run_check(service: ServiceCheck, timeout: float, wait: float) -> tuple[bool, str]:
    deadline = time.monotonic() + wait
    while True:
        try:
            return True, service.check(service.base_url(), timeout)
        except (CheckFailed, OSError, ValueError) as error:  # OSError covers refused and timed-out connections
            reason = getattr(error, "reason", None) or error
            if time.monotonic() >= deadline:
                return False, str(reason)
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m energy_assets.verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wait", type=float, default=0.0, help="retry each failing check for up to this many seconds")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per HTTP request")
    parser.add_argument("--only", action="append", choices=[c.name for c in CHECKS], help="check only these services")
    args = parser.parse_args(argv)
    failures = 0
    for service in CHECKS:
        if args.only and service.name not in args.only:
            continue
        ok, detail = run_check(service, args.timeout, args.wait)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {service.name:<9} {service.base_url():<28} {detail}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
