"""Model fits by OpenMP thread count: wall time, CPU time and whether the predictions are identical.

Fits both models (the usage estimator and the day-ahead forecaster with its band models, default
parameters) on Jan-Sep 2018 of the bundled export and predicts Oct-Dec, once per thread count and
run, with threadpoolctl limiting OpenMP as OMP_NUM_THREADS (the Makefile and the compose
stack set it to 1) does. Prints the median wall and CPU seconds and a digest of each model's predictions.

    .venv/bin/python bench/fit_threads.py --threads 1 2 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from energy_assets import schema
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.validation import validate
from energy_assets.settings import PROJECT_ROOT
from energy_assets.training import models

EXPORT = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"
HOLDOUT_START = "2018-10-01"


def digest(values) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(values, dtype=float)).tobytes()).hexdigest()[:12]


def fit_and_predict(train, holdout) -> tuple[str, str]:
    estimator = models.build_usage_estimator(models.EstimatorParams()).fit(
        models.estimator_input(train), train[schema.TARGET]
    )
    forecaster = models.fit_day_ahead_forecaster(train, models.ForecasterParams())
    return (
        digest(estimator.predict(models.estimator_input(holdout))),
        digest(forecaster.predict(holdout[list(schema.COLUMNS)])),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    frame, _, _ = read_raw(str(EXPORT))
    clean = validate(frame).clean
    train = clean[clean[schema.TIMESTAMP] < HOLDOUT_START]
    holdout = clean[clean[schema.TIMESTAMP] >= HOLDOUT_START]
    print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| threads | wall s (median) | CPU s (median) | estimator digest | forecaster digest |")
    print("|---:|---:|---:|---|---|")
    digests = set()
    for threads in args.threads:
        walls, cpus, seen = [], [], set()
        for _ in range(args.runs):
            with threadpool_limits(limits=threads, user_api="openmp"):
                wall, cpu = time.perf_counter(), time.process_time()
                seen.add(fit_and_predict(train, holdout))
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
        digests |= seen
        shown = " / ".join(" | ".join(d) for d in sorted(seen))
        print(f"| {threads} | {statistics.median(walls):.1f} | {statistics.median(cpus):.1f} | {shown} |")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    print("identical predictions across thread counts and runs:", len(digests) == 1)
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
