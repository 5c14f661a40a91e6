"""What-if scenarios on priced history: shift energy between windows, add a capacitor bank, cap the peak.

Each scenario changes a copy of the priced intervals and re-bills the months it touches (and the
months whose billing demand it can change through the ratchet), so every delta is the tariff's own
arithmetic: energy by period, billing demand, power-factor adjustment, total and CO2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.copilot.cost import (
    LAGGING,
    LEADING,
    MonthBill,
    PricedHistory,
    bills_from_priced,
    co2_tonnes,
    month_number,
    priced_intervals,
    rebill_demand,
)
from energy_assets.copilot.errors import CopilotInputError, InfeasibleError, number
from energy_assets.copilot.tariff import INTERVAL_HOURS, Tariff

SLOT = schema.INTERVAL
MAX_INTERVAL_KWH = schema.NUMERIC[schema.TARGET].maximum
QUANTILE_COLUMNS: tuple[str, ...] = ("p025", "p10", "p50", "p90", "p975")
QUANTILE_LEVELS = np.array([0.025, 0.10, 0.50, 0.90, 0.975])
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Window:
    """Intervals of a day, by the slot they start in: [first, last) with slot k starting k x 15 min after midnight."""

    first: int
    last: int

    @property
    def slots(self) -> np.ndarray:
        return np.arange(self.first, self.last)

    def label(self) -> str:
        def clock(slot):
            minutes = slot * 15
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        return f"{clock(self.first)}-{clock(self.last)}"


def parse_clock(value: str, field: str) -> int:
    """'HH:MM' on the 15-minute grid -> slot number 0..96 ('24:00' is the end of the day)."""
    match = _CLOCK.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise CopilotInputError(field, f"expected a time 'HH:MM', got {value!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise CopilotInputError(field, f"{value!r} is not a time of day between 00:00 and 24:00")
    if minutes % 15:
        raise CopilotInputError(field, f"{value!r} is not on the 15-minute grid")
    return hours * 4 + minutes // 15


def parse_window(start: str, end: str, field: str) -> Window:
    first, last = parse_clock(start, f"{field}.start"), parse_clock(end, f"{field}.end")
    if first >= last:
        raise CopilotInputError(field, f"start {start} is not before end {end} (a window lies within one day)")
    return Window(first, last)


def parse_days(days, history: PricedHistory, field: str = "days") -> list[pd.Timestamp]:
    if isinstance(days, (str, pd.Timestamp)):
        days = [days]
    if not days:
        raise CopilotInputError(field, "name at least one day (YYYY-MM-DD)")
    known = history.days
    parsed = []
    for value in days:
        try:
            day = pd.Timestamp(value).normalize()
        except (ValueError, TypeError) as error:
            raise CopilotInputError(field, f"{value!r} is not a date YYYY-MM-DD") from error
        if day not in known:
            raise CopilotInputError(
                field, f"{day.date()} has no readings (have {known.min().date()} .. {known.max().date()})"
            )
        if day in parsed:
            raise CopilotInputError(field, f"{day.date()} is named twice")
        parsed.append(day)
    return sorted(parsed)


def _reprice(table: pd.DataFrame) -> None:
    table["energy_charge"] = table[schema.TARGET].to_numpy() * table["rate"].to_numpy()
    table["demand_kw"] = table[schema.TARGET].to_numpy() / INTERVAL_HOURS


def affected_months(history: PricedHistory, tariff: Tariff, months: set[str]) -> list[str]:
    """The months to re-bill: those changed, and later ones whose billing demand a changed ratchet month can set."""
    labels = history.months
    out = set(months)
    for month in months:
        year, number = (int(x) for x in month.split("-"))
        if number in tariff.ratchet_months:
            index = year * 12 + number - 1
            for other in labels:
                y, n = (int(x) for x in other.split("-"))
                if 0 < y * 12 + n - 1 - index < tariff.lookback_months:
                    out.add(other)
    return sorted(out)


def bill_both(
    history: PricedHistory, tariff: Tariff, changed: list[str], months: list[str], scenario: pd.DataFrame
) -> dict:
    """Bills of `months` before and after a scenario that changed the rows of `changed` (given as `scenario`).

    The changed months are billed from their new rows; the other months only see the changed
    months' new maximum demands through the ratchet."""
    before = history.bills()
    after = {b.month: b for b in bills_from_priced(scenario, tariff, changed, history.prior_peaks(changed))}
    peaks = {**history.peaks, **{month_number(m): (b.max_demand_kw, m) for m, b in after.items()}}
    for month in months:
        if month not in after:
            after[month] = rebill_demand(before[month], peaks, tariff)
    return compare_bills({m: before[m] for m in months}, after)


