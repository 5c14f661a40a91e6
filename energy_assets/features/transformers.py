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


def _previous_days_of_kind(kinds: np.ndarray, count: int) -> np.ndarray:
    """For each day (in time order), the positions of its `count` most recent earlier days of the same
    kind, newest first (-1 if fewer): shape (days, count).

    Only days strictly before a day are looked at, so what a day maps to is known at the end of
    the day before it. The kind comes from the planned schedule, which is known in advance.
    """
    previous = np.full((len(kinds), count), -1, dtype=np.int64)
    seen: dict[object, list[int]] = {}
    for position, kind in enumerate(kinds):
        earlier = seen.setdefault(kind, [])
        for k in range(min(count, len(earlier))):
            previous[position, k] = earlier[-1 - k]
        earlier.append(position)
    return previous


def planned_off_days(load_type: pd.Series, day: pd.Series) -> pd.Series:
    """Per day: is it a planned off day (Sunday, holiday, shutdown), i.e. every interval planned light load?"""
    return (load_type == OFF_LOAD).groupby(day).all()


def kind_of_days(off_by_day: pd.Series) -> pd.Series:
    """The kind of each day: "off", or a working "saturday", "sunday" or "weekday".

    Working Saturdays and Sundays run lighter shifts than working weekdays, so the finer kind
    finds a closer twin than off/working alone. Known a day ahead: it comes from the plan.
    """
    weekday = off_by_day.index.dayofweek.to_numpy()
    working = np.where(weekday == 5, "saturday", np.where(weekday == 6, "sunday", "weekday"))
    return pd.Series(np.where(off_by_day.to_numpy(dtype=bool), "off", working), index=off_by_day.index)


