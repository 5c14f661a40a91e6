"""The copilot's operations as plain functions: plain inputs in, JSON-able dicts out.

The API routers and the MCP tools call these; nothing here knows HTTP, Dagster or Prefect.
Every answer carries `tariff` (id, version with a hash of the file, source date, emission factor).
Bad input raises `CopilotInputError` (or its subclasses `TariffError`, `InfeasibleError`) whose
`field` names the request field and whose message says why: the API maps them to 422.

`history` is the plant's clean readings (the canonical frame of `energy_assets.schema`, or any
frame with `timestamp`, `usage_kwh` and, for power factor, the two reactive-energy columns).
Pricing a year takes ~0.1-0.2 s, so a server prices it once with `prepare_history` and passes the
result (a `PricedHistory`) to every call; a plain DataFrame is priced on each call.
"""

from __future__ import annotations

import math

import pandas as pd

from energy_assets import schema
from energy_assets.copilot import optimize, whatif
from energy_assets.copilot.cost import (
    PricedHistory,
    bills_from_priced,
    co2_tonnes,
    month_number,
    period_agreement,
    priced_intervals,
)
from energy_assets.copilot.errors import CopilotInputError, InfeasibleError, TariffError
from energy_assets.copilot.tariff import PERIODS, Tariff, load_tariff

__all__ = [
    "CopilotInputError",
    "InfeasibleError",
    "PricedHistory",
    "TariffError",
    "bill",
    "day_cost",
    "load_tariff",
    "optimize_block",
    "peak_risk",
    "power_factor_rule",
    "prepare_history",
    "tariff_summary",
    "whatif_power_factor",
    "whatif_shift",
]


def _tariff(tariff: Tariff | str | None) -> Tariff:
    return tariff if isinstance(tariff, Tariff) else load_tariff(tariff)


def prepare_history(history: pd.DataFrame, tariff: Tariff | str | None = None) -> PricedHistory:
    """Price a history once for many calls. `tariff`: a Tariff, a path, or None (env ENERGY_TARIFF / the default)."""
    return whatif.prepare(history, _tariff(tariff))


def _history(history: pd.DataFrame | PricedHistory, tariff: Tariff) -> PricedHistory:
    if isinstance(history, PricedHistory) and history.tariff.label == tariff.label:
        return history
    frame = history.table if isinstance(history, PricedHistory) else history
    return whatif.prepare(frame, tariff)


def _answer(tariff: Tariff, **body) -> dict:
    return {**body, "tariff": tariff.lineage()}


def tariff_summary(tariff: Tariff | str | None = None) -> dict:
    """The tariff in force: periods by season and hour, rates, demand charge, power-factor rule, sources."""
    t = _tariff(tariff)
    periods = {season: [PERIODS[p] for p in t.period_table[i]] for i, season in enumerate(t.seasons)}
    return _answer(
        t,
        seasons=dict(sorted(t.season_of_month.items())),
        period_by_hour=periods,
        energy_rates={
            season: dict(zip(PERIODS, map(float, t.rates[i]), strict=True)) for i, season in enumerate(t.seasons)
        },
        demand_charge_per_kw=t.demand_charge_per_kw,
        billing_demand={"ratchet_months": list(t.ratchet_months), "lookback_months": t.lookback_months},
        power_factor=power_factor_rule(t),
        sources=t.sources,
    )


def power_factor_rule(tariff: Tariff) -> dict:
    """The tariff's power-factor rule: per window (lagging by day, leading by night) its hours, reference,
    surcharge floor and discount ceiling in %, and the share of the demand charge per percentage point."""
    return {
        "share_of_demand_charge_per_point": tariff.pf_share_per_point,
        "lagging": vars(tariff.lagging),
        "leading": vars(tariff.leading),
    }


def bill(history: pd.DataFrame | PricedHistory, month: str, tariff: Tariff | str | None = None) -> dict:
    """The bill of `month` ('YYYY-MM'): energy charge by period, billing demand and demand charge,
    power-factor adjustment, total and CO2. Earlier months of the history feed the demand ratchet."""
    t = _tariff(tariff)
    priced = _history(history, t)
    month_number(month)  # a malformed month names the field
    if month not in priced.months:
        raise CopilotInputError("month", f"{month!r} has no readings (have {priced.months[0]} .. {priced.months[-1]})")
    (result,) = bills_from_priced(priced.rows_of([month]), t, [month], priced.prior_peaks([month]))
    complete = result.intervals == result.expected_intervals
    return _answer(t, bill=result.to_dict(), complete_month=complete, power_factor_rule=power_factor_rule(t))


def whatif_shift(
    history: pd.DataFrame | PricedHistory,
    *,
    days,
    from_start: str,
    from_end: str,
    to_start: str,
    to_end: str,
    energy_kwh: float | None = None,
    share: float | None = None,
    tariff: Tariff | str | None = None,
) -> dict:
    """Move energy from the window [from_start, from_end) to [to_start, to_end) ('HH:MM', 15-minute grid)
    on each of `days` ('YYYY-MM-DD' or a list): `energy_kwh` per day, or `share` (0..1, default 1) of
    the window's energy. Answers the profiles before/after, each touched month's bill before/after and
    the delta per component, the new peak and CO2."""
    t = _tariff(tariff)
    return _answer(
        t,
        **whatif.shift(
            _history(history, t),
            t,
            days=days,
            from_window=whatif.parse_window(from_start, from_end, "from_window"),
            to_window=whatif.parse_window(to_start, to_end, "to_window"),
            energy_kwh=energy_kwh,
            share=share,
        ),
    )