def _components(bill: MonthBill) -> dict[str, float]:
    return {
        "energy_charge": bill.energy_charge,
        "demand_charge": bill.demand_charge,
        "pf_adjustment": bill.pf_adjustment,
        "total": bill.total,
        "energy_kwh": bill.energy_kwh,
        "billing_demand_kw": bill.billing_demand_kw,
        "co2_t": bill.co2_t,
        **{f"energy_charge_{p}": v for p, v in bill.energy_charge_by_period.items()},
    }


def compare_bills(before: dict[str, MonthBill], after: dict[str, MonthBill]) -> dict:
    """Per month: the bill before, after, and after - before, per component; plus the sum over months."""
    months = {}
    totals: dict[str, float] = {}
    for month in sorted(before):
        b, a = _components(before[month]), _components(after[month])
        delta = {k: a[k] - b[k] for k in b}
        months[month] = {"before": before[month].to_dict(), "after": after[month].to_dict(), "delta": _round(delta)}
        for key, value in delta.items():
            totals[key] = totals.get(key, 0.0) + value
    return {"months": months, "delta_total": _round(totals)}


def _round(values: dict, digits: int = 2) -> dict:
    return {k: round(float(v), digits) for k, v in values.items()}


# --- (a) shift energy between windows ----------------------------------------------------------


