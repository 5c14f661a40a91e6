"""Request and response models, built from `energy_assets.schema` so the API and the asset checks agree.

Names, types, ranges, units and categories come from the schema module; nothing here repeats a
range. A reading also has to be consistent the way the asset checks demand: `nsm` on the 15-minute
grid and equal to the time of day of `timestamp`, and `day_of_week` / `week_status` naming the day
the interval belongs to (the 00:00 reading closes the day before).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from energy_assets import schema

MAX_BATCH_ROWS = 10_000

_EXAMPLE_READING: JsonDict = {
    "timestamp": "2018-10-01T08:15:00",
    "lagging_reactive_power_kvarh": 31.39,
    "leading_reactive_power_kvarh": 0.0,
    "co2_tco2": 0.03,
    "lagging_power_factor": 85.53,
    "leading_power_factor": 100.0,
    "nsm": 29700,
    "week_status": "Weekday",
    "day_of_week": "Monday",
    "load_type": "Medium_Load",
}


def _numeric_field(field: schema.NumericField):
    """A pydantic field with the schema's range; integers stay integers (nsm), NaN/inf are refused."""
    is_integer = field.name in schema.INTEGER_COLUMNS
    kind = int if is_integer else float
    extra = {"multiple_of": schema.NSM_STEP_SECONDS} if field.name == "nsm" else {"allow_inf_nan": False}
    return (
        kind,
        Field(
            ...,
            ge=field.minimum,
            le=field.maximum,
            strict=is_integer,  # 900.5 or "900" is not an nsm
            description=f"{field.description} ({field.unit}), between {field.minimum:g} and {field.maximum:g}",
            **extra,
        ),
    )


def _category_field(field: schema.CategoryField):
    return (Literal[field.categories], Field(..., description=f"{field.description}: one of {list(field.categories)}"))


def interval_calendar(timestamp: dt.datetime) -> tuple[int, str, str]:
    """(nsm, day_of_week, week_status) of one interval end time, as `schema.calendar_columns` derives them.

    A scalar form of the schema's vectorized rule, because building a pandas Series per request
    costs more than the prediction; a test checks both agree over a whole year of intervals.
    """
    interval = schema.INTERVAL.to_pytimedelta()
    day = (timestamp - interval).date()
    name = schema.WEEKDAYS[day.weekday()]
    nsm = timestamp.hour * 3600 + timestamp.minute * 60 + timestamp.second
    return nsm, name, "Weekend" if name in ("Saturday", "Sunday") else "Weekday"


class _ReadingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE_READING]})


def _calendar_problems(timestamp: dt.datetime, nsm: int, day_of_week: str, week_status: str) -> list[str]:
    if timestamp.tzinfo is not None:
        return [
            (
                "timestamp: give the plant's local time without a UTC offset (e.g. 2018-10-01T08:15:00), "
                "the way the meter export records it"
            )
        ]
    expected_nsm, day_name, expected_status = interval_calendar(timestamp)
    problems = []
    if nsm != expected_nsm:
        problems.append(f"nsm={nsm} but timestamp {timestamp.isoformat()} is {expected_nsm} s after midnight")
    if day_of_week != day_name:
        problems.append(
            f"day_of_week={day_of_week!r} but the interval ending {timestamp.isoformat()} falls on a {day_name}"
        )
    if week_status != expected_status:
        problems.append(
            f"week_status={week_status!r} but the interval ending {timestamp.isoformat()} falls on a {day_name}"
        )
    return problems


_READING_FIELDS = dict(
    timestamp=(
        dt.datetime,
        Field(..., description="End of the 15-minute interval, plant local time (00:00 closes the previous day)"),
    ),
    **{f.name: _numeric_field(f) for f in schema.NUMERIC_FIELDS if f.name != schema.TARGET},
    **{f.name: _category_field(f) for f in schema.CATEGORY_FIELDS},
)

# One reading of a batch: each field checked against the schema here; the calendar consistency of
# all rows is checked at once on the batch's frame (`batch_calendar_problems`), which is 5x cheaper
# than a validator per row.
BatchReading = create_model(
    "BatchReading",
    __base__=_ReadingConfig,
    __doc__="One 15-minute interval in the canonical schema, without usage_kwh (the value to predict).",
    **_READING_FIELDS,
)


class _ConsistentReading(BatchReading):  # type: ignore[misc, valid-type]
    @model_validator(mode="after")
    def _consistent_calendar(self):
        problems = _calendar_problems(self.timestamp, self.nsm, self.day_of_week, self.week_status)
        if problems:
            raise ValueError("inconsistent reading: " + "; ".join(problems))
        return self


