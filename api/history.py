"""The clean history a day-ahead forecast needs: the readings before the day and its planned load schedule.

History comes from the clean readings the pipeline writes (ENERGY_HOME/assets/clean_readings/
<month>.parquet), read through `CleanHistory`, which re-reads only when the files change.

The planned `load_type` of the forecast day:
- when the clean readings already hold all 96 intervals of that day, their `load_type` is used
  (the plant's time-of-use class is planned ahead; this is also how the backtest saw those days);
- otherwise the plan is derived from history: for each interval, the most frequent load_type of
  the same weekday over the last four weeks (ties go to the most recent week). The plant's
  schedule repeats weekly (nights light, Sundays light all day), so this is the plan unless a
  holiday or shutdown is announced, which the history cannot know.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.features.transformers import OFF_LOAD
from energy_assets.ingest import continuity

# Days of usage a forecast needs before its day (four weeks of same-weekday lags), with gaps no
# worse than the clean readings' continuity limits (energy_assets.ingest.continuity).
HISTORY_DAYS = 28
# Days of history handed to the model: the lags plus room to find the previous day of each kind.
WINDOW_DAYS = 42
FIRST_DAY = (pd.Timestamp.min + pd.Timedelta(days=WINDOW_DAYS + 1)).date()
LAST_DAY = (pd.Timestamp.max - pd.Timedelta(days=2)).date()


class ForecastUnavailable(ValueError):
    """The day cannot be forecast from the history there is; the message says why."""


class CleanHistory:
    """The clean readings of every month, cached until a Parquet file is added, removed or rewritten.

    `snapshot()` also names the readings read: a SHA-256 of the files' contents (the copilot's
    answers carry it as `readings_version`).
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._signature: tuple | None = None
        self._frame: pd.DataFrame | None = None
        self._version = ""

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.parquet")) if self.directory.is_dir() else []

    def frame(self) -> pd.DataFrame:
        return self._load()[0]

    def _load(self) -> tuple[pd.DataFrame, str]:
        files = self._files()
        signature = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        with self._lock:
            if signature != self._signature:
                digest = hashlib.sha256()
                for f in files:
                    digest.update(f.name.encode())
                    digest.update(f.read_bytes())
                if files:
                    frame = pd.concat(
                        [pd.read_parquet(f, columns=list(schema.COLUMNS)) for f in files], ignore_index=True
                    )
                    frame = frame.sort_values(schema.TIMESTAMP).drop_duplicates(schema.TIMESTAMP, keep="last")
                else:
                    frame = pd.DataFrame({c: pd.Series(dtype=schema.DTYPES[c]) for c in schema.COLUMNS})
                frame = frame.reset_index(drop=True)
                frame["_day"] = schema.interval_day(frame[schema.TIMESTAMP]).to_numpy()
                self._frame, self._signature, self._version = frame, signature, "sha256:" + digest.hexdigest()[:16]
            return self._frame, self._version

    def snapshot(self) -> tuple[pd.DataFrame, str]:
        """The frame and the version of the readings it holds, read together."""
        return self._load()


@dataclass(frozen=True)
class ForecastInput:
    frame: pd.DataFrame  # history rows, then the 96 rows of the day (usage NaN)
    load_type_source: str
    history_days: int
    history_missing_intervals: int  # of the HISTORY_DAYS days before the day


def day_timestamps(day: pd.Timestamp) -> pd.Series:
    """The 96 interval end times of `day`: 00:15 ... 24:00 (00:00 of the next day)."""
    return pd.Series(pd.date_range(day + schema.INTERVAL, periods=schema.INTERVALS_PER_DAY, freq=schema.INTERVAL))