def shift(
    history: PricedHistory,
    tariff: Tariff,
    *,
    days,
    from_window: Window,
    to_window: Window,
    energy_kwh: float | None = None,
    share: float | None = None,
) -> dict:
    """Move energy from one window to another on each of `days`.

    The energy taken from `from_window` comes off each interval in proportion to its use (so the
    profile's shape is kept); it is spread evenly over `to_window`. Lagging reactive energy moves
    with it at the source intervals' kVarh/kWh ratio; leading reactive energy stays. Give either
    `energy_kwh` (per day) or `share` (0..1 of the window's energy, default 1).
    """
    if set(from_window.slots) & set(to_window.slots):
        raise CopilotInputError("to_window", f"{to_window.label()} overlaps from_window {from_window.label()}")
    if energy_kwh is not None and share is not None:
        raise CopilotInputError("energy_kwh", "give energy_kwh or share, not both")
    if energy_kwh is not None:
        energy_kwh = number("energy_kwh", energy_kwh, unit="kWh")
    share = 1.0 if share is None and energy_kwh is None else share
    if share is not None:
        share = number("share", share, maximum=1.0)
    day_list = parse_days(days, history)
    changed = sorted({f"{d.year:04d}-{d.month:02d}" for d in day_list})
    months = affected_months(history, tariff, set(changed))
    table = history.rows_of(changed)
    scenario = table.copy()
    slots = table["slot"].to_numpy()
    day_values = table["day"].to_numpy()
    has_reactive = LAGGING in table.columns
    usage = scenario[schema.TARGET].to_numpy(copy=True)
    lag = scenario[LAGGING].to_numpy(copy=True) if has_reactive else None
    original = table[schema.TARGET].to_numpy()
    profiles, moved_total = [], 0.0
    for day in day_list:
        on_day = day_values == day.to_datetime64()
        source = np.flatnonzero(on_day & np.isin(slots, from_window.slots))
        target = np.flatnonzero(on_day & np.isin(slots, to_window.slots))
        if len(source) != len(from_window.slots) or len(target) != len(to_window.slots):
            raise CopilotInputError("days", f"{day.date()} lacks readings in the windows")
        available = float(original[source].sum())
        if share is not None:
            moved = available * share
        else:
            assert energy_kwh is not None  # share defaults to 1.0 when energy_kwh is not given
            moved = float(energy_kwh)
        if moved > available + 1e-9:
            raise InfeasibleError(
                "energy_kwh",
                (
                    f"{day.date()}: from_window {from_window.label()} used only {available:.2f} kWh, cannot move "
                    f"{moved:.2f}"
                ),
            )
        factor = 1.0 - (moved / available if available > 0 else 0.0)
        usage[source] *= factor
        usage[target] += moved / len(target)
        if usage[target].max() > MAX_INTERVAL_KWH:
            raise InfeasibleError(
                "to_window",
                (
                    f"{day.date()}: an interval would use {usage[target].max():.1f} kWh, above the "
                    f"{MAX_INTERVAL_KWH:.0f} kWh a 15-minute reading can hold"
                ),
            )
        if lag is not None:
            moved_kvarh = lag[source].sum() * (1.0 - factor)
            lag[source] *= factor
            lag[target] += moved_kvarh / len(target)
        before_day, after_day = original[on_day], usage[on_day]
        profiles.append(
            {
                "day": str(day.date()),
                "moved_kwh": round(moved, 3),
                "before_kwh": [round(float(v), 3) for v in before_day],
                "after_kwh": [round(float(v), 3) for v in after_day],
                "peak_kw_before": round(float(before_day.max() / INTERVAL_HOURS), 2),
                "peak_kw_after": round(float(after_day.max() / INTERVAL_HOURS), 2),
            }
        )
        moved_total += moved
    scenario[schema.TARGET] = usage
    if lag is not None:
        scenario[LAGGING] = lag
    _reprice(scenario)
    result = bill_both(history, tariff, changed, months, scenario)
    energy = float(original[np.isin(day_values, [d.to_datetime64() for d in day_list])].sum())
    return {
        "scenario": {
            "days": [str(d.date()) for d in day_list],
            "from_window": from_window.label(),
            "to_window": to_window.label(),
            "energy_kwh": energy_kwh,
            "share": share,
            "moved_kwh_total": round(moved_total, 3),
        },
        "days": profiles,
        **result,
        "co2_t": {
            "before": round(co2_tonnes(energy, tariff), 4),
            "after": round(co2_tonnes(energy, tariff), 4),
            "note": "CO2 is kWh x one grid emission factor, so moving energy in time leaves it unchanged",
        },
    }


# --- (b) power factor: a capacitor bank --------------------------------------------------------

SWITCHING = ("automatic", "fixed")


def with_bank(table: pd.DataFrame, bank_kvar: float, switching: str) -> pd.DataFrame:
    """The readings with a capacitor bank of `bank_kvar`: it supplies up to bank_kvar x 0.25 kVArh per interval.

    automatic: the controller switches steps in only against lagging reactive energy (none turns
    leading). fixed: the bank is always on, and what it supplies beyond the lagging reactive
    energy becomes leading reactive energy (judged by the tariff's leading rule at night)."""
    supplied = bank_kvar * INTERVAL_HOURS
    out = table.copy()
    lag = table[LAGGING].to_numpy()
    out[LAGGING] = np.maximum(lag - supplied, 0.0)
    if switching == "fixed":
        out[LEADING] = table[LEADING].to_numpy() + np.maximum(supplied - lag, 0.0)
    return out


