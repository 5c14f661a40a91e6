"""`python bench/copilot.py`: domain-level latency of the copilot's operations on the bundled year.

The history is priced once (`service.prepare_history`, as a server does at start-up); then each
operation runs --repeats times after one warm-up call and the median (p50) and p90 are printed, in
milliseconds. The forecast day for the band and optimizer figures is a real day (2018-11-22) with
synthetic bands around its readings (the operations' cost does not depend on the band values).
The API-level figures (HTTP, JSON) are measured with the API.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from energy_assets.copilot import service  # noqa: E402
from energy_assets.copilot.__main__ import BUNDLED  # noqa: E402
from energy_assets.ingest import reader  # noqa: E402
from energy_assets.ingest.validation import validate  # noqa: E402


def timed(call, repeats: int) -> tuple[float, float]:
    call()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), float(np.percentile(samples, 90))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    raw, _, _ = reader.read_raw(BUNDLED)
    clean = validate(raw).clean
    tariff = service.load_tariff()
    day = clean[(clean["timestamp"] > "2018-11-22") & (clean["timestamp"] <= "2018-11-23")]
    usage = day["usage_kwh"]
    forecast = day[["timestamp"]].assign(
        p025=usage * 0.8, p10=usage * 0.9, p50=usage, p90=usage * 1.1, p975=usage * 1.2
    )
    priced = service.prepare_history(clean, tariff)
    block = dict(energy_kwh=300, duration_minutes=180, power_limit_kw=150, window_start="06:00", window_end="22:00")
    cases = {
        "prepare_history (price 2018, once per server)": lambda: service.prepare_history(clean, tariff),
        "bill (one month)": lambda: service.bill(priced, "2018-11", tariff),
        "what-if shift (one day, 10:00-12:00 -> 02:00-04:00)": lambda: service.whatif_shift(
            priced,
            days="2018-11-22",
            from_start="10:00",
            from_end="12:00",
            to_start="02:00",
            to_end="04:00",
            tariff=tariff,
        ),
        "what-if shift, a day of a ratchet month (re-bills 12 months)": lambda: service.whatif_shift(
            priced,
            days="2018-01-15",
            from_start="10:00",
            from_end="12:00",
            to_start="02:00",
            to_end="04:00",
            tariff=tariff,
        ),
        "what-if power factor (one month, target 95 %)": lambda: service.whatif_power_factor(
            priced, months=["2018-11"], target_pf_pct=95.0, tariff=tariff
        ),
        "what-if peak cap (one day of bands)": lambda: service.peak_risk(forecast, cap_kw=600, tariff=tariff),
        "day cost (one forecast day)": lambda: service.day_cost(forecast, tariff=tariff),
        "optimize (one day, 16 h window, 3 h block)": lambda: service.optimize_block(forecast, **block, tariff=tariff),
        "optimize, constant power": lambda: service.optimize_block(
            forecast, **block, constant_power=True, tariff=tariff
        ),
        "optimize, with a peak cap (two solves)": lambda: service.optimize_block(
            forecast, **block, peak_cap_kw=700, tariff=tariff
        ),
    }
    print(f"python {platform.python_version()}, {platform.machine()}, repeats {args.repeats}")
    print("| operation | p50 ms | p90 ms |\n|---|---:|---:|")
    for name, call in cases.items():
        p50, p90 = timed(call, args.repeats)
        print(f"| {name} | {p50:.1f} | {p90:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
