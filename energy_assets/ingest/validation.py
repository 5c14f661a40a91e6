"""Turning raw rows into clean readings, and keeping every rejected row with its reason.

Every raw row ends in exactly one place: clean, rejected (with every reason that applies), or
dropped as an exact duplicate of an earlier row. Nothing is silently fixed. The one documented
transformation is the export's midnight quirk: the 00:00 reading closes the day it is dated, so it
moves to 00:00 of the next day, and its day_of_week must then still name the day it closes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.ingest.reader import RAW_VALUE_COLUMNS, SOURCE_FILE, SOURCE_LINE

REASON = "reason"
REJECTED_COLUMNS: tuple[str, ...] = (SOURCE_FILE, SOURCE_LINE, *RAW_VALUE_COLUMNS, "parsed_timestamp", REASON)


@dataclass(frozen=True)
class ValidatedReadings:
    clean: pd.DataFrame
    rejected: pd.DataFrame
    exact_duplicates: int
    raw_rows: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "raw_rows": self.raw_rows,
            "clean_rows": len(self.clean),
            "rejected_rows": len(self.rejected),
            "exact_duplicates_dropped": self.exact_duplicates,
        }

    def reason_counts(self) -> dict[str, int]:
        """How many rejected rows carry each kind of reason (the text before the first ':')."""
        kinds = self.rejected[REASON].str.split("; ").explode().str.split(":").str[0]
        return {str(k): int(v) for k, v in kinds.value_counts().items()}


def _parse_timestamps(text: pd.Series) -> pd.Series:
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in schema.RAW_DATE_FORMATS:
        todo = parsed.isna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return parsed


def _add_reason(reasons: pd.Series, mask: pd.Series, message: pd.Series | str) -> None:
    """Append `message` to the reasons of the rows in `mask` (in place)."""
    if not mask.any():
        return
    text = message[mask] if isinstance(message, pd.Series) else message
    current = reasons[mask]
    reasons[mask] = np.where(current == "", text, current + "; " + text)


def validate(raw: pd.DataFrame) -> ValidatedReadings:
    """Split raw string rows (from `reader.read_raw`) into clean readings and rejected rows."""
    raw = raw.reset_index(drop=True)
    reasons = pd.Series("", index=raw.index, dtype=object)

    # Exact duplicates (every value equal, wherever they came from) carry no new information.
    duplicate = raw.duplicated(subset=list(RAW_VALUE_COLUMNS), keep="first")
    rows = raw[~duplicate]
    reasons = reasons[~duplicate]

    values: dict[str, pd.Series] = {}
    dated = _parse_timestamps(rows["timestamp"].str.strip())
    _add_reason(reasons, dated.isna(), "unparsable timestamp: '" + rows["timestamp"] + "'")

    for name, field in schema.NUMERIC.items():
        text = rows[name].str.strip()
        number = pd.to_numeric(text, errors="coerce")
        _add_reason(reasons, text == "", f"missing value: '{name}'")
        _add_reason(reasons, (text != "") & number.isna(), f"unparsable value: '{name}'='" + text + "'")
        finite = np.isfinite(number)
        _add_reason(reasons, number.notna() & ~finite, f"not finite: '{name}'='" + text + "'")
        outside = finite & ((number < field.minimum) | (number > field.maximum))
        _add_reason(
            reasons, outside, f"out of range: '{name}'=" + text + f" outside [{field.minimum:g}, {field.maximum:g}]"
        )
        values[name] = number

    nsm = values["nsm"]
    off_grid = nsm.notna() & ((nsm % schema.NSM_STEP_SECONDS != 0) | (nsm != nsm.round()))
    _add_reason(reasons, off_grid, f"inconsistent nsm: not on the {schema.NSM_STEP_SECONDS} s grid")

    for name, allowed in schema.CATEGORIES.items():
        text = rows[name].str.strip()
        _add_reason(reasons, ~text.isin(allowed), f"unknown category: '{name}'='" + text + f"' (allowed: {list(allowed)})")
        values[name] = text

    # The midnight quirk: a 00:00 reading closes the day it is dated.
    is_midnight = dated.notna() & (dated == dated.dt.normalize())
    timestamp = dated.where(~is_midnight, dated + pd.Timedelta(days=1))

    seconds = (dated - dated.dt.normalize()).dt.total_seconds()
    nsm_mismatch = dated.notna() & nsm.notna() & ~off_grid & (seconds != nsm)
    _add_reason(
        reasons, nsm_mismatch, "inconsistent nsm: nsm=" + rows["nsm"].str.strip() + " but the time of day is " + seconds.astype("Int64").astype(str) + " s"
    )
    calendar = schema.calendar_columns(timestamp.fillna(pd.Timestamp("2000-01-01"))).set_index(rows.index)
    day_mismatch = timestamp.notna() & values["day_of_week"].isin(schema.WEEKDAYS) & (calendar["day_of_week"] != values["day_of_week"])
    _add_reason(
        reasons, day_mismatch, "inconsistent day: day_of_week='" + values["day_of_week"] + "' but the interval falls on a " + calendar["day_of_week"]
    )
    status_mismatch = timestamp.notna() & values["week_status"].isin(schema.CATEGORIES["week_status"]) & (calendar["week_status"] != values["week_status"])
    _add_reason(
        reasons, status_mismatch, "inconsistent day: week_status='" + values["week_status"] + "' but the interval falls on a " + calendar["day_of_week"]
    )

    # The same interval twice with different values needs a judgement: reject every copy.
    clash = timestamp.notna() & timestamp.duplicated(keep=False)
    _add_reason(reasons, clash, "duplicate timestamp with different values: " + timestamp.astype(str))

    is_clean = reasons == ""
    clean = pd.DataFrame({schema.TIMESTAMP: timestamp[is_clean].astype("datetime64[ns]")})
    for name in schema.NUMERIC:
        column = values[name][is_clean]
        clean[name] = column.astype("int64") if name in schema.INTEGER_COLUMNS else column.astype("float64")
    for name in schema.CATEGORIES:
        clean[name] = values[name][is_clean].astype(object)
    clean = clean.sort_values(schema.TIMESTAMP).reset_index(drop=True)

    rejected = rows[~is_clean].copy()
    rejected["parsed_timestamp"] = timestamp[~is_clean].astype("datetime64[ns]")
    rejected[REASON] = reasons[~is_clean]
    rejected = rejected[list(REJECTED_COLUMNS)].reset_index(drop=True)
    return ValidatedReadings(clean=clean, rejected=rejected, exact_duplicates=int(duplicate.sum()), raw_rows=len(raw))


def month_of(timestamps: pd.Series) -> pd.Series:
    """The monthly partition key ('2018-01') of each interval: the month its interval starts in."""
    return schema.interval_day(timestamps).dt.strftime("%Y-%m")
