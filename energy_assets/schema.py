"""The canonical schema of a plant reading: the one place that names columns, types, ranges and categories.

The asset checks, the feature transformers, the models' signatures and the API's request
models all import from here, so a range or a category changes in one place only.
This module must stay free of Dagster/Prefect imports: the serving image imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# --- the raw UCI file ------------------------------------------------------------------------

# Header of the UCI export, in file order, mapped to canonical names. Known re-saved variants of
# the file rename one column; both spellings are accepted.
RAW_COLUMN_ALIASES: dict[str, str] = {
    "date": "timestamp",
    "Usage_kWh": "usage_kwh",
    "Lagging_Current_Reactive.Power_kVarh": "lagging_reactive_power_kvarh",
    "Lagging_Current_Reactive_Power_kVarh": "lagging_reactive_power_kvarh",
    "Leading_Current_Reactive_Power_kVarh": "leading_reactive_power_kvarh",
    "CO2(tCO2)": "co2_tco2",
    "Lagging_Current_Power_Factor": "lagging_power_factor",
    "Leading_Current_Power_Factor": "leading_power_factor",
    "NSM": "nsm",
    "WeekStatus": "week_status",
    "Day_of_week": "day_of_week",
    "Load_Type": "load_type",
}
# The header as the UCI file spells it (used in error messages: "expected ...").
RAW_COLUMNS: tuple[str, ...] = (
    "date",
    "Usage_kWh",
    "Lagging_Current_Reactive.Power_kVarh",
    "Leading_Current_Reactive_Power_kVarh",
    "CO2(tCO2)",
    "Lagging_Current_Power_Factor",
    "Leading_Current_Power_Factor",
    "NSM",
    "WeekStatus",
    "Day_of_week",
    "Load_Type",
)
# Day-first dates; re-saved copies use '-' instead of '/'.
RAW_DATE_FORMATS: tuple[str, ...] = ("%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M")

# The plant's local time, in which canonical timestamps are kept (naive). South Korea has no DST.
PLANT_TIMEZONE = "Asia/Seoul"

# Units an export may write each numeric column in, with the factor to the canonical unit. The
# first unit of each column is the canonical one (what the UCI export writes).
UNITS: dict[str, dict[str, float]] = {
    "usage_kwh": {"kWh": 1.0, "Wh": 0.001},
    "lagging_reactive_power_kvarh": {"kVarh": 1.0, "varh": 0.001},
    "leading_reactive_power_kvarh": {"kVarh": 1.0, "varh": 0.001},
    "co2_tco2": {"tCO2": 1.0, "kgCO2": 0.001},
    "lagging_power_factor": {"%": 1.0, "fraction": 100.0},
    "leading_power_factor": {"%": 1.0, "fraction": 100.0},
    "nsm": {"s": 1.0},
}

# --- physical consistency ----------------------------------------------------------------------

# kg of CO2 per kWh that ties co2_tco2 to usage_kwh (co2_tco2 = usage_kwh * factor / 1000, written
# rounded to 0.01 t). Derived from the bundled UCI file itself, not from an outside source: every
# row allows the factors [(co2 - 0.005) / (usage + 0.005), (co2 + 0.005) / (usage - 0.005)] x 1000,
# and the intersection over all its rows (except the 47 of 2018-01-02 whose co2 was written 0, see
# docs/data.md) is [0.458365, 0.458543] kg/kWh (measured 2026-11, bench/physics_of_bundled.py).
# The bounds below are that interval rounded outwards.
EMISSION_FACTOR_KG_PER_KWH: tuple[float, float] = (0.45836, 0.45855)

# --- the canonical reading -------------------------------------------------------------------

TIMESTAMP = "timestamp"
TARGET = "usage_kwh"
INTERVAL = pd.Timedelta(minutes=15)
INTERVALS_PER_DAY = 96
NSM_STEP_SECONDS = 900


@dataclass(frozen=True)
class NumericField:
    name: str
    unit: str
    description: str
    minimum: float
    maximum: float


@dataclass(frozen=True)
class CategoryField:
    name: str
    description: str
    categories: tuple[str, ...]


NUMERIC_FIELDS: tuple[NumericField, ...] = (
    NumericField("usage_kwh", "kWh", "Electricity used in the 15-minute interval", 0.0, 500.0),
    NumericField(
        "lagging_reactive_power_kvarh", "kVarh", "Lagging-current reactive energy in the interval", 0.0, 500.0
    ),
    NumericField(
        "leading_reactive_power_kvarh", "kVarh", "Leading-current reactive energy in the interval", 0.0, 500.0
    ),
    NumericField("co2_tco2", "tCO2", "CO2 emission figure of the interval", 0.0, 1.0),
    NumericField("lagging_power_factor", "%", "Lagging-current power factor", 0.0, 100.0),
    NumericField("leading_power_factor", "%", "Leading-current power factor", 0.0, 100.0),
    NumericField("nsm", "s", "Seconds from midnight at the end of the interval (0 for the midnight reading)", 0, 85500),
)
CATEGORY_FIELDS: tuple[CategoryField, ...] = (
    CategoryField("week_status", "Weekday or weekend", ("Weekday", "Weekend")),
    CategoryField(
        "day_of_week",
        "Day of the week the interval belongs to (the midnight reading belongs to the day it ends)",
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    ),
    CategoryField("load_type", "Planned load class of the interval", ("Light_Load", "Medium_Load", "Maximum_Load")),
)

NUMERIC: dict[str, NumericField] = {f.name: f for f in NUMERIC_FIELDS}
CATEGORIES: dict[str, tuple[str, ...]] = {f.name: f.categories for f in CATEGORY_FIELDS}
INTEGER_COLUMNS: tuple[str, ...] = ("nsm",)

# Column order of a clean reading.
COLUMNS: tuple[str, ...] = (TIMESTAMP, *NUMERIC, *CATEGORIES)
# What a caller knows about an interval without its meter total: the estimator's input.
ESTIMATOR_INPUT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c != TARGET)

DTYPES: dict[str, str] = {
    TIMESTAMP: "datetime64[ns]",
    **{name: ("int64" if name in INTEGER_COLUMNS else "float64") for name in NUMERIC},
    **dict.fromkeys(CATEGORIES, "object"),
}

WEEKDAYS: tuple[str, ...] = CATEGORIES["day_of_week"]


def as_timestamps(values) -> pd.Series:
    """`values` as a datetime Series; values that already are datetimes are not parsed again
    (pd.to_datetime re-checks every element, which the API's per-request paths cannot afford)."""
    series = pd.Series(values)
    return series if pd.api.types.is_datetime64_dtype(series) else pd.Series(pd.to_datetime(series))


def interval_day(timestamps: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """The calendar day an interval belongs to: its start's date (the 00:00 reading ends the day before)."""
    ts = pd.Series(timestamps)
    return (ts - INTERVAL).dt.normalize()


def calendar_columns(timestamps: pd.Series) -> pd.DataFrame:
    """nsm, day_of_week and week_status as the plant's meters derive them from an interval's end time."""
    ts = as_timestamps(timestamps).to_numpy(dtype="datetime64[ns]")
    midnight = ts.astype("datetime64[D]")
    start_day = (ts - INTERVAL.to_timedelta64()).astype("datetime64[D]")
    day_of_week = (start_day.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    return pd.DataFrame(
        {
            "nsm": ((ts - midnight) // pd.Timedelta(seconds=1).to_timedelta64()).astype("int64"),
            "day_of_week": np.asarray(WEEKDAYS, dtype=object)[day_of_week],
            "week_status": np.asarray(["Weekday", "Weekend"], dtype=object)[(day_of_week >= 5).astype(int)],
        }
    )


def reading_json(row, columns: tuple[str, ...] = ESTIMATOR_INPUT_COLUMNS) -> dict:
    """One reading (a row of a canonical frame) as JSON types: what the API takes in a request body."""
    body = {}
    for name in columns:
        value = row[name]
        if name == TIMESTAMP:
            body[name] = pd.Timestamp(value).isoformat()
        elif name in INTEGER_COLUMNS:
            body[name] = int(value)
        elif name in NUMERIC:
            body[name] = float(value)
        else:
            body[name] = str(value)
    return body


class SchemaError(ValueError):
    """A table does not have the canonical columns or types."""


def schema_problems(frame: pd.DataFrame, columns: tuple[str, ...] = COLUMNS) -> list[str]:
    """Every way `frame` departs from the canonical columns and dtypes, as readable sentences."""
    problems: list[str] = []
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing:
        problems.append(f"missing columns {missing}")
    if extra:
        problems.append(f"unexpected columns {extra}")
    problems.extend(
        f"column '{name}' has dtype {frame[name].dtype}, expected {DTYPES[name]}"
        for name in columns
        if name in frame.columns and str(frame[name].dtype) != DTYPES[name]
    )
    return problems
