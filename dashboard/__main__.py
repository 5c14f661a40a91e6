"""`python -m dashboard [--host H] [--port P]`: serve the dashboard with Streamlit (default 127.0.0.1:8501).

Usage statistics off, no browser opened, toolbar for viewers; the API's URL comes from ENERGY_API_URL.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_flags(host: str, port: int) -> list[str]:
    return [
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--global.developmentMode",
        "false",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8501)
    args = parser.parse_args(argv)
    os.environ["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    command = [sys.executable, "-m", "streamlit", "run", str(APP), *streamlit_flags(args.host, args.port)]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    sys.exit(main())
