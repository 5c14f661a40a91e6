"""Single-reading featurization without pandas, proven equal to the model's own transformer at load time.

The estimator's transformer (`EstimatorFeatures`) builds a pandas frame column by column, which
costs more than the boosted trees' prediction itself for one row. This module computes the same
eleven features with plain float arithmetic in the same order of operations. It is only used when,
on a probe set covering every category and the power-factor edge cases, it reproduces the loaded
model's transformer exactly; otherwise the API falls back to the transformer (slower, same numbers).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.features.transformers import DAY_CODES, LOAD_CODES, EstimatorFeatures

log = logging.getLogger("api.fastpath")

FEATURE_NAMES = (
    "lagging_reactive_power_kvarh",
    "leading_reactive_power_kvarh",
    "co2_tco2",
    "lagging_power_factor",
    "leading_power_factor",
    "nsm",
    "real_power_from_lagging",
    "real_power_from_leading",
    "load_type_code",
    "day_of_week_code",
    "is_weekend",
)


def _real_power(reactive: float, power_factor_pct: float) -> float:
    # Same expression as the transformer's: P = Q * pf / sqrt(1 - pf^2), NaN outside (0, 0.99995).
    pf = power_factor_pct / 100.0
    if not (0.0 < pf < 0.99995):
        return math.nan
    return reactive * pf / math.sqrt(1.0 - pf**2)


def features_of(reading: Any) -> np.ndarray:
    """The estimator features of one reading (anything with the schema's attributes), shape (1, 11)."""
    lag_q = float(reading.lagging_reactive_power_kvarh)
    lead_q = float(reading.leading_reactive_power_kvarh)
    lag_pf = float(reading.lagging_power_factor)
    lead_pf = float(reading.leading_power_factor)
    return np.array(
        [
            [
                lag_q,
                lead_q,
                float(reading.co2_tco2),
                lag_pf,
                lead_pf,
                float(reading.nsm),
                _real_power(lag_q, lag_pf),
                _real_power(lead_q, lead_pf),
                float(LOAD_CODES[reading.load_type]),
                float(DAY_CODES[reading.day_of_week]),
                1.0 if reading.week_status == "Weekend" else 0.0,
            ]
        ],
        dtype=np.float64,
    )


def _probe_rows() -> pd.DataFrame:
    """Readings over every category and the arithmetic edge cases of the power-factor features."""
    power_factors = (0.0, 0.01, 37.5, 85.53, 99.99, 99.995, 99.996, 100.0)
    reactive = (0.0, 0.07, 31.39, 499.9)
    rows = []
    combos = itertools.product(schema.CATEGORIES["load_type"], schema.WEEKDAYS, power_factors, reactive)
    for i, (load, day, pf, q) in enumerate(combos):
        rows.append(
            {
                schema.TIMESTAMP: pd.Timestamp("2018-01-01") + schema.INTERVAL * (i % 96 + 1),
                "lagging_reactive_power_kvarh": q,
                "leading_reactive_power_kvarh": reactive[(i + 1) % len(reactive)],
                "co2_tco2": (i % 10) / 100.0,
                "lagging_power_factor": pf,
                "leading_power_factor": power_factors[(i + 3) % len(power_factors)],
                "nsm": int((i % 96) * schema.NSM_STEP_SECONDS),
                "week_status": "Weekend" if day in ("Saturday", "Sunday") else "Weekday",
                "day_of_week": day,
                "load_type": load,
            }
        )
    return pd.DataFrame(rows, columns=list(schema.ESTIMATOR_INPUT_COLUMNS))


class _Row:
    __slots__ = schema.ESTIMATOR_INPUT_COLUMNS

    def __init__(self, values: dict):
        for key, value in values.items():
            setattr(self, key, value)


def estimator_fast_features(pipeline) -> Callable[[Any], np.ndarray] | None:
    """`features_of` if it reproduces this pipeline's transformer bit for bit on the probe set, else None."""
    transformer = pipeline.named_steps["features"]
    if not isinstance(transformer, EstimatorFeatures):
        log.warning("estimator transformer is %s; single rows take the transformer path", type(transformer).__name__)
        return None
    if tuple(transformer.get_feature_names_out()) != FEATURE_NAMES:
        log.warning(
            "estimator features changed (%s); single rows take the transformer path",
            list(transformer.get_feature_names_out()),
        )
        return None
    probe = _probe_rows()
    expected = transformer.transform(probe).to_numpy(dtype=np.float64)
    fast = np.vstack([features_of(_Row(row)) for row in probe.to_dict("records")])
    if not np.array_equal(expected, fast, equal_nan=True):
        log.warning("single-row features differ from the transformer's; single rows take the transformer path")
        return None
    return features_of
