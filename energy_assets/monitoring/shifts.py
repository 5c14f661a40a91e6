"""Known shifts applied to a copy of a real month, to prove the drift monitor detects them.

Each shift is deterministic (seeded) and touches the readings the way a real change would:
a meter or emission factor change (CO2 +50 %), a heavier production schedule (Load_Type mix),
a faulty meter (outliers far beyond anything the plant recorded), and a change in the usage level
the other readings do not explain (a new load on the usage meter: +10 % usage, the rest as
recorded), which the models' error must reveal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_assets.monitoring.drift import DriftReport

SEED = 7
# The real month the shifts are applied to: a holdout month (the models never saw it) that no drift
# rule flags with the shipped champions (docs/flows.md, "Which months the feature rules flag").
CONTROL_MONTH = "2018-11"
OUTLIER_SHARE = 0.03  # 3 % of the month's intervals
OUTLIER_FACTOR = 3.0  # three times the month's maximum
OUTLIER_COLUMNS = ("usage_kwh", "lagging_reactive_power_kvarh", "co2_tco2")
USAGE_LEVEL_FACTOR = 1.10  # +10 % usage with every other reading as recorded


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


def usage_level_shift(month: pd.DataFrame) -> pd.DataFrame:
    """Usage 10 % higher than recorded, every other reading unchanged: the relation the models learnt moved."""
    return month.assign(usage_kwh=month["usage_kwh"] * USAGE_LEVEL_FACTOR)


@dataclass(frozen=True)
class Scenario:
    shift: Callable[[pd.DataFrame], pd.DataFrame]
    expected_drift: bool
    # True: the performance rule (a model's error) must be among the rules that detect it
    models_must_notice: bool = False


SCENARIOS: dict[str, Scenario] = {
    "unshifted": Scenario(unshifted, False),
    "co2_plus_50pct": Scenario(co2_plus_50pct, True),
    "load_type_shift": Scenario(load_type_shift, True),
    "injected_outliers": Scenario(injected_outliers, True),
    "usage_level_shift": Scenario(usage_level_shift, True, models_must_notice=True),
}


def evidence(name: str, report: DriftReport) -> dict:
    """Whether the monitor's verdict on the shifted month is the one the scenario expects, and why."""
    scenario = SCENARIOS[name]
    noticed = report.performance_drifted
    as_expected = report.drifted == scenario.expected_drift and (noticed != [] or not scenario.models_must_notice)
    return {
        "expected_drift": scenario.expected_drift,
        "models_must_notice": scenario.models_must_notice,
        "detected": report.drifted,
        "detected_by_models": noticed,
        "as_expected": as_expected,
        "reasons": report.reasons,
    }