# One reading as the estimator takes it: every canonical column but usage_kwh, in schema order.
Reading = create_model(
    "Reading",
    __base__=_ConsistentReading,
    __doc__="One 15-minute interval in the canonical schema, without usage_kwh (the value to predict).",
)
assert tuple(Reading.model_fields) == schema.ESTIMATOR_INPUT_COLUMNS, "request model out of step with the schema"


def batch_calendar_problems(frame) -> list[tuple[int, str]]:
    """(row, message) for each batch row whose nsm / day_of_week / week_status contradicts its timestamp."""
    ts = frame[schema.TIMESTAMP]
    day_index = schema.interval_day(ts).dt.dayofweek.to_numpy()
    names = np.asarray(schema.WEEKDAYS, dtype=object)[day_index]
    nsm = ((ts - ts.dt.normalize()).dt.total_seconds()).to_numpy().astype("int64")
    status = np.where(np.isin(names, ("Saturday", "Sunday")), "Weekend", "Weekday")
    bad = (
        (frame["nsm"].to_numpy() != nsm)
        | (frame["day_of_week"].to_numpy() != names)
        | (frame["week_status"].to_numpy() != status)
    )
    problems = []
    for row in np.flatnonzero(bad):
        record = frame.iloc[row]
        found = _calendar_problems(
            record[schema.TIMESTAMP].to_pydatetime(), int(record["nsm"]), record["day_of_week"], record["week_status"]
        )
        problems.append((int(row), "inconsistent reading: " + "; ".join(found)))
    return problems


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    readings: list[BatchReading] = Field(  # type: ignore[valid-type]
        ...,
        min_length=1,
        max_length=MAX_BATCH_ROWS,
        description=f"1 to {MAX_BATCH_ROWS:,} readings; more are refused with 413.",
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_oversized(cls, data):
        # Before any reading is validated: a 10-million-row body must not cost 10 million validations.
        readings = data.get("readings") if isinstance(data, dict) else None
        if isinstance(readings, list) and len(readings) > MAX_BATCH_ROWS:
            raise PydanticCustomError(
                "batch_too_large",
                "a batch holds at most {max_length} readings; got {actual_length}",
                {"max_length": MAX_BATCH_ROWS, "actual_length": len(readings)},
            )
        return data


class Lineage(BaseModel):
    """Which model made a prediction, and from which data."""

    model_name: str
    model_version: str
    mlflow_run_id: str
    data_version: str | None = Field(None, description="DVC md5 of the raw export the model was trained on")


class Prediction(BaseModel):
    usage_kwh: float = Field(..., description="Estimated electricity use of the interval (kWh)")
    lineage: Lineage


class BatchPrediction(BaseModel):
    usage_kwh: list[float] = Field(..., description="One estimate per reading, in request order (kWh)")
    lineage: Lineage


class IntervalForecast(BaseModel):
    # Plant local time without a UTC offset, which JSON Schema's "date-time" (RFC 3339) does not allow.
    timestamp: str = Field(
        ..., description="End of the interval, ISO 8601 in plant local time without offset, e.g. 2018-11-14T00:15:00"
    )
    usage_kwh: float
    load_type: str = Field(..., description="The planned load class the forecast assumed")
    p025: float | None = Field(None, description="2.5 % quantile (kWh); null when the served forecaster has no bands")
    p10: float | None = Field(None, description="10 % quantile (kWh)")
    p50: float | None = Field(None, description="Median (kWh)")
    p90: float | None = Field(None, description="90 % quantile (kWh)")
    p975: float | None = Field(None, description="97.5 % quantile (kWh)")


class TariffInfo(BaseModel):
    """The tariff an answer was priced with (id, version, currency, emission factor, ...)."""

    model_config = ConfigDict(extra="allow")
    tariff_id: str
    tariff_version: str
    currency: str
    emission_factor_tco2_per_mwh: float


class ForecastLineage(Lineage):
    readings_version: str | None = Field(
        None, description="SHA-256 (prefix) of the clean-readings files the forecast read"
    )
    tariff_version: str | None = Field(
        None, description="The tariff that priced the day (null when no tariff could be loaded)"
    )


class Forecast(BaseModel):
    day: dt.date
    load_type_source: Literal["clean_readings", "planned_from_history"] = Field(
        ..., description="Where the day's planned load_type came from (see docs/api.md)"
    )
    history_days: int = Field(..., description="Days of clean history the forecast was made from")
    history_missing_intervals: int = Field(
        ...,
        description=(
            "15-minute intervals missing from the 28 days of history before the day (gaps within the continuity limits)"
        ),
    )
    intervals: list[IntervalForecast]
    bands: bool = Field(False, description="Whether the intervals carry the quantiles p025..p975")
    cost: dict[str, Any] | None = Field(
        None,
        description=(
            "The day priced from the point forecast: energy by period, energy charge, peak (kW, time, period), CO2"
        ),
    )
    peak_risk: dict[str, Any] | None = Field(
        None, description="With cap_kw: per interval, the probability that demand exceeds the cap"
    )
    tariff: TariffInfo | None = None
    lineage: ForecastLineage


class HistorySpan(BaseModel):
    first_day: dt.date | None = Field(None, description="First day with clean readings (None: there are none)")
    last_day: dt.date | None = Field(None, description="Last day with clean readings")
    days: int = Field(..., description="Days with at least one clean reading")
    months: list[str] = Field(..., description="Months (YYYY-MM) with clean readings, oldest first")
    next_day: dt.date | None = Field(None, description="The day after last_day: the next day-ahead forecast")


class ServedModel(BaseModel):
    name: str
    alias: str
    version: str
    mlflow_run_id: str
    model_uri: str
    holdout_metrics: dict[str, float]
    data_version: str | None
    git_commit: str | None
    code_version: str | None
    dagster_run_id: str | None
    gate_decision: str | None
    trained_at: str | None = Field(None, description="Start time of the training run (ISO 8601, UTC)")
    loaded_at: str


class ModelsInfo(BaseModel):
    tracking_uri: str
    models: list[ServedModel]


class GateVersion(BaseModel):
    version: str
    champion: bool = Field(..., description="Whether the champion alias points at this version now")
    decision: Literal["promoted", "kept"] | None = Field(
        None, description="The champion gate's decision (null: registered before any gate ran)"
    )
    holdout_rmse: float | None = Field(None, description="This version's holdout RMSE, kWh")
    reference: str | None = Field(None, description="What the gate compared it with: 'champion vN' or 'seasonal_naive'")
    reference_rmse: float | None = Field(None, description="That reference's holdout RMSE, kWh")
    run_id: str | None = None
    registered_at: str | None = None


class ModelGates(BaseModel):
    name: str
    champion_version: str | None = None
    versions: list[GateVersion] = Field(..., description="Registered versions, newest first")
    error: str | None = Field(None, description="Why the registry could not be read (then versions is empty)")


class DriftSummary(BaseModel):
    """One month's drift verdict as the drift_report asset stored it (energy_assets.monitoring.drift.DriftReport)."""

    model_config = ConfigDict(extra="allow")
    month: str
    reference: str
    rows: int
    reference_rows: int
    drifted: bool
    reasons: list[str]
    columns: list[dict[str, Any]] = Field(
        ..., description="PSI, KS and out-of-range share per feature, the target and the estimator's predictions"
    )
    errors: list[dict[str, Any]] = Field(..., description="Each champion's RMSE on the month against its limit")
    thresholds: dict[str, Any]
    computed_at: str | None = None
    run_id: str | None = Field(None, description="The Dagster run that materialized the month's drift_report")


class Monitoring(BaseModel):
    drift_report: DriftSummary | None = Field(
        ..., description="The latest monitored month's verdict; null when no month has been monitored yet"
    )
    drift_months: list[str] = Field(..., description="Every month with a stored drift report")
    message: str
    gates: list[ModelGates]


class MonthActualVsForecast(BaseModel):
    month: str
    actual_kwh: float = Field(..., description="The month's metered usage (clean readings), kWh")
    intervals: int = Field(..., description="Clean 15-minute readings of the month")
    forecast_kwh: float | None = Field(
        None, description="The backtest's forecast summed over the month's intervals it covers (null: not covered)"
    )
    forecast_actual_kwh: float | None = Field(None, description="The actual usage of the same intervals, kWh")
    forecast_intervals: int = Field(..., description="Intervals of the month the backtest covers")
    total_error_pct: float | None = Field(None, description="(forecast - actual) / actual of those intervals, %")
    rmse_kwh: float | None = Field(None, description="RMSE per 15-minute interval over those intervals, kWh")


class MonthlyActualVsForecast(BaseModel):
    months: list[MonthActualVsForecast]
    forecast_source: str
    lineage: ForecastLineage


class ModelHealth(BaseModel):
    loaded: bool
    version: str | None = None
    last_error: str | None = None
    last_checked: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    tracking_uri: str
    models: dict[str, ModelHealth]


class Ready(BaseModel):
    ready: bool
    detail: str


class ReloadOutcome(BaseModel):
    previous_version: str | None
    version: str | None
    changed: bool
    error: str | None = None


class ReloadResult(BaseModel):
    models: dict[str, ReloadOutcome]


class ErrorMessage(BaseModel):
    detail: str
