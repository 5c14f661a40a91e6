"""`make serve`: run the API with uvicorn (default http://127.0.0.1:8000, OpenAPI docs at /docs)."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from energy_assets.startup import telemetry_off


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--access-log", action="store_true", help="log every request (off: it costs latency)")
    args = parser.parse_args(argv)
    telemetry_off()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        log_level="info",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
