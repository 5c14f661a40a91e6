"""Fleet scale-out: ingest + training of N synthetic sites, wall time and peak memory by N.

    .venv/bin/python bench/fleet.py --sites 1,10,50 --json out.json [--runs 3] [--inprocess-only]

Builds the largest N synthetic sites once (`energy_assets.sites.synthetic.fleet_specs`: the
bundled plant's year shifted by 0-4 weeks, scaled 0.5-2x, noised, seeded) in a temporary raw
area, then for each N runs, in a fresh process, per site: discovery, `read_raw` + `validate`,
the time split at the site's own shifted 2018-10-01, and both model recipes fitted on the
training months with the pipeline's default parameters (`training.models`: the usage
estimator, and the day-ahead forecaster with its bands). No reduced cost. Measured per N: the
wall seconds of that loop (median over the runs) and the process's peak RSS (its largest over
the runs); OMP_NUM_THREADS=1 unless set.

The Celery half (the same work as one Dagster run with a site partition dimension, its steps on
dagster-celery workers) needs that partition dimension, which is not built yet: `celery_s` is
written as null for every N, and the output says so. `--inprocess-only` states that intent and
silences the notice.

Prints the marginal wall seconds per site-year (the slope of a least-squares line through
(site-years, seconds)) and the R^2 of that line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.validation import validate
from energy_assets.settings import PROJECT_ROOT
from energy_assets.sites import registry, synthetic
from energy_assets.training import models
from energy_assets.training.evaluation import HOLDOUT_START, time_split

BUNDLED = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"
YEAR_INTERVALS = 365 * schema.INTERVALS_PER_DAY
CELERY_NOTE = (
    "celery_s is null: running the sites as Celery steps needs the site partition dimension of the "
    "Dagster assets, which is not built yet; these numbers are in-process only"
)


def build_area(area: Path, count: int, seed: int) -> None:
    frame, _, _ = read_raw(BUNDLED)
    clean = validate(frame).clean
    for spec in synthetic.fleet_specs(count, seed):
        synthetic.write_synthetic_site(area, clean, spec)


def run_sites(area: Path, count: int) -> dict:
    """Ingest and train the first `count` synthetic sites of `area` in this process."""
    sites = [s for s in registry.discover_sites(area) if s.synthetic][:count]
    per_site: list[float] = []
    ingest = 0.0
    site_years = 0.0
    start = time.perf_counter()
    for site in sites:
        began = time.perf_counter()
        frame, _, _ = registry.read_site(site)
        clean = validate(frame).clean
        ingest += time.perf_counter() - began
        shift = pd.Timedelta(days=int(site.metadata.get("shift_days", 0)))
        train, _ = time_split(clean, HOLDOUT_START + shift)
        models.build_usage_estimator(models.EstimatorParams()).fit(models.estimator_input(train), train[schema.TARGET])
        models.fit_day_ahead_forecaster(train, models.ForecasterParams())
        per_site.append(time.perf_counter() - began)
        site_years += len(clean) / YEAR_INTERVALS
    return {
        "seconds": time.perf_counter() - start,
        "per_site_s": per_site,
        "ingest_s": ingest,
        "site_years": site_years,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def linear_fit(x: list[float], y: list[float]) -> tuple[float, float]:
    """(slope, R^2) of the least-squares line y = a + slope x."""
    slope, intercept = np.polyfit(x, y, 1)
    predicted = intercept + slope * np.asarray(x)
    ss_tot = float(np.sum((np.asarray(y) - np.mean(y)) ** 2))
    r2 = 1.0 - float(np.sum((np.asarray(y) - predicted) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    return float(slope), r2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="1,10,50", help="comma-separated site counts")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--runs", type=int, default=1, help="runs per site count (the median is reported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--inprocess-only", action="store_true", help="measure in-process only (no Celery notice)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # one measurement, in a fresh process
    parser.add_argument("--area", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(run_sites(args.area, args.worker)))
        return 0

    counts = sorted({int(n) for n in args.sites.split(",")})
    if counts[0] < 1:
        parser.error("--sites: every count must be at least 1")
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    load_start = os.getloadavg()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="energy-fleet-") as area:
        build_area(Path(area), counts[-1], args.seed)
        for count in counts:
            runs = []
            for _ in range(args.runs):
                command = [sys.executable, __file__, "--worker", str(count), "--area", area]
                output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
                runs.append(json.loads(output.strip().splitlines()[-1]))
            seconds = statistics.median(r["seconds"] for r in runs)
            results.append({**runs[0], "seconds": seconds, "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)})
            ingest = statistics.median(r["ingest_s"] for r in runs)
            results[-1]["ingest_s"] = ingest
            print(
                f"{count:>3} sites ({runs[0]['site_years']:.2f} site-years): {seconds:.1f} s in-process "
                f"(median of {len(runs)}; ingest {ingest:.1f} s, training the rest), "
                f"peak RSS {results[-1]['peak_rss_mib']:.0f} MiB"
            )
    load_end = os.getloadavg()
    slope, r2 = linear_fit([r["site_years"] for r in results], [r["seconds"] for r in results])
    print(f"marginal {slope:.2f} s per site-year in-process (linear fit R^2 {r2:.3f} over {len(counts)} points)")
    print(f"load average (1 min) {load_start[0]:.1f} at start, {load_end[0]:.1f} at end, {os.cpu_count()} cores")
    if not args.inprocess_only:
        print(f"note: {CELERY_NOTE}")
    report = {
        "sites": counts,
        "inprocess_s": [round(r["seconds"], 2) for r in results],
        "celery_s": None,
        "peak_rss_mib": [round(r["peak_rss_mib"], 1) for r in results],
        "ingest_s": [round(r["ingest_s"], 2) for r in results],
        "site_years": [round(r["site_years"], 4) for r in results],
        "marginal_s_per_site_year": round(slope, 3),
        "linear_fit_r2": round(r2, 4),
        "runs": args.runs,
        "omp_num_threads": env["OMP_NUM_THREADS"],
        "load_average": {"start": [round(v, 2) for v in load_start], "end": [round(v, 2) for v in load_end]},
        "note": CELERY_NOTE,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