# The day-ahead forecaster's features, in output order (chosen by rolling-origin validation inside
# Jan-Sep: bench/forecaster_selection.py, docs/models.md).
DAY_AHEAD_FEATURES: tuple[str, ...] = (
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
# Features the transformer also computes on request (`features=`): candidates the validation
# compared and left out. They obey the same day-ahead rule.
OPTIONAL_DAY_AHEAD_FEATURES: tuple[str, ...] = (
    "day_max_1d_ago",
    "same_slot_mean_7d",
    "same_kind_day_usage_smooth",
    "same_kind_profile_at_yesterday_level",
)
# Slots either side of a slot that the smoothed feature averages over (within the day).
_SMOOTHING_SLOTS = 2


class DayAheadFeatures(TransformerMixin, BaseEstimator):
    """Features of each interval from what is known at the end of the day before it.

    Every row is featurized from the frame it arrives in: calendar columns and the planned
    `load_type` of its own day, and usage only from whole days strictly before its day. A row's
    own day's usage is never read, so a frame may carry actuals (training, backtests) or NaN
    (a real forecast) for the days being forecast, with the same result.

    `features` selects the output columns, in order, among `DAY_AHEAD_FEATURES` and
    `OPTIONAL_DAY_AHEAD_FEATURES` (None: `DAY_AHEAD_FEATURES`).
    """

    # How many recent days of the same kind the smoothed same-kind features average over.
    same_kind_days = 3

    def __init__(self, features: tuple[str, ...] | None = None):
        self.features = features

    @property
    def feature_names_(self) -> tuple[str, ...]:
        # getattr: a model saved before `features` existed has no such attribute.
        chosen = getattr(self, "features", None)
        return DAY_AHEAD_FEATURES if chosen is None else tuple(chosen)

    def fit(self, X: pd.DataFrame, y=None):
        self._check_features()
        return self

    def _check_features(self) -> None:
        known = DAY_AHEAD_FEATURES + OPTIONAL_DAY_AHEAD_FEATURES
        unknown = [name for name in self.feature_names_ if name not in known]
        if unknown:
            raise ValueError(f"features: {unknown} are not day-ahead features (known: {known})")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        # Vectorized over a (day, slot) grid of usage: the API featurizes 42 days of history per
        # forecast, so this runs on every request. Days are integer positions on a calendar grid
        # from the frame's first day, so "n days earlier" is a row offset, not a timestamp lookup.
        timestamps = X[schema.TIMESTAMP]
        if not pd.api.types.is_datetime64_dtype(timestamps):
            timestamps = pd.to_datetime(timestamps)
        ts = timestamps.to_numpy(dtype="datetime64[ns]")
        start = ts - schema.INTERVAL.to_timedelta64()
        day_ns = start.astype("datetime64[D]")
        first_day = day_ns.min() if len(ts) else np.datetime64("1970-01-01", "D")
        day = (day_ns - first_day).astype(np.int64)  # calendar day index of each row
        slot = ((start - day_ns.astype("datetime64[ns]")) // schema.INTERVAL.to_timedelta64()).astype(np.int64)
        n_days = int(day.max()) + 1 if len(ts) else 0
        self._check_features()
        wanted = set(self.feature_names_)

        # Usage by (day, slot); rows without usage leave NaN, and of duplicate readings the last wins.
        usage = np.full((n_days, schema.INTERVALS_PER_DAY), np.nan)
        value = X[schema.TARGET].to_numpy(dtype=float)
        known = ~np.isnan(value)
        usage[day[known], slot[known]] = value[known]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a day without usage has no mean: NaN, as wanted
            daily_mean = np.nanmean(usage, axis=1)

        def at(grid: np.ndarray, days: np.ndarray, slots: np.ndarray | None = None) -> np.ndarray:
            """grid[days(, slots)], NaN where a day is before the frame or absent (-1 positions included)."""
            inside = (days >= 0) & (days < n_days)
            safe = np.where(inside, days, 0)
            got = grid[safe] if slots is None else grid[safe, slots]
            return np.where(inside, got, np.nan)

        # Per day present in the frame (in time order): planned off day and kind, from the plan.
        present, row_day = np.unique(day, return_inverse=True)
        off = np.ones(len(present), dtype=bool)
        np.logical_and.at(off, row_day, X["load_type"].to_numpy() == OFF_LOAD)
        dates = pd.DatetimeIndex(first_day + present.astype("timedelta64[D]"))
        kinds = kind_of_days(pd.Series(off, index=dates)).to_numpy()
        off_on = np.full(n_days, np.nan)
        off_on[present] = off

        # Previous present day of the same off/working type, and the last days of the same kind
        # (positions among the present days -> calendar day index per row, -1 where none).
        def calendar_days(positions: np.ndarray) -> np.ndarray:
            return np.where(positions >= 0, present[positions], -1)[row_day]

        same_type = calendar_days(_previous_days_of_kind(off, 1)[:, 0])
        same_kind = calendar_days(_previous_days_of_kind(kinds, self.same_kind_days))

        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", RuntimeWarning
            )  # all weeks / every earlier day of the kind missing -> NaN, as wanted
            same_slot_mean_4w = np.nanmean(np.stack([at(usage, day - 7 * k, slot) for k in range(1, 5)]), axis=0)
            same_kind_usage = np.stack([at(usage, same_kind[:, k], slot) for k in range(self.same_kind_days)])
            same_kind_means = np.stack([at(daily_mean, same_kind[:, k]) for k in range(self.same_kind_days)])
            same_kind_slot_mean, same_kind_day_mean = (
                np.nanmean(same_kind_usage, axis=0),
                np.nanmean(same_kind_means, axis=0),
            )
            optional = {}
            if "day_max_1d_ago" in wanted:  # yesterday's peak interval
                optional["day_max_1d_ago"] = at(np.nanmax(usage, axis=1) if n_days else np.empty(0), day - 1)
            if "same_slot_mean_7d" in wanted:  # the last week's profile, slot by slot
                optional["same_slot_mean_7d"] = np.nanmean(
                    np.stack([at(usage, day - k, slot) for k in range(1, 8)]), axis=0
                )
            if "same_kind_day_usage_smooth" in wanted:  # the last same-kind day, averaged over nearby slots
                padded = np.pad(usage, ((0, 0), (_SMOOTHING_SLOTS, _SMOOTHING_SLOTS)), mode="edge")
                width = 2 * _SMOOTHING_SLOTS + 1
                smooth = np.nanmean(
                    np.stack([padded[:, k : k + schema.INTERVALS_PER_DAY] for k in range(width)]), axis=0
                )
                optional["same_kind_day_usage_smooth"] = at(smooth, same_kind[:, 0], slot)
            if "same_kind_profile_at_yesterday_level" in wanted:  # the kind's profile scaled to yesterday's level
                with np.errstate(divide="ignore", invalid="ignore"):
                    optional["same_kind_profile_at_yesterday_level"] = (
                        same_kind_slot_mean / same_kind_day_mean * at(daily_mean, day - 1)
                    )
        columns = {
            "slot": slot.astype(float),
            "day_of_week_code": ((day_ns.astype(np.int64) + 3) % 7).astype(float),  # 1970-01-01 was a Thursday (3)
            "load_type_code": X["load_type"].map(LOAD_CODES).to_numpy(dtype=float),
            "is_planned_off_day": off_on[day],
            "was_off_day_before": at(off_on, day - 1),
            "usage_1d_ago": at(usage, day - 1, slot),
            "usage_7d_ago": at(usage, day - 7, slot),
            "same_slot_mean_4w": same_slot_mean_4w,
            "day_mean_1d_ago": at(daily_mean, day - 1),
            "day_mean_7d_ago": at(daily_mean, day - 7),
            "same_type_day_usage": at(usage, same_type, slot),
            "same_type_day_mean": at(daily_mean, same_type),
            "same_kind_day_usage": same_kind_usage[0],
            "same_kind_slot_mean_3d": same_kind_slot_mean,
            "same_kind_day_mean_3d": same_kind_day_mean,
            **optional,
        }
        return pd.DataFrame({name: columns[name] for name in self.feature_names_}, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_, dtype=object)
