"""Cold `make pipeline` timing: N runs, each on an empty ENERGY_HOME, reporting the median wall time.

.venv/bin/python bench/cold_pipeline.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="energy-cold-") as home:
            env = {**os.environ, "ENERGY_HOME": home}
            env.pop("MLFLOW_TRACKING_URI", None)
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "energy_assets.pipeline"], cwd=ROOT, env=env, capture_output=True, text=True
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
                return 1
            times.append(elapsed)
            print(f"run {i + 1}: {elapsed:.1f} s")
    print(
        f"cold make pipeline: median {statistics.median(times):.1f} s over {len(times)} runs (min "
        f"{min(times):.1f}, max {max(times):.1f})"
    )
    print("\n".join(line for line in done.stdout.splitlines() if not line.startswith("20")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
