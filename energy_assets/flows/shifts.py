"""Known shifts applied to a copy of a real month, to prove the drift monitor detects them.

Each shift is deterministic (seeded) and touches the readings the way a real change would:
a meter or emission factor change (CO2 +50 %), a heavier production schedule (Load_Type mix),
and a faulty meter (outliers far beyond anything the plant recorded).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

SEED = 7
OUTLIER_SHARE = 0.03  # 3 % of the month's intervals
OUTLIER_FACTOR = 3.0  # three times the month's maximum
OUTLIER_COLUMNS = ("usage_kwh", "lagging_reactive_power_kvarh", "co2_tco2")


def unshifted(month: pd.DataFrame) -> pd.DataFrame:
    return month.copy()


def co2_plus_50pct(month: pd.DataFrame) -> pd.DataFrame:
    return month.assign(co2_tco2=month["co2_tco2"] * 1.5)


def load_type_shift(month: pd.DataFrame) -> pd.DataFrame:
    """Half of the Light_Load intervals run as Medium_Load instead."""
    shifted = month.copy()
    light = shifted.index[shifted["load_type"] == "Light_Load"]
    chosen = np.random.default_rng(SEED).choice(light, len(light) // 2, replace=False)
    shifted.loc[chosen, "load_type"] = "Medium_Load"
    return shifted


def injected_outliers(month: pd.DataFrame) -> pd.DataFrame:
    """3 % of intervals read three times the month's maximum on usage, lagging reactive power and CO2."""
    shifted = month.copy()
    chosen = np.random.default_rng(SEED).choice(shifted.index, int(len(shifted) * OUTLIER_SHARE), replace=False)
    for column in OUTLIER_COLUMNS:
        shifted.loc[chosen, column] = shifted[column].max() * OUTLIER_FACTOR
    return shifted


# scenario -> (shift, drift expected)
SCENARIOS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], bool]] = {
    "unshifted": (unshifted, False),
    "co2_plus_50pct": (co2_plus_50pct, True),
    "load_type_shift": (load_type_shift, True),
    "injected_outliers": (injected_outliers, True),
}
