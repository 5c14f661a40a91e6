"""Graded continuity: which 15-minute intervals are missing, and when gaps become too many to use.

Real meter data has gaps. A gap is reported, not fatal, as long as no month misses more than
`MAX_MISSING_SHARE` of its intervals and no single gap is longer than `MAX_GAP` (defaults justified
in docs/data.md). The same limits decide whether the forecast API accepts a history window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_assets import schema

# At most this share of a month's intervals may be missing (5 % is about 36 hours of a month).
MAX_MISSING_SHARE = 0.05
# No single gap may be longer than this: a whole day missing removes every usage lag of a day.
MAX_GAP = pd.Timedelta(hours=24)


@dataclass(frozen=True)
class Gap:
    last_before: pd.Timestamp  # the last interval end present before the gap
    first_after: pd.Timestamp  # the first interval end present after it
    missing: int  # intervals missing

    @property
    def length(self) -> pd.Timedelta:
        return self.missing * schema.INTERVAL

    def describe(self) -> str:
        return f"{self.last_before} -> {self.first_after} ({self.missing} intervals missing)"


def gaps_between(
    timestamps: pd.Series, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> list[Gap]:
    """Every run of missing interval ends from `start` to `end` (default: the first and last present).

    With `start` or `end` beyond the data, the missing stretch at that edge counts as a gap too.
    """
    ts = np.unique(schema.as_timestamps(timestamps).to_numpy(dtype="datetime64[ns]"))  # sorted, distinct (NaT last)
    interval = schema.INTERVAL.to_timedelta64()
    if start is not None:
        ts = ts[ts >= start.to_datetime64()]
    if end is not None:
        ts = ts[ts <= end.to_datetime64()]
    before = [(start - schema.INTERVAL).to_datetime64()] if start is not None else []
    after = [(end + schema.INTERVAL).to_datetime64()] if end is not None else []
    edges = np.concatenate([np.array(before, dtype="datetime64[ns]"), ts, np.array(after, dtype="datetime64[ns]")])
    step = np.diff(edges)
    at = np.flatnonzero(step > interval) + 1
    return [Gap(pd.Timestamp(edges[i - 1]), pd.Timestamp(edges[i]), int(step[i - 1] // interval) - 1) for i in at]


def expected_intervals(start: pd.Timestamp, end: pd.Timestamp) -> int:
    return int((end - start) / schema.INTERVAL) + 1 if end >= start else 0


def missing_per_month(timestamps: pd.Series) -> pd.DataFrame:
    """Per month (by interval start) from the first to the last interval present: expected, found, missing, share."""
    ts = pd.Series(pd.to_datetime(timestamps)).drop_duplicates()
    if ts.empty:
        return pd.DataFrame(columns=["month", "expected", "found", "missing", "missing_share"])
    every = pd.Series(pd.date_range(ts.min(), ts.max(), freq=schema.INTERVAL))
    month = lambda s: schema.interval_day(s).dt.strftime("%Y-%m")  # noqa: E731
    table = pd.DataFrame({"expected": every.groupby(month(every).to_numpy()).size()})
    table["found"] = ts.groupby(month(ts).to_numpy()).size().reindex(table.index, fill_value=0)
    table["missing"] = table["expected"] - table["found"]
    table["missing_share"] = table["missing"] / table["expected"]
    return table.rename_axis("month").reset_index()


def continuity_problems(
    timestamps: pd.Series, max_missing_share: float = MAX_MISSING_SHARE, max_gap: pd.Timedelta = MAX_GAP
) -> tuple[list[str], list[Gap], pd.DataFrame]:
    """(what breaks the limits, every gap, the per-month table) of a series of interval ends."""
    gaps = gaps_between(timestamps)
    months = missing_per_month(timestamps)
    problems = [
        (
            f"{row.month}: {row.missing} of {row.expected} intervals missing ({row.missing_share:.2%} > "
            f"{max_missing_share:.2%})"
        )
        for row in months.itertuples()
        if row.missing_share > max_missing_share
    ]
    problems += [f"gap {g.describe()}, {g.length} > {max_gap}" for g in gaps if g.length > max_gap]
    return problems, gaps, months
