"""`make bench-copilot-api`: latency of the copilot's answers through the API on loopback.

Starts the API (`python -m api`, one worker, on a free loopback port) over the configured
ENERGY_HOME (run `make pipeline` first), then sends sequential keep-alive requests and reports the
median (p50) and p90 latency of each operation, client side:

- forecast with bands: GET /forecast?day=... (96 intervals, quantiles, day cost and peak), days cycled
  (after the warm-up pass the API answers them from its cache of day forecasts, as it answers a
  dashboard asking for the same day again);
- forecast with bands, a new day each request: GET /forecast over the 184 days of Jul-Dec 2018 in
  turn, so no request finds its day in the API's cache (it keeps the last 32 days): the whole
  featurize-predict-price path;
- what-if shift: POST /copilot/whatif/shift (one day, one hour moved to the night), days cycled;
- what-if power factor: POST /copilot/whatif/power-factor (a 50 kVAr bank over one month);
- optimize: POST /copilot/optimize (a 200 kWh, 2-hour block on a one-day forecast, HiGHS), days cycled.

Each request's status must be 200. Figures are medians over --repeats rounds of --requests each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.serving import free_port, stop, wait_until  # noqa: E402
from energy_assets.settings import get_settings  # noqa: E402

DAYS = ["2018-10-10", "2018-10-11", "2018-10-12", "2018-11-14", "2018-11-15", "2018-12-05"]
# More days than the API's forecast cache holds (api.operations.FORECAST_CACHE_DAYS), each asked once per pass.
UNCACHED_DAYS = [d.date().isoformat() for d in pd.date_range("2018-07-01", "2018-12-31")]


def operations() -> dict[str, list[tuple[str, str, dict]]]:
    """Per operation, the requests cycled through (method, path, query or body)."""
    return {
        "forecast with bands": [("GET", "/forecast", {"day": day}) for day in DAYS],
        "forecast with bands, a new day each": [("GET", "/forecast", {"day": day}) for day in UNCACHED_DAYS],
        "what-if shift": [
            (
                "POST",
                "/copilot/whatif/shift",
                {"days": [day], "from_start": "10:00", "from_end": "11:00", "to_start": "02:00", "to_end": "03:00"},
            )
            for day in DAYS
        ],
        "what-if power factor (1 month)": [
            ("POST", "/copilot/whatif/power-factor", {"bank_kvar": 50, "months": ["2018-10"]})
        ],
        "optimize (one day)": [
            (
                "POST",
                "/copilot/optimize",
                {
                    "day": day,
                    "energy_kwh": 200,
                    "duration_minutes": 120,
                    "power_limit_kw": 150,
                    "window_start": "06:00",
                    "window_end": "22:00",
                },
            )
            for day in DAYS
        ],
    }


def timed(http: httpx.Client, requests: list[tuple[str, str, dict]], count: int, first: int = 0) -> list[float]:
    """Latencies of `count` requests, cycling through `requests` from position `first`."""
    latencies = []
    for i in range(first, first + count):
        method, path, payload = requests[i % len(requests)]
        start = time.perf_counter()
        response = http.get(path, params=payload) if method == "GET" else http.post(path, json=payload)
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{method} {path} {payload}: {response.status_code} {response.text[:300]}")
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=60, help="requests per operation per round")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    current = get_settings()
    if not (current.asset_dir / "clean_readings").is_dir():
        raise SystemExit(
            f"no clean readings under {current.asset_dir}: run `make pipeline` first (ENERGY_HOME={current.home})"
        )
    log_dir = current.home / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with open(log_dir / "copilot-api.log", "w") as log:  # the child keeps its own descriptor
        api = subprocess.Popen(
            [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    results: dict[str, dict[str, float]] = {}
    try:
        wait_until(f"http://127.0.0.1:{port}/ready", 300, api)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for name, requests in operations().items():
                timed(http, requests, len(requests))  # warm-up: first pricing of the history, first solver call
                # Each round goes on where the last stopped: a new day each request stays new.
                rounds = [timed(http, requests, args.requests, first=r * args.requests) for r in range(args.repeats)]
                p50 = [statistics.median(r) * 1000 for r in rounds]
                p90 = [statistics.quantiles(r, n=10)[-1] * 1000 for r in rounds]
                results[name] = {
                    "p50_ms": statistics.median(p50),
                    "p90_ms": statistics.median(p90),
                    "p50_ms_min": min(p50),
                    "p50_ms_max": max(p50),
                }
                print(
                    f"{name:34s} p50 {results[name]['p50_ms']:7.1f} ms  (rounds "
                    f"{min(p50):.1f}-{max(p50):.1f})  p90 {results[name]['p90_ms']:7.1f} ms"
                )
    finally:
        stop(api)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
