"""Explain a past day: its peak, how it compares with the forecast and a typical day, and why.

Everything is computed from the clean readings and the forecaster; the sentences are templates
filled with those numbers. The result is a JSON-able dict.

- **Peak**: the interval(s) of the day with the highest usage (ties all reported). Demand is the
  interval's energy × 4 (kW over 15 minutes).
- **Forecast**: the forecaster's day-ahead forecast of the day (from the whole days before it, as
  it would have been made the evening before), with its 80 % band when the model has bands.
- **Typical day of the same kind**: the kind as the forecaster defines it (planned off day,
  working Saturday, working Sunday, working weekday; `features.transformers.kind_of_days`); the
  typical value is the mean over the last `TYPICAL_DAYS` earlier days of that kind, slot by slot.
- **Forecast band**: the forecaster's 80 % band is built around its point forecast, so the point
  always lies inside the band shown with it (`training.bands`).
- **Contributions**: exact TreeSHAP values of the boosted trees (`copilot.treeshap`, the values
  shap's TreeExplainer gives, checked against shap in the suite) of the point forecast at the peak:
  how far each feature moved that interval's forecast from the model's average forecast. The
  Poisson-loss forecaster adds them on the log scale, so each is also given as the factor it
  multiplied the forecast by (see `_contributions`).
- **Tariff period**: `load_type` is the utility's time-of-use period of the interval.
- **Power factor**: the lagging and leading power factor readings of the peak interval.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.copilot.treeshap import tree_shap
from energy_assets.features.transformers import kind_of_days, planned_off_days

TYPICAL_DAYS = 4  # earlier days of the same kind averaged into the typical day
HISTORY_DAYS = 28  # whole days of readings the forecaster needs before a day
WINDOW_DAYS = 56  # days of readings before the day handed to the forecaster and the typical day
TOP_CONTRIBUTIONS = 5
# Losses whose boosted model predicts exp(raw score): SHAP adds up on the log scale there.
LOG_LINK_LOSSES = ("poisson", "gamma")
PERIOD_NAMES = {"Light_Load": "light-load", "Medium_Load": "mid-load", "Maximum_Load": "maximum-load"}
KIND_NAMES = {
    "off": "planned off day",
    "saturday": "working Saturday",
    "sunday": "working Sunday",
    "weekday": "working weekday",
}


class ExplainError(ValueError):
    """The day cannot be explained; `field` names the input at fault and the message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


def _parse_day(day) -> pd.Timestamp:
    if isinstance(day, (dt.date, pd.Timestamp)):
        return pd.Timestamp(day).normalize()
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(day)))
    except ValueError:
        raise ExplainError("day", f"{day!r} is not a date (YYYY-MM-DD)") from None


def _clock(ts: pd.Timestamp) -> str:
    """'HH:MM-HH:MM' of the 15-minute interval ending at `ts`."""
    start = ts - schema.INTERVAL
    end = "24:00" if ts.normalize() > start.normalize() else ts.strftime("%H:%M")
    return f"{start.strftime('%H:%M')}-{end}"


def _pct(a: float, b: float) -> float | None:
    return None if not np.isfinite(b) or b == 0 else float(100.0 * (a - b) / b)


def _more_or_less(value: float | None) -> str:
    if value is None:
        return "no comparable value"
    return f"{abs(value):.0f} % {'above' if value >= 0 else 'below'}"


