"""Feature engineering, as scikit-learn transformers that travel inside the registered models.

Both models take canonical readings (see `schema`) and featurize them here, so the API sends the
same columns the pipeline trained on and serving cannot skew from training.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from energy_assets import schema

LOAD_CODES = {name: code for code, name in enumerate(schema.CATEGORIES["load_type"])}
DAY_CODES = {name: code for code, name in enumerate(schema.WEEKDAYS)}
OFF_LOAD = "Light_Load"


def _real_power_from(reactive: pd.Series, power_factor_pct: pd.Series) -> np.ndarray:
    """Real energy implied by a reactive energy and its power factor: P = Q * pf / sqrt(1 - pf^2).

    Undefined at pf = 100 % (no reactive energy to scale) and left NaN there; the boosted trees
    handle the missing value natively.
    """
    pf = power_factor_pct.to_numpy(dtype=float) / 100.0
    q = reactive.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        power = q * pf / np.sqrt(1.0 - pf**2)
    return np.where((pf > 0) & (pf < 0.99995), power, np.nan)


class EstimatorFeatures(TransformerMixin, BaseEstimator):
    """Features of one interval from its own readings (the UCI benchmark task: no history needed)."""

    feature_names_ = (
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

    def fit(self, X: pd.DataFrame, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=X.index)
        for name in self.feature_names_[:6]:
            out[name] = X[name].astype(float)
        out["real_power_from_lagging"] = _real_power_from(X["lagging_reactive_power_kvarh"], X["lagging_power_factor"])
        out["real_power_from_leading"] = _real_power_from(X["leading_reactive_power_kvarh"], X["leading_power_factor"])
        out["load_type_code"] = X["load_type"].map(LOAD_CODES).astype(float)
        out["day_of_week_code"] = X["day_of_week"].map(DAY_CODES).astype(float)
        out["is_weekend"] = (X["week_status"] == "Weekend").astype(float)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_, dtype=object)


def _previous_days_of_kind(kind_by_day: pd.Series, count: int) -> list[dict[pd.Timestamp, pd.Timestamp]]:
    """For every day, its `count` most recent earlier days of the same kind (newest first; NaT if fewer).

    Only days strictly before a day are looked at, so what a day maps to is known at the end of
    the day before it. The kind comes from the planned schedule, which is known in advance.
    """
    previous: list[dict[pd.Timestamp, pd.Timestamp]] = [{} for _ in range(count)]
    seen: dict[object, list[pd.Timestamp]] = {}
    for d in kind_by_day.index.sort_values():
        earlier = seen.setdefault(kind_by_day[d], [])
        for k in range(count):
            previous[k][d] = earlier[-1 - k] if k < len(earlier) else pd.NaT
        earlier.append(d)
    return previous


def planned_off_days(load_type: pd.Series, day: pd.Series) -> pd.Series:
    """Per day: is it a planned off day (Sunday, holiday, shutdown), i.e. every interval planned light load?"""
    return (load_type == OFF_LOAD).groupby(day).all()


def kind_of_days(off_by_day: pd.Series) -> pd.Series:
    """The kind of each day: "off", or a working "saturday", "sunday" or "weekday".

    Working Saturdays and Sundays run lighter shifts than working weekdays, so the finer kind
    finds a closer twin than off/working alone. Known a day ahead: it comes from the plan.
    """
    working = off_by_day.index.dayofweek.map({5: "saturday", 6: "sunday"}).fillna("weekday")
    return pd.Series(np.where(off_by_day, "off", working), index=off_by_day.index)


class DayAheadFeatures(TransformerMixin, BaseEstimator):
    """Features of each interval from what is known at the end of the day before it.

    Every row is featurized from the frame it arrives in: calendar columns and the planned
    `load_type` of its own day, and usage only from whole days strictly before its day. A row's
    own day's usage is never read, so a frame may carry actuals (training, backtests) or NaN
    (a real forecast) for the days being forecast, with the same result.
    """

    feature_names_ = (
        "slot",
        "day_of_week_code",
        "load_type_code",
        "is_planned_off_day",
        "was_off_day_before",
        "usage_1d_ago",
        "usage_7d_ago",
        "same_slot_mean_4w",
        "day_mean_1d_ago",
        "day_mean_7d_ago",
        "same_type_day_usage",
        "same_type_day_mean",
        "same_kind_day_usage",
        "same_kind_slot_mean_3d",
        "same_kind_day_mean_3d",
    )
    # How many recent days of the same kind the smoothed same-kind features average over.
    same_kind_days = 3

    def fit(self, X: pd.DataFrame, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        ts = pd.Series(pd.to_datetime(X[schema.TIMESTAMP]).to_numpy(), index=X.index)
        day = schema.interval_day(ts).set_axis(X.index)
        slot = ((ts - schema.INTERVAL - day) / schema.INTERVAL).astype(int)

        usage = pd.Series(X[schema.TARGET].astype(float).to_numpy(), index=ts.to_numpy()).dropna()
        usage = usage[~usage.index.duplicated(keep="last")]
        daily_mean = usage.groupby(schema.interval_day(usage.index.to_series()).to_numpy()).mean()

        off_by_day = planned_off_days(X["load_type"], day)
        same_type_day = pd.to_datetime(day.map(_previous_days_of_kind(off_by_day, 1)[0]))
        kind_by_day = kind_of_days(off_by_day)
        same_kind_days = [pd.to_datetime(day.map(p)) for p in _previous_days_of_kind(kind_by_day, self.same_kind_days)]

        def usage_days_ago(n: int) -> np.ndarray:
            return usage.reindex(ts - pd.Timedelta(days=n)).to_numpy()

        out = pd.DataFrame(index=X.index)
        out["slot"] = slot.astype(float)
        out["day_of_week_code"] = day.dt.dayofweek.astype(float)
        out["load_type_code"] = X["load_type"].map(LOAD_CODES).astype(float)
        out["is_planned_off_day"] = day.map(off_by_day).astype(float)
        out["was_off_day_before"] = (day - pd.Timedelta(days=1)).map(off_by_day).astype(float)
        out["usage_1d_ago"] = usage_days_ago(1)
        out["usage_7d_ago"] = usage_days_ago(7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all four weeks missing -> NaN, as wanted
            out["same_slot_mean_4w"] = np.nanmean(np.stack([usage_days_ago(7 * k) for k in range(1, 5)]), axis=0)
        out["day_mean_1d_ago"] = daily_mean.reindex(day - pd.Timedelta(days=1)).to_numpy()
        out["day_mean_7d_ago"] = daily_mean.reindex(day - pd.Timedelta(days=7)).to_numpy()
        same_slot_ts = same_type_day + schema.INTERVAL * (slot + 1)
        out["same_type_day_usage"] = usage.reindex(same_slot_ts).to_numpy()
        out["same_type_day_mean"] = daily_mean.reindex(same_type_day).to_numpy()
        same_kind_usage = np.stack([usage.reindex(d + schema.INTERVAL * (slot + 1)).to_numpy() for d in same_kind_days])
        same_kind_means = np.stack([daily_mean.reindex(d).to_numpy() for d in same_kind_days])
        out["same_kind_day_usage"] = same_kind_usage[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no earlier day of the kind -> NaN, as wanted
            out["same_kind_slot_mean_3d"] = np.nanmean(same_kind_usage, axis=0)
            out["same_kind_day_mean_3d"] = np.nanmean(same_kind_means, axis=0)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_, dtype=object)
