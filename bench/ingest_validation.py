"""Ingest + validation speed: read an export and validate it (the work one pipeline run does once).

    .venv/bin/python bench/ingest_validation.py [--runs 7] [--dirty]

Times `read_raw` + `validate` on the bundled 35,040-row file (or on the seeded dirty export of
tests/dirty_export.py with --dirty), and prints the median wall and CPU time over the runs, with
the machine's load average (the reference machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.validation import validate
from energy_assets.settings import PROJECT_ROOT

BUNDLED = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dirty", action="store_true", help="the seeded dirty export instead of the bundled file")
    args = parser.parse_args(argv)
    path = BUNDLED
    if args.dirty:
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.dirty_export import generate

        path = generate(Path(tempfile.mkdtemp(prefix="dirty-export-")), seed=7).path
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        frame, _, _ = read_raw(path)
        result = validate(frame)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(f"{path.name}: {result.counts['raw_rows']:,} rows, {args.runs} runs")
    print(f"median wall {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f})")
    print(f"median CPU  {statistics.median(cpus):.3f} s; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
