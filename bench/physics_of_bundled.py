"""The physical consistency of the genuine UCI file: the emission factor it implies, and the rows that fail.

    .venv/bin/python bench/physics_of_bundled.py

Prints the interval of emission factors (kg CO2 per kWh) that every row's rounding allows (rows
whose co2 figure contradicts every factor left out and listed), and how many rows the validation's
power-triangle and co2 rules reject (docs/data.md).
"""

from __future__ import annotations

import numpy as np

from energy_assets import schema
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.validation import validate
from energy_assets.settings import PROJECT_ROOT

BUNDLED = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"


def main() -> None:
    raw, _, _ = read_raw(BUNDLED)
    usage = raw["usage_kwh"].astype(float).to_numpy()
    co2 = raw["co2_tco2"].astype(float).to_numpy()
    half = 0.005  # both columns are written with 2 decimals
    with np.errstate(divide="ignore", invalid="ignore"):
        low = (co2 - half) * 1000 / (usage + half)
        high = np.where(usage > half, (co2 + half) * 1000 / (usage - half), np.inf)
    # A row whose co2 is 0 while usage is high allows no factor near the others: the file's outage.
    outage = (co2 == 0) & (usage * schema.EMISSION_FACTOR_KG_PER_KWH[0] / 1000 > half)
    print(f"rows with co2_tco2 = 0 whose usage implies at least 0.005 t: {int(outage.sum())}")
    for ts in raw.loc[outage, "timestamp"].tolist():
        print(f"  {ts}")
    print(f"emission factor allowed by every other row: [{low[~outage].max():.6f}, {high[~outage].min():.6f}] kg/kWh")
    result = validate(raw)
    print(f"validation of the genuine file: {result.counts}; reasons {result.reason_counts()}")


if __name__ == "__main__":
    main()