def _round_pct(value: float | None) -> float | None:
    """A power factor to two decimals; None (no reactive readings in the month) stays None."""
    return None if value is None else round(value, 2)


def required_bank_kvar(table: pd.DataFrame, tariff: Tariff, months: list[str], target_pf_pct: float) -> float:
    """The smallest automatic bank (kVAr, to 0.1) that lifts every month's lagging power factor to the target.

    The lagging power factor only rises with the bank's size, so a bisection finds it."""
    rows = np.isin(table["month_index"].to_numpy(), [month_number(m) for m in months]) & tariff.lagging.contains(
        table["hour"].to_numpy()
    )
    codes = pd.factorize(table["month_index"].to_numpy()[rows])[0]
    kwh = np.bincount(codes, weights=table[schema.TARGET].to_numpy()[rows])
    lag = table[LAGGING].to_numpy()[rows]

    def reaches(bank_kvar: float) -> bool:
        kvarh = np.bincount(codes, weights=np.maximum(lag - bank_kvar * INTERVAL_HOURS, 0.0), minlength=len(kwh))
        apparent = np.hypot(kwh, kvarh)
        pf = np.where(apparent > 0, 100.0 * kwh / np.where(apparent > 0, apparent, 1.0), 100.0)
        return bool((pf >= target_pf_pct).all())

    if reaches(0.0):
        return 0.0
    low, high = 0.0, float(lag.max() / INTERVAL_HOURS) + 0.1
    while high - low > 0.05:
        middle = (low + high) / 2
        low, high = (low, middle) if reaches(middle) else (middle, high)
    return float(np.ceil(high * 10) / 10)