def explain_day(readings: pd.DataFrame, forecaster, day) -> dict:
    """Explain `day` (a date or 'YYYY-MM-DD') from clean `readings` and a fitted forecaster Pipeline."""
    target_day = _parse_day(day)
    readings = readings.sort_values(schema.TIMESTAMP).reset_index(drop=True)
    days = schema.interval_day(readings[schema.TIMESTAMP])
    on_day = (days == target_day).to_numpy()
    if not on_day.any():
        first, last = days.min(), days.max()
        raise ExplainError(
            "day", f"{target_day.date()} has no readings (readings cover {first.date()} to {last.date()})"
        )
    today = readings[on_day].reset_index(drop=True)
    if today[schema.TARGET].isna().all():
        raise ExplainError("day", f"{target_day.date()} has no usage readings yet: it is not a past day")
    window = (days >= target_day - pd.Timedelta(days=WINDOW_DAYS)) & (days < target_day)
    history = readings[window.to_numpy()].reset_index(drop=True)
    history_days = schema.interval_day(history[schema.TIMESTAMP]).nunique()
    if history_days < HISTORY_DAYS:
        raise ExplainError(
            "day",
            f"{target_day.date()} has {history_days} days of readings before it; the forecaster needs {HISTORY_DAYS}",
        )

    frame = pd.concat([history, today], ignore_index=True)[list(schema.COLUMNS)]
    features = forecaster.named_steps["features"].transform(frame).iloc[len(history) :].reset_index(drop=True)
    regressor = forecaster.named_steps["regressor"]
    if hasattr(regressor, "predict_with_quantiles"):  # the band is built around this same point forecast
        point, quantiles = regressor.predict_with_quantiles(features)
        forecast, bands = np.asarray(point, dtype=float), quantiles.reset_index(drop=True)
    else:
        forecast, bands = np.asarray(regressor.predict(features), dtype=float), None

    frame_days = schema.interval_day(frame[schema.TIMESTAMP]).set_axis(frame.index)
    kinds = kind_of_days(planned_off_days(frame["load_type"], frame_days))
    kind = str(kinds[target_day])
    typical_days = [d for d in kinds.index if d < target_day and kinds[d] == kind][-TYPICAL_DAYS:]
    slot = (
        ((pd.to_datetime(today[schema.TIMESTAMP]) - schema.INTERVAL - target_day) / schema.INTERVAL)
        .astype(int)
        .to_numpy()
    )
    usage = frame.set_index(schema.TIMESTAMP)[schema.TARGET]
    typical = (
        np.nanmean(np.stack([usage.reindex(d + schema.INTERVAL * (slot + 1)).to_numpy() for d in typical_days]), axis=0)
        if typical_days
        else np.full(len(today), np.nan)
    )

    actual = today[schema.TARGET].to_numpy(dtype=float)
    peak_kwh = float(np.nanmax(actual))
    peaks = np.flatnonzero(actual == peak_kwh)
    first = int(peaks[0])
    peak_ts = pd.Timestamp(today[schema.TIMESTAMP].iloc[first])
    contributions = _contributions(regressor, features.iloc[[first]])

    period = str(today["load_type"].iloc[first])
    lagging_pf = float(today["lagging_power_factor"].iloc[first])
    leading_pf = float(today["leading_power_factor"].iloc[first])
    peak_forecast = float(forecast[first])
    peak_typical = float(typical[first]) if np.isfinite(typical[first]) else None
    day_actual, day_forecast = float(np.nansum(actual)), float(np.sum(forecast))
    day_typical = float(np.nansum(typical)) if typical_days else None

    peak_intervals = [
        {
            "timestamp": pd.Timestamp(today[schema.TIMESTAMP].iloc[i]).isoformat(),
            "interval": _clock(pd.Timestamp(today[schema.TIMESTAMP].iloc[i])),
            "usage_kwh": float(actual[i]),
            "demand_kw": float(actual[i] * 4),
        }
        for i in peaks
    ]
    peak_band = None
    if bands is not None:
        peak_band = {c: float(bands[c].iloc[first]) for c in bands.columns}
    outside_80 = None if peak_band is None else bool(peak_kwh > peak_band["p90"] or peak_kwh < peak_band["p10"])

    peak_sentence = (
        f"The peak was {peak_kwh:.2f} kWh ({peak_kwh * 4:.0f} kW) in {_clock(peak_ts)}"
        + (f", reached in {len(peaks)} intervals" if len(peaks) > 1 else "")
        + "."
    )
    forecast_sentence = (
        f"The day-ahead forecast for that interval was {peak_forecast:.2f} kWh, so the actual was "
        f"{_more_or_less(_pct(peak_kwh, peak_forecast))} the forecast"
        + (
            f" and {'outside' if outside_80 else 'inside'} the 80 % band "
            f"{peak_band['p10']:.2f}-{peak_band['p90']:.2f} kWh"
            if peak_band
            else ""
        )
        + "."
    )
    typical_sentence = (
        f"A typical {KIND_NAMES[kind]} (mean of the last {len(typical_days)}) used {peak_typical:.2f} kWh in that "
        f"interval and {day_typical:.0f} kWh over the day; this day used {day_actual:.0f} kWh, "
        f"{_more_or_less(_pct(day_actual, day_typical))} typical."
        if peak_typical is not None and day_typical is not None
        else f"No earlier {KIND_NAMES[kind]} in the {WINDOW_DAYS} days before to compare with."
    )
    top = contributions["features"][:3]
    contribution_sentence = (
        (
            f"Against the model's average forecast of {contributions['base_value_kwh']:.2f} kWh, the forecast at "
            "the peak was moved most by "
        )
        + ", ".join(
            f"{c['feature']} = {_value_text(c['value'])} ({_factor_text(c)}{c['contribution_kwh']:+.2f} kWh)"
            for c in top
        )
        + "."
    )
    period_sentence = f"The peak fell in the {PERIOD_NAMES.get(period, period)} time-of-use period ({period})."
    pf_sentence = (
        f"At the peak the lagging power factor was {lagging_pf:.1f} % and the leading power factor {leading_pf:.1f} %."
    )

    return {
        "day": target_day.date().isoformat(),
        "day_kind": kind,
        "peak": {
            "intervals": peak_intervals,
            "usage_kwh": peak_kwh,
            "demand_kw": peak_kwh * 4,
            "sentence": peak_sentence,
        },
        "forecast": {
            "peak_interval_kwh": peak_forecast,
            "peak_interval_band": peak_band,
            "actual_outside_80_band": outside_80,
            "day_total_kwh": day_forecast,
            "sentence": forecast_sentence,
        },
        "typical": {
            "kind": kind,
            "days": [d.date().isoformat() for d in typical_days],
            "peak_interval_kwh": peak_typical,
            "day_total_kwh": day_typical,
            "actual_day_total_kwh": day_actual,
            "sentence": typical_sentence,
        },
        "contributions": {**contributions, "sentence": contribution_sentence},
        "tariff_period": {"load_type": period, "sentence": period_sentence},
        "power_factor": {"lagging_pct": lagging_pf, "leading_pct": leading_pf, "sentence": pf_sentence},
        "sentences": [
            peak_sentence,
            forecast_sentence,
            typical_sentence,
            contribution_sentence,
            period_sentence,
            pf_sentence,
        ],
    }


