"""Anomalies: actual usage outside the forecaster's 95 % band.

A day-ahead forecast of a month is made the way the forecaster is used: each day from the whole
days before it (the features never read a day's own usage), so the month's actuals can stay in
the frame. An interval whose actual lies below p025 or above p975 is an anomaly; how far outside
the band it lies (kWh) ranks them. With a calibrated band, about 5 % of intervals fall outside by
chance alone, so the month's anomaly share is reported next to that expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.training.bands import QUANTILE_COLUMNS, banded_backtest

LOWER, UPPER = "p025", "p975"
NOMINAL_OUTSIDE_SHARE = 0.05  # the 95 % band leaves 5 % outside by construction
ANOMALY_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "actual",
    "predicted",
    *QUANTILE_COLUMNS,
    "direction",
    "excess_kwh",
    "load_type",
)


class AnomalyInputError(ValueError):
    """The frame or month given cannot be scanned; the message names the field."""


@dataclass(frozen=True)
class AnomalyScan:
    month: str
    intervals: int
    anomalies: pd.DataFrame  # ANOMALY_COLUMNS, largest excess first

    @property
    def share(self) -> float:
        return len(self.anomalies) / self.intervals if self.intervals else float("nan")

    def summary(self) -> dict:
        above = int((self.anomalies["direction"] == "above").sum())
        return {
            "month": self.month,
            "intervals": self.intervals,
            "anomalies": len(self.anomalies),
            "above_band": above,
            "below_band": len(self.anomalies) - above,
            "share": self.share,
            "expected_share": NOMINAL_OUTSIDE_SHARE,
            "days_with_anomalies": int(schema.interval_day(self.anomalies["timestamp"]).nunique())
            if len(self.anomalies)
            else 0,
            "largest_excess_kwh": float(self.anomalies["excess_kwh"].max()) if len(self.anomalies) else 0.0,
        }


def band_frame(forecaster, history: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """Actual, point forecast and quantiles of every row of `target`, forecast from `history` + `target`."""
    if target.empty:
        raise AnomalyInputError("target: no readings to forecast")
    return banded_backtest(forecaster, history, target).assign(load_type=target["load_type"].to_numpy())


def outside_band(bands: pd.DataFrame) -> pd.DataFrame:
    """The rows of a band frame whose actual lies outside [p025, p975], with direction and excess (kWh)."""
    missing = [c for c in ("timestamp", "actual", "predicted", *QUANTILE_COLUMNS) if c not in bands]
    if missing:
        raise AnomalyInputError(f"bands: missing columns {missing}")
    known = bands["actual"].notna()
    above = known & (bands["actual"] > bands[UPPER])
    below = known & (bands["actual"] < bands[LOWER])
    out = bands[above | below].copy()
    out["direction"] = np.where(above[above | below], "above", "below")
    out["excess_kwh"] = np.where(out["direction"] == "above", out["actual"] - out[UPPER], out[LOWER] - out["actual"])
    if "load_type" not in out:
        out["load_type"] = None
    return out.sort_values("excess_kwh", ascending=False, kind="stable").reset_index(drop=True)[list(ANOMALY_COLUMNS)]


def scan_month(forecaster, readings: pd.DataFrame, month: str, history_days: int, window_days: int = 42) -> AnomalyScan:
    """Forecast every day of `month` (YYYY-MM) from `readings` and keep the intervals outside the 95 % band.

    Each day is forecast from the `window_days` before the month plus the month's earlier days;
    days with fewer than `history_days` whole days of readings before them are left out (their
    lag features would be missing, not honest forecasts).
    """
    try:
        start = pd.Timestamp(f"{month}-01")
    except ValueError:
        raise AnomalyInputError(f"month: {month!r} is not YYYY-MM") from None
    days = schema.interval_day(readings[schema.TIMESTAMP])
    in_month = ((days >= start) & (days < start + pd.offsets.MonthBegin(1))).to_numpy()
    if not in_month.any():
        raise AnomalyInputError(f"month: no readings in {month}")
    earlier = ((days < start) & (days >= start - pd.Timedelta(days=window_days))).to_numpy()
    target = readings[in_month].reset_index(drop=True)
    bands = band_frame(forecaster, readings[earlier].reset_index(drop=True), target)
    usable = (schema.interval_day(bands["timestamp"]) >= days.min() + pd.Timedelta(days=history_days)).to_numpy()
    bands = bands[usable].reset_index(drop=True)
    return AnomalyScan(month=month, intervals=int(bands["actual"].notna().sum()), anomalies=outside_band(bands))
