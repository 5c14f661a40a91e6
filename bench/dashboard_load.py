"""Page load to a rendered forecast chart: the dashboard's Tomorrow page in Debian's Chromium.

Starts the API (on the champions of ENERGY_HOME, default .energy/: run `make pipeline` first) and
the dashboard on free loopback ports, then opens /tomorrow in a fresh browser context --runs times
and times navigation start to the chart showing its 96 points. The first load also fills the
dashboard's 30-second cache of API answers; it is reported apart from the median of the rest.

    .venv/bin/python bench/dashboard_load.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.serving import free_port, wait_until  # noqa: E402
from tests.dashboard.browser import time_to_forecast_chart, watched_page  # noqa: E402

CHROMIUM = os.environ.get("ENERGY_CHROMIUM", "/usr/bin/chromium")


def serve(args: list[str], health: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, *(a.format(port=port) for a in args)]
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until(base + health, 600, process)
    return process, base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--url",
        help="measure a dashboard already running here (e.g. make run's http://127.0.0.1:8501) instead of starting one",
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    processes = []
    try:
        if args.url:
            dashboard_url = args.url.rstrip("/")
        else:
            api, api_url = serve(["-m", "api", "--host", "127.0.0.1", "--port", "{port}"], "/ready", dict(os.environ))
            processes.append(api)
            dashboard, dashboard_url = serve(
                ["-m", "dashboard", "--host", "127.0.0.1", "--port", "{port}"],
                "/_stcore/health",
                {**os.environ, "ENERGY_API_URL": api_url},
            )
            processes.append(dashboard)
        seconds = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            for _ in range(args.runs):
                watched = watched_page(browser)
                seconds.append(time_to_forecast_chart(watched.page, dashboard_url))
                assert not watched.outside, watched.outside
                watched.page.context.close()
            browser.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
    rest = seconds[1:] or seconds
    figures = {
        "first_load_s": round(seconds[0], 3),
        "median_s": round(statistics.median(rest), 3),
        "min_s": round(min(rest), 3),
        "max_s": round(max(rest), 3),
        "runs": len(rest),
        "load_average": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