def planned_load_types(history: pd.DataFrame, day: pd.Timestamp) -> list[str]:
    """Per interval of `day`, the most frequent load_type of the same weekday over the last 4 weeks."""
    slots: list[Counter] = [Counter() for _ in range(schema.INTERVALS_PER_DAY)]
    latest: list[str | None] = [None] * schema.INTERVALS_PER_DAY
    for weeks_back in (4, 3, 2, 1):  # oldest first, so the most recent week breaks ties
        earlier = day - pd.Timedelta(days=7 * weeks_back)
        rows = history[history["_day"] == earlier]
        offsets = ((rows[schema.TIMESTAMP] - earlier) / schema.INTERVAL).astype(int) - 1
        for slot, load in zip(offsets.to_numpy(), rows["load_type"].to_numpy(), strict=True):
            slots[slot][load] += 1
            latest[slot] = load
    planned = []
    for slot, counts in enumerate(slots):
        if not counts:
            planned.append(OFF_LOAD)  # nothing known for this slot: assume the off-peak class
            continue
        best = max(counts.values())
        tied = {load for load, n in counts.items() if n == best}
        last = latest[slot]
        planned.append(last if last is not None and last in tied else sorted(tied)[0])
    return planned


def forecast_input(history: pd.DataFrame, day: dt.date) -> ForecastInput:
    """The forecaster's input for `day`, or ForecastUnavailable saying which history is missing.

    `history` is sorted by time with its `_day` column, as `CleanHistory` gives it.
    """
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ForecastUnavailable(f"day {day} is outside the supported range {FIRST_DAY} to {LAST_DAY}")
    target = pd.Timestamp(day)
    start, end = (
        target - pd.Timedelta(days=HISTORY_DAYS),
        target,
    )  # interval ends 00:15 of the first day ... 24:00 of the last
    # The history is sorted by time, so each span of days is a slice found by binary search.
    days = history["_day"].to_numpy()
    window_at, start_at, target_at, after_at = np.searchsorted(
        days,
        [
            (target - pd.Timedelta(days=WINDOW_DAYS)).to_datetime64(),
            start.to_datetime64(),
            target.to_datetime64(),
            (target + pd.Timedelta(days=1)).to_datetime64(),
        ],
    )
    recent = history[schema.TIMESTAMP].iloc[start_at:target_at]
    gaps = continuity.gaps_between(recent, start + schema.INTERVAL, end)
    missing = sum(g.missing for g in gaps)
    expected = HISTORY_DAYS * schema.INTERVALS_PER_DAY
    longest = max((g.length for g in gaps), default=pd.Timedelta(0))
    if missing / expected > continuity.MAX_MISSING_SHARE or longest > continuity.MAX_GAP:
        if history.empty:
            covered = "there are no clean readings"
        else:
            covered = f"clean readings cover {history['_day'].min().date()} to {history['_day'].max().date()}"
        raise ForecastUnavailable(
            f"forecasting {day} needs clean readings over the {HISTORY_DAYS} days before it ({start.date()} to "
            f"{(end - pd.Timedelta(days=1)).date()}) with at most {continuity.MAX_MISSING_SHARE:.0%} of their "
            f"intervals missing and no gap over {continuity.MAX_GAP}; {missing} of {expected} are missing and the "
            f"longest gap is {longest}; {covered}"
        )
    window = history.iloc[window_at:target_at]
    own = history.iloc[target_at:after_at]
    timestamps = day_timestamps(target)
    calendar = schema.calendar_columns(timestamps)
    if len(own) == schema.INTERVALS_PER_DAY:
        load_type, source = own["load_type"].to_numpy(), "clean_readings"
    else:
        load_type, source = planned_load_types(history, target), "planned_from_history"
    rows = pd.DataFrame(
        {
            schema.TIMESTAMP: timestamps.to_numpy(),
            **{name: calendar[name].to_numpy() if name == "nsm" else np.nan for name in schema.NUMERIC},
            "week_status": calendar["week_status"].to_numpy(),
            "day_of_week": calendar["day_of_week"].to_numpy(),
            "load_type": load_type,
        }
    )
    frame = pd.concat([window[list(schema.COLUMNS)], rows[list(schema.COLUMNS)]], ignore_index=True)
    frame[schema.TARGET] = frame[schema.TARGET].astype("float64")
    history_days = int(window["_day"].nunique())
    return ForecastInput(
        frame=frame, load_type_source=source, history_days=history_days, history_missing_intervals=missing
    )