def power_factor(
    history: PricedHistory,
    tariff: Tariff,
    *,
    months: list[str] | None = None,
    bank_kvar: float | None = None,
    target_pf_pct: float | None = None,
    switching: str = "automatic",
    cost_per_kvar: float | None = None,
    bank_sizes_kvar: list[float] | None = None,
) -> dict:
    """The bills with a capacitor bank, given its size or the lagging power factor to reach.

    With `target_pf_pct`, the bank is the smallest that reaches it in every month named (or, with
    `bank_sizes_kvar`, the smallest of those sizes that does). Payback needs `cost_per_kvar`, the
    installed cost per kVAr of the user's quote: the project ships no such price."""
    if LAGGING not in history.table.columns or LEADING not in history.table.columns:
        raise CopilotInputError("readings", f"the power-factor what-if needs the columns {LAGGING} and {LEADING}")
    if switching not in SWITCHING:
        raise CopilotInputError("switching", f"{switching!r}: expected one of {list(SWITCHING)}")
    if (bank_kvar is None) == (target_pf_pct is None):
        raise CopilotInputError("bank_kvar", "give either bank_kvar or target_pf_pct")
    if bank_kvar is not None:
        bank_kvar = number("bank_kvar", bank_kvar, unit="kVAr")
    if target_pf_pct is not None:
        target_pf_pct = number("target_pf_pct", target_pf_pct, maximum=100.0, unit="%")
    if cost_per_kvar is not None:
        cost_per_kvar = number("cost_per_kvar", cost_per_kvar, strict=False)
    if bank_sizes_kvar is not None and not isinstance(bank_sizes_kvar, (list, tuple)):
        raise CopilotInputError("bank_sizes_kvar", f"expected a list of sizes in kVAr, got {bank_sizes_kvar!r}")
    sizes = sorted(number("bank_sizes_kvar", s, unit="kVAr") for s in bank_sizes_kvar or [])
    known = history.months
    if months is not None and (isinstance(months, str) or not isinstance(months, (list, tuple))):
        raise CopilotInputError("months", f"expected a list of months YYYY-MM, got {months!r}")
    months = sorted(months or known)
    for month in months:
        if month not in known:
            raise CopilotInputError("months", f"{month!r} has no readings (have {known[0]} .. {known[-1]})")
    # Reactive energy changes neither kWh nor kW, so only the months named are re-billed.
    needed = months
    table = history.rows_of(needed)
    required = None
    if target_pf_pct is not None:
        required = required_bank_kvar(table, tariff, months, target_pf_pct)
        bank_kvar = required
        if sizes:
            fitting = [s for s in sizes if s >= required]
            if not fitting:
                raise InfeasibleError(
                    "bank_sizes_kvar",
                    f"the largest size {sizes[-1]} kVAr is below the {required} kVAr needed for {target_pf_pct} %",
                )
            bank_kvar = fitting[0]
    assert bank_kvar is not None  # given, or sized above from target_pf_pct
    prior = history.prior_peaks(needed)
    banked = with_bank(table, bank_kvar, switching)
    before = {b.month: b for b in bills_from_priced(table, tariff, needed, prior)}
    after = {b.month: b for b in bills_from_priced(banked, tariff, needed, prior)}
    labels = table["month"].astype(str).to_numpy()
    reactive = {
        (m, column, when): round(float(frame[column].to_numpy()[labels == m].sum()), 2)
        for m in needed
        for column in (LAGGING, LEADING)
        for when, frame in (("before", table), ("after", banked))
    }
    result = compare_bills(before, after)
    saving = -result["delta_total"]["total"]
    per_year = saving * 12 / len(months)
    capital = None if cost_per_kvar is None else bank_kvar * cost_per_kvar
    return {
        "scenario": {
            "bank_kvar": bank_kvar,
            "required_kvar": required,
            "target_pf_pct": target_pf_pct,
            "switching": switching,
            "months": months,
            "bank_sizes_kvar": sizes or None,
        },
        "pf": {
            m: {
                "lagging_pf_pct_before": _round_pct(before[m].lagging_pf_pct),
                "lagging_pf_pct_after": _round_pct(after[m].lagging_pf_pct),
                "leading_pf_pct_before": _round_pct(before[m].leading_pf_pct),
                "leading_pf_pct_after": _round_pct(after[m].leading_pf_pct),
                "pf_adjustment_before": round(before[m].pf_adjustment, 2),
                "pf_adjustment_after": round(after[m].pf_adjustment, 2),
                "lagging_kvarh_before": reactive[(m, LAGGING, "before")],
                "lagging_kvarh_after": reactive[(m, LAGGING, "after")],
                "leading_kvarh_before": reactive[(m, LEADING, "before")],
                "leading_kvarh_after": reactive[(m, LEADING, "after")],
            }
            for m in needed
        },
        **result,
        "saving": round(saving, 2),
        "saving_per_year": round(per_year, 2),
        "capital_cost": None if capital is None else round(capital, 2),
        "payback_years": (round(capital / per_year, 2) if capital is not None and per_year > 0 else None),
        "payback_note": None
        if cost_per_kvar is not None
        else "give cost_per_kvar (your installed cost per kVAr) for the payback",
    }


# --- (c) peak cap: exceedance probability from forecast quantiles -------------------------------


