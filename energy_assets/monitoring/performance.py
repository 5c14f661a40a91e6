"""Performance drift: is a month's error beyond what the model's own error does when nothing changed?

A relative limit on the RMSE (say +15 %) is a limit on noise: the estimator's monthly RMSE moves
by more than that from one unchanged month to the next. The rule here is grounded in the model's
own error variation instead:

- **Reference** (`ErrorReference`): the champion's holdout backtest (every Oct-Dec 2018 interval
  with its actual and predicted usage, logged as `backtest.parquet` in the model's MLflow run),
  i.e. the error of the model on months it never saw, summed per day.
- **Noise limit**: a month of `d` days is resampled from those days (whole days, with
  replacement, so the errors inside a day keep their correlation), `BOOTSTRAP_SAMPLES` times with a
  fixed seed; the `rmse_quantile` quantile of the resampled RMSEs is what a `d`-day month reaches
  by chance when nothing has changed.
- **Floor**: a change smaller than `rmse_floor_share` of the mean usage per interval is never
  drift, however stable the error was (default 0.5 %: the error limit of an accuracy class 0.5S
  active-energy meter, IEC 62053-22:2020 - below it the reading itself may be that far off).

A month drifts when its RMSE is above both: `limit = max(noise limit, holdout RMSE + floor)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_assets import schema

BOOTSTRAP_SAMPLES = 4000
BOOTSTRAP_SEED = 20181001  # fixed: the same month and champion always get the same limit
BACKTEST_COLUMNS = ("timestamp", "actual", "predicted")


class ErrorReferenceError(ValueError):
    """A backtest cannot serve as an error reference; the message names the column or the problem."""


@dataclass(frozen=True)
class ErrorReference:
    """A model's error on unseen months, per day: what its error does when nothing changed."""

    model: str
    days: pd.DatetimeIndex
    day_sse: np.ndarray  # sum of squared errors per day (kWh^2)
    day_count: np.ndarray  # intervals per day with both an actual and a prediction
    mean_usage: float  # mean actual usage per interval over the reference (kWh)

    @classmethod
    def from_backtest(cls, model: str, backtest: pd.DataFrame) -> ErrorReference:
        """From a backtest frame with columns timestamp, actual, predicted (the logged backtest.parquet)."""
        missing = [c for c in BACKTEST_COLUMNS if c not in backtest.columns]
        if missing:
            raise ErrorReferenceError(f"{model}: backtest has no column {missing} (expected {list(BACKTEST_COLUMNS)})")
        actual = backtest["actual"].to_numpy(float)
        predicted = backtest["predicted"].to_numpy(float)
        known = ~np.isnan(actual) & ~np.isnan(predicted)
        if not known.any():
            raise ErrorReferenceError(f"{model}: backtest has no interval with both an actual and a prediction")
        frame = pd.DataFrame(
            {
                "day": schema.interval_day(backtest["timestamp"]).to_numpy()[known],
                "sq": (actual[known] - predicted[known]) ** 2,
            }
        )
        per_day = frame.groupby("day")["sq"].agg(["sum", "count"])
        return cls(
            model,
            pd.DatetimeIndex(per_day.index),
            per_day["sum"].to_numpy(),
            per_day["count"].to_numpy(),
            float(actual[known].mean()),
        )

    def without(self, first_day: pd.Timestamp, last_day: pd.Timestamp) -> ErrorReference:
        """The reference without the days in [first_day, last_day] (to judge a reference month out of sample)."""
        keep = ~((self.days >= first_day) & (self.days <= last_day))
        if not keep.any():
            raise ErrorReferenceError(
                f"{self.model}: no reference day left outside {first_day:%Y-%m-%d}..{last_day:%Y-%m-%d}"
            )
        return ErrorReference(self.model, self.days[keep], self.day_sse[keep], self.day_count[keep], self.mean_usage)

    @property
    def rmse(self) -> float:
        return float(np.sqrt(self.day_sse.sum() / self.day_count.sum()))

    @property
    def period(self) -> str:
        return f"{self.days.min():%Y-%m-%d} to {self.days.max():%Y-%m-%d}"

    def month_rmse_quantile(self, days: int, quantile: float, samples: int = BOOTSTRAP_SAMPLES) -> float:
        """The `quantile` of the RMSE of a `days`-day month drawn (whole days, with replacement) from the reference."""
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        drawn = rng.integers(0, len(self.day_sse), size=(samples, max(1, days)))
        rmse = np.sqrt(self.day_sse[drawn].sum(axis=1) / self.day_count[drawn].sum(axis=1))
        return float(np.quantile(rmse, quantile))

    def per_month_rmse(self) -> dict[str, float]:
        """RMSE of each calendar month of the reference (the figures docs/flows.md reports)."""
        frame = pd.DataFrame({"sse": self.day_sse, "n": self.day_count}, index=self.days)
        grouped = frame.groupby(frame.index.strftime("%Y-%m")).sum()
        return {month: float(np.sqrt(row.sse / row.n)) for month, row in grouped.iterrows()}


@dataclass
class ErrorDrift:
    """One model's error on a month, and the limit it is judged by."""

    model: str
    holdout_rmse: float
    recent_rmse: float
    days: int  # length of the judged month in days (of 96 intervals)
    quantile: float  # rmse_quantile
    noise_limit: float  # the quantile of the RMSE of a `days`-day month of the reference
    floor_kwh: float  # changes below this are never drift

    @property
    def limit(self) -> float:
        return max(self.noise_limit, self.holdout_rmse + self.floor_kwh)

    @property
    def degradation(self) -> float:
        return self.recent_rmse / self.holdout_rmse - 1.0

    @property
    def drifted(self) -> bool:
        return self.recent_rmse > self.limit

    @property
    def reason(self) -> str:
        return (
            f"{self.model}: RMSE {self.recent_rmse:.3f} kWh over {self.days} days is above its limit "
            f"{self.limit:.3f} (holdout {self.holdout_rmse:.3f}, {self.degradation:+.1%}; a {self.days}-day month of "
            f"the holdout reaches {self.noise_limit:.3f} at its {self.quantile:.1%} quantile; floor "
            f"+{self.floor_kwh:.3f} kWh)"
        )

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "holdout_rmse": self.holdout_rmse,
            "recent_rmse": self.recent_rmse,
            "degradation": self.degradation,
            "days": self.days,
            "quantile": self.quantile,
            "noise_limit": self.noise_limit,
            "floor_kwh": self.floor_kwh,
            "limit": self.limit,
            "drifted": self.drifted,
        }


def rmse(actual, predicted) -> float:
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    known = ~np.isnan(actual) & ~np.isnan(predicted)
    return float(np.sqrt(np.mean((actual[known] - predicted[known]) ** 2)))


def judge(reference: ErrorReference, actual, predicted, quantile: float, floor_share: float) -> ErrorDrift:
    """The month's RMSE against the reference's noise limit for a month of its length, and the floor."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    known = int((~np.isnan(actual) & ~np.isnan(predicted)).sum())
    days = max(1, round(known / schema.INTERVALS_PER_DAY))
    return ErrorDrift(
        model=reference.model,
        holdout_rmse=reference.rmse,
        recent_rmse=rmse(actual, predicted),
        days=days,
        quantile=quantile,
        noise_limit=reference.month_rmse_quantile(days, quantile),
        floor_kwh=floor_share * reference.mean_usage,
    )
