"""Request and response models of the copilot's routes and MCP tools, with the examples the OpenAPI document shows.

Formats are checked here (a date, a month, a time on the 15-minute grid, positive numbers); what
only the data can judge (a day without readings, windows that overlap, energy that cannot fit) is
judged by `energy_assets.copilot` and answered 422 with the field it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Lineage, TariffInfo

# 00:00 .. 24:00 on the 15-minute grid ("24:00" closes a window at the end of the day).
CLOCK_PATTERN = r"^(([01][0-9]|2[0-3]):(00|15|30|45)|24:00)$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Clock = Annotated[
    str, Field(pattern=CLOCK_PATTERN, description="a time of day HH:MM on the 15-minute grid, 00:00 to 24:00")
]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="a month YYYY-MM")]
# Bounds far beyond this plant (its largest 15-minute reading is about 160 kWh) that keep the solver's input sane.
MAX_KWH = 1_000_000.0
MAX_KW = 100_000.0


class CopilotLineage(BaseModel):
    """What an answer was computed from."""

    models: list[Lineage] = Field(
        ..., description="The served models whose predictions the answer used (empty when it used readings only)"
    )
    readings_version: str = Field(..., description="SHA-256 (prefix) of the clean-readings files the answer read")
    tariff_version: str = Field(..., description="Tariff id @ version # hash of the tariff file")


class ShiftRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "days": ["2018-10-05"],
                    "from_start": "10:00",
                    "from_end": "11:00",
                    "to_start": "02:00",
                    "to_end": "03:00",
                    "share": 0.5,
                }
            ]
        },
    )
    days: list[dt.date] = Field(..., min_length=1, max_length=62, description="Past days with readings, YYYY-MM-DD")
    from_start: Clock
    from_end: Clock
    to_start: Clock
    to_end: Clock
    energy_kwh: float | None = Field(
        None, gt=0, le=MAX_KWH, allow_inf_nan=False, description="kWh to move per day (or give share)"
    )
    share: float | None = Field(
        None, gt=0, le=1, allow_inf_nan=False, description="Share of the from-window's energy to move (default 1)"
    )


class PowerFactorRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"target_pf_pct": 95, "cost_per_kvar": 30000, "bank_sizes_kvar": [25, 50, 75, 100, 150, 200]}]
        },
    )
    months: list[Month] | None = Field(
        None, min_length=1, max_length=120, description="Months to assess; default every month with readings"
    )
    bank_kvar: float | None = Field(
        None, gt=0, le=MAX_KW, allow_inf_nan=False, description="A capacitor bank to add (or give target_pf_pct)"
    )
    target_pf_pct: float | None = Field(
        None, gt=0, le=100, allow_inf_nan=False, description="The lagging power factor to reach, %"
    )
    switching: Literal["automatic", "fixed"] = Field(
        "automatic", description="automatic: the bank follows the load; fixed: always on"
    )
    cost_per_kvar: float | None = Field(
        None,
        ge=0,
        le=MAX_KWH,
        allow_inf_nan=False,
        description="Installed cost per kVAr in the tariff's currency (for the payback)",
    )
    bank_sizes_kvar: list[Annotated[float, Field(gt=0, le=MAX_KW, allow_inf_nan=False)]] | None = Field(
        None, min_length=1, max_length=50, description="Standard bank sizes to choose the smallest sufficient one from"
    )


class OptimizeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "day": "2018-10-10",
                    "energy_kwh": 200,
                    "duration_minutes": 120,
                    "power_limit_kw": 150,
                    "window_start": "06:00",
                    "window_end": "22:00",
                    "peak_cap_kw": 600,
                }
            ]
        },
    )
    day: dt.date = Field(..., description="The day to schedule on; its forecast is the baseline")
    energy_kwh: float = Field(..., gt=0, le=MAX_KWH, allow_inf_nan=False, description="Energy of the production block")
    duration_minutes: int = Field(
        ..., gt=0, le=1440, multiple_of=15, description="How long the block runs (a multiple of 15)"
    )
    power_limit_kw: float = Field(..., gt=0, le=MAX_KW, allow_inf_nan=False, description="The block's largest power")
    window_start: Clock
    window_end: Clock
    peak_cap_kw: float | None = Field(
        None, gt=0, le=MAX_KW, allow_inf_nan=False, description="Demand (baseline + block) must stay at or below this"
    )
    billing_demand_kw: float | None = Field(
        None,
        ge=0,
        le=MAX_KW,
        allow_inf_nan=False,
        description="The month's billing demand so far; a new peak above it costs the demand charge",
    )
    constant_power: bool = Field(False, description="Run the block at one constant power")
    baseline: Literal["usage_kwh", "p50", "p90"] = Field(
        "usage_kwh",
        description="Which forecast of the day is the baseline: the point forecast, the median or the cautious p90",
    )


class Answer(BaseModel):
    """Every copilot answer: the numbers (fields below and more), the tariff and the lineage."""

    model_config = ConfigDict(extra="allow")
    tariff: TariffInfo
    lineage: CopilotLineage


class BillAnswer(Answer):
    model_config = ConfigDict(extra="allow")
    bill: dict[str, Any] = Field(
        ...,
        description="Energy charge by period, billing demand and demand charge, power-factor adjustment, total, CO2",
    )
    complete_month: bool
    power_factor_rule: dict[str, Any] = Field(
        ...,
        description=(
            "The tariff's power-factor thresholds the bill's adjustment applies: lagging and leading window "
            "hours, reference %, surcharge floor %, discount ceiling %"
        ),
    )


class ShiftAnswer(Answer):
    model_config = ConfigDict(extra="allow")
    scenario: dict[str, Any]
    days: list[dict[str, Any]] = Field(
        ..., description="Per day: kWh per interval before and after, the peak before and after"
    )
    months: dict[str, Any] = Field(..., description="Each touched month's bill before and after")
    delta_total: dict[str, float] = Field(..., description="After minus before, per bill component")
    co2_t: dict[str, Any]


class PowerFactorAnswer(Answer):
    model_config = ConfigDict(extra="allow")
    scenario: dict[str, Any]
    pf: dict[str, Any] = Field(..., description="Per month: power factor and power-factor adjustment before and after")
    delta_total: dict[str, float]
    saving: float
    saving_per_year: float
    capital_cost: float | None
    payback_years: float | None


class OptimizeAnswer(Answer):
    model_config = ConfigDict(extra="allow")
    day: dt.date
    start: str
    end: str
    schedule: list[dict[str, Any]]
    cost: dict[str, float]
    as_early_as_allowed: dict[str, Any]
    saving_vs_early: float
    peak_kw: float


class ExplainAnswer(Answer):
    model_config = ConfigDict(extra="allow")
    day: dt.date
    day_kind: str = Field(..., description="The kind of day as the forecaster sees it: off, saturday, sunday, weekday")
    peak: dict[str, Any] = Field(..., description="The peak interval(s), kWh and kW")
    forecast: dict[str, Any] = Field(
        ..., description="The day-ahead forecast at the peak, its band, the day's forecast total"
    )
    typical: dict[str, Any] = Field(
        ..., description="The mean of the last days of the same kind, at the peak and over the day"
    )
    contributions: dict[str, Any] = Field(
        ..., description="SHAP contributions of the features to the forecast at the peak"
    )
    tariff_period: dict[str, Any]
    power_factor: dict[str, Any]
    sentences: list[str] = Field(..., description="One plain sentence per finding, filled with the numbers above")