def quantile_frame(forecast: pd.DataFrame, field: str = "forecast") -> pd.DataFrame:
    """Check a forecast day's quantiles (kWh per interval): present, finite, non-negative, non-decreasing."""
    if not isinstance(forecast, pd.DataFrame) or forecast.empty:
        raise CopilotInputError(field, "expected a non-empty table of intervals with quantiles")
    for column in (schema.TIMESTAMP, *QUANTILE_COLUMNS):
        if column not in forecast.columns:
            raise CopilotInputError(f"{field}.{column}", "missing column")
    values = forecast[list(QUANTILE_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise CopilotInputError(f"{field}.{QUANTILE_COLUMNS[col]}", f"row {row}: missing, not finite or negative")
    crossing = np.diff(values, axis=1) < -1e-9
    if crossing.any():
        row, col = np.argwhere(crossing)[0]
        raise CopilotInputError(
            f"{field}.{QUANTILE_COLUMNS[col + 1]}",
            f"row {row}: below {QUANTILE_COLUMNS[col]} (quantiles must not cross)",
        )
    timestamps = pd.to_datetime(forecast[schema.TIMESTAMP], errors="coerce")
    if timestamps.isna().any() or (timestamps.dt.floor(SLOT) != timestamps).any() or timestamps.duplicated().any():
        raise CopilotInputError(f"{field}.{schema.TIMESTAMP}", "timestamps must be unique and on the 15-minute grid")
    out = pd.DataFrame(values, columns=list(QUANTILE_COLUMNS))
    out.insert(0, schema.TIMESTAMP, timestamps.to_numpy())
    return out.sort_values(schema.TIMESTAMP, ignore_index=True)


def exceedance(quantiles: np.ndarray, threshold: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """P(value > threshold) per row, from quantile knots at QUANTILE_LEVELS.

    The CDF is linear between adjacent knots (a piecewise-linear quantile function). Outside the
    outer knots only bounds are known: below p025 the probability is at least 0.975 (bound -1),
    at or above p975 at most 0.025 (bound +1)."""
    quantiles = np.atleast_2d(quantiles)
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), (len(quantiles),))
    below = (quantiles <= threshold[:, None]).sum(axis=1)  # knots at or below the threshold
    probability = np.empty(len(quantiles))
    bound = np.zeros(len(quantiles), dtype=int)
    last = len(QUANTILE_LEVELS)
    for i, j in enumerate(below):
        if j == 0:
            probability[i], bound[i] = 1 - QUANTILE_LEVELS[0], -1
        elif j == last:
            probability[i], bound[i] = 1 - QUANTILE_LEVELS[-1], 1
        else:
            lo, hi = quantiles[i, j - 1], quantiles[i, j]
            cdf = QUANTILE_LEVELS[j - 1] + (QUANTILE_LEVELS[j] - QUANTILE_LEVELS[j - 1]) * (threshold[i] - lo) / (
                hi - lo
            )
            probability[i] = 1 - cdf
    return probability, bound


def peak_cap(forecast: pd.DataFrame, cap_kw: float) -> dict:
    """For a forecast day and a demand cap (kW), the probability that each interval's demand exceeds it."""
    cap_kw = number("cap_kw", cap_kw, unit="kW")
    frame = quantile_frame(forecast)
    cap_kwh = cap_kw * INTERVAL_HOURS
    probability, bound = exceedance(frame[list(QUANTILE_COLUMNS)].to_numpy(), cap_kwh)
    worst = int(np.argmax(probability))
    return {
        "cap_kw": cap_kw,
        "cap_kwh_per_interval": cap_kwh,
        "method": "CDF linear between the quantile knots p025/p10/p50/p90/p975 (kWh per interval, kW = kWh x 4); "
        "outside p025..p975 only a bound is known",
        "intervals": [
            {
                "timestamp": pd.Timestamp(ts).isoformat(),
                "p50_kw": round(float(p50) / INTERVAL_HOURS, 2),
                "p_exceed": round(float(p), 4),
                "bound": {-1: "at_least", 0: None, 1: "at_most"}[int(b)],
            }
            for ts, p50, p, b in zip(frame[schema.TIMESTAMP], frame["p50"], probability, bound, strict=True)
        ],
        "max_p_exceed": round(float(probability[worst]), 4),
        "max_at": pd.Timestamp(frame[schema.TIMESTAMP].iloc[worst]).isoformat(),
        "p_any_exceed_upper_bound": round(float(min(1.0, probability.sum())), 4),
        "expected_intervals_over_cap": round(float(probability.sum()), 3),
    }


def prepare(history: pd.DataFrame, tariff: Tariff) -> PricedHistory:
    """Price a history once; the scenarios work on copies of the months they touch."""
    return PricedHistory(priced_intervals(history, tariff), tariff)