def _factor_text(contribution: dict) -> str:
    return f"x{contribution['factor']:.2f}, " if "factor" in contribution else ""


def _value_text(value: float | None) -> str:
    return "missing" if value is None else f"{value:.2f}"


def _contributions(regressor, row: pd.DataFrame) -> dict:
    """SHAP values of the point forecast for one featurized row, largest magnitude first.

    A log-link model (Poisson loss) adds its SHAP values on the log scale: forecast =
    exp(base) * product of exp(value). Each feature then gets that exact `factor`, and its
    `contribution_kwh` is its share, in proportion to its log-scale value, of forecast - exp(base),
    so the kWh contributions still add up from the base to the forecast.
    """
    model = getattr(regressor, "point_model_", regressor)
    rows, base = tree_shap(model, row)
    values = rows[0]
    log_link = getattr(model, "loss", "squared_error") in LOG_LINK_LOSSES
    if log_link:
        base_kwh, forecast_kwh = math.exp(base), math.exp(base + values.sum())
        total = values.sum()
        kwh = values * ((forecast_kwh - base_kwh) / total) if total != 0 else np.zeros_like(values)
    else:
        base_kwh, forecast_kwh, kwh = base, float(base + values.sum()), values
    order = np.argsort(-np.abs(values))
    features = [
        {
            "feature": str(row.columns[i]),
            "value": None if pd.isna(row.iloc[0, i]) else float(row.iloc[0, i]),
            "contribution_kwh": float(kwh[i]),
            **({"factor": math.exp(float(values[i]))} if log_link else {}),
        }
        for i in order[:TOP_CONTRIBUTIONS]
    ]
    method = "exact TreeSHAP (path-dependent) on the point forecast"
    if log_link:
        method += " (log scale: factor = exp(SHAP value); kWh in proportion to the log-scale values)"
    return {"method": method, "base_value_kwh": base_kwh, "forecast_kwh": forecast_kwh, "features": features}