def whatif_power_factor(
    history: pd.DataFrame | PricedHistory,
    *,
    months: list[str] | None = None,
    bank_kvar: float | None = None,
    target_pf_pct: float | None = None,
    switching: str = "automatic",
    cost_per_kvar: float | None = None,
    bank_sizes_kvar: list[float] | None = None,
    tariff: Tariff | str | None = None,
) -> dict:
    """A capacitor bank (`bank_kvar`) or the lagging power factor to reach (`target_pf_pct`): the
    reactive energy, power-factor adjustment and bill per month before/after, the saving per year,
    the smallest bank (of `bank_sizes_kvar` when given) reaching the target, and the payback when
    `cost_per_kvar` (installed cost per kVAr, the user's figure) is given. `months`: default all."""
    t = _tariff(tariff)
    return _answer(
        t,
        **whatif.power_factor(
            _history(history, t),
            t,
            months=months,
            bank_kvar=bank_kvar,
            target_pf_pct=target_pf_pct,
            switching=switching,
            cost_per_kvar=cost_per_kvar,
            bank_sizes_kvar=bank_sizes_kvar,
        ),
    )


def peak_risk(forecast: pd.DataFrame, cap_kw: float, tariff: Tariff | str | None = None) -> dict:
    """For a forecast day with quantile columns p025/p10/p50/p90/p975 (kWh per interval) and a demand
    cap in kW: the probability that each interval's demand exceeds the cap."""
    t = _tariff(tariff)
    return _answer(t, **whatif.peak_cap(forecast, cap_kw))


def day_cost(forecast: pd.DataFrame, column: str = "p50", tariff: Tariff | str | None = None) -> dict:
    """The energy charge, peak and CO2 of one (forecast) day from its `column` (kWh per interval).
    The demand charge is monthly, so a day reports its peak demand rather than a share of it."""
    t = _tariff(tariff)
    if column not in getattr(forecast, "columns", []):
        raise CopilotInputError(f"forecast.{column}", "missing column")
    frame = forecast[[schema.TIMESTAMP, column]].rename(columns={column: schema.TARGET})
    table = priced_intervals(frame, t)
    period, usage, charge = (table[c].to_numpy() for c in ("period", schema.TARGET, "energy_charge"))
    present = sorted(set(period))  # numpy sums per period: a pandas groupby costs more than the rest of a day's pricing
    by_period = {p: (math.fsum(usage[period == p]), math.fsum(charge[period == p])) for p in present}  # exactly rounded
    peak = int(table["demand_kw"].to_numpy().argmax())
    return _answer(
        t,
        energy_kwh=round(float(table[schema.TARGET].sum()), 3),
        energy_charge=round(float(table["energy_charge"].sum()), 2),
        energy_by_period={
            p: {"kwh": round(float(kwh), 3), "charge": round(float(cost), 2)} for p, (kwh, cost) in by_period.items()
        },
        peak_kw=round(float(table["demand_kw"].iloc[peak]), 2),
        peak_at=pd.Timestamp(table[schema.TIMESTAMP].iloc[peak]).isoformat(),
        peak_period=str(table["period"].iloc[peak]),
        co2_t=round(co2_tonnes(float(table[schema.TARGET].sum()), t), 4),
    )


def optimize_block(
    forecast: pd.DataFrame,
    *,
    energy_kwh: float,
    duration_minutes: int,
    power_limit_kw: float,
    window_start: str,
    window_end: str,
    peak_cap_kw: float | None = None,
    billing_demand_kw: float | None = None,
    constant_power: bool = False,
    baseline_column: str = "p50",
    tariff: Tariff | str | None = None,
) -> dict:
    """Schedule a deferrable block (`energy_kwh` within `duration_minutes`, at most `power_limit_kw`,
    inside [window_start, window_end)) on a forecast day (96 intervals, baseline kWh in
    `baseline_column`) at least cost, optionally under `peak_cap_kw`: a MILP solved by HiGHS. Answers
    the schedule, its cost against running as early as allowed, and whether the cap binds."""
    t = _tariff(tariff)
    baseline = optimize.baseline_day(forecast, baseline_column)
    window = whatif.parse_window(window_start, window_end, "window")
    return _answer(
        t,
        **optimize.schedule_block(
            baseline,
            t,
            energy_kwh=energy_kwh,
            duration_minutes=duration_minutes,
            power_limit_kw=power_limit_kw,
            window=window,
            peak_cap_kw=peak_cap_kw,
            billing_demand_kw=billing_demand_kw,
            constant_power=constant_power,
        ),
    )


def verify_periods(history: pd.DataFrame, tariff: Tariff | str | None = None) -> dict:
    """How often the readings' load_type equals the tariff's period for their season and hour."""
    t = _tariff(tariff)
    return _answer(t, **period_agreement(history, t))
