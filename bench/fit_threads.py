"""OpenMP threads per model fit: the day-ahead forecaster fitted with one thread against the library default.

    .venv/bin/python bench/fit_threads.py [--runs 3]

scikit-learn's gradient boosting starts one OpenMP thread per core for every fit. Dagster runs a
job's steps in parallel processes, the suite runs servers beside them, and the reference machine
is shared: each fit's threads then wait on each other (OpenMP spins at its barriers), and a fit
slows far more than the cores it gives up. This bench fits the forecaster on Jan-Sep of the
bundled data in a fresh process per run (the thread count is read when OpenMP loads), alternating
`OMP_NUM_THREADS=1` and the default, and prints the median wall time of each, their ratio, the
load average, and whether both gave the same predictions to the last bit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time

from energy_assets.settings import PROJECT_ROOT

BUNDLED = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"


def fit_once() -> None:
    """One run, in this process: fit, then print the wall seconds and a digest of the holdout forecast."""
    from energy_assets import schema
    from energy_assets.ingest.reader import read_raw
    from energy_assets.ingest.validation import validate
    from energy_assets.training.evaluation import time_split
    from energy_assets.training.models import ForecasterParams, fit_day_ahead_forecaster

    frame, _, _ = read_raw(BUNDLED)
    train, holdout = time_split(validate(frame).clean)
    started = time.perf_counter()
    model = fit_day_ahead_forecaster(train, ForecasterParams())
    wall = time.perf_counter() - started
    predictions = model.predict(holdout[list(schema.COLUMNS)])
    print(wall, hashlib.sha256(predictions.tobytes()).hexdigest()[:16])


def run(threads: str | None) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    done = subprocess.run(
        [sys.executable, __file__, "--fit-once"], env=env, capture_output=True, text=True, check=True, timeout=3600
    )
    wall, digest = done.stdout.split()[-2:]
    return float(wall), digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fit-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fit_once:
        fit_once()
        return 0
    results: dict[str, list[tuple[float, str]]] = {"1": [], "default": []}
    loads = []
    for _ in range(args.runs):
        for label in results:
            results[label].append(run("1" if label == "1" else None))
            loads.append(os.getloadavg()[0])
    medians = {label: statistics.median(wall for wall, _ in runs) for label, runs in results.items()}
    digests = {digest for runs in results.values() for _, digest in runs}
    print(f"forecaster fit on Jan-Sep, {args.runs} runs each, {os.cpu_count()} cores")
    for label, runs in results.items():
        walls = ", ".join(f"{wall:.1f}" for wall, _ in runs)
        print(f"OMP_NUM_THREADS={label:<8} median {medians[label]:7.2f} s  ({walls})")
    print(f"default / one thread: {medians['default'] / medians['1']:.1f}x")
    print(f"load average during the runs: {min(loads):.1f}-{max(loads):.1f}")
    print(f"predictions identical across all runs: {'yes' if len(digests) == 1 else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
