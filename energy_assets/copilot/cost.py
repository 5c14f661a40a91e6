"""The cost engine: price any 15-minute series (actual, forecast or scenario) under a tariff.

Input: a frame with `timestamp` (end of the 15-minute interval, as in the canonical schema) and
`usage_kwh`; optionally `lagging_reactive_power_kvarh` and `leading_reactive_power_kvarh` for the
power-factor adjustment. An interval belongs to the month, day and hour it starts in.
Output per month: energy charge by period, billing demand and demand charge, power-factor
adjustment, total and CO2 (kWh x the tariff's grid emission factor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.copilot.errors import CopilotInputError
from energy_assets.copilot.tariff import INTERVAL_HOURS, PERIODS, Tariff

LAGGING = "lagging_reactive_power_kvarh"
LEADING = "leading_reactive_power_kvarh"


@dataclass
class MonthBill:
    month: str
    intervals: int
    expected_intervals: int
    priced_intervals: int
    energy_kwh: float
    energy_kwh_by_period: dict[str, float]
    energy_charge_by_period: dict[str, float]
    energy_charge: float
    max_demand_kw: float
    max_demand_at: str
    billing_demand_kw: float
    billing_demand_month: str
    demand_charge: float
    lagging_pf_pct: float | None
    leading_pf_pct: float | None
    lagging_pf_points: float | None
    leading_pf_points: float | None
    pf_adjustment: float
    total: float
    co2_t: float

    def to_dict(self, digits: int = 2) -> dict:
        def rounded(value):
            if isinstance(value, float):
                return round(value, digits)
            if isinstance(value, dict):
                return {k: rounded(v) for k, v in value.items()}
            return value

        return {k: rounded(v) for k, v in vars(self).items()}


def interval_frame(frame: pd.DataFrame, *, field: str = "readings") -> pd.DataFrame:
    """Check a 15-minute series and return timestamp/usage/reactive columns sorted by time.

    Errors name the column (prefixed by `field`, the input's name in the request)."""
    if not isinstance(frame, pd.DataFrame):
        raise CopilotInputError(field, f"expected a table of readings, got {type(frame).__name__}")
    for column in (schema.TIMESTAMP, schema.TARGET):
        if column not in frame.columns:
            raise CopilotInputError(f"{field}.{column}", "missing column")
    if frame.empty:
        raise CopilotInputError(field, "no readings")
    try:
        timestamps = schema.as_timestamps(frame[schema.TIMESTAMP])
    except (ValueError, TypeError) as error:
        raise CopilotInputError(f"{field}.{schema.TIMESTAMP}", f"unparsable timestamp ({error})") from error
    if timestamps.isna().any():
        raise CopilotInputError(f"{field}.{schema.TIMESTAMP}", "missing timestamps")
    if (timestamps.dt.floor(schema.INTERVAL) != timestamps).any():
        raise CopilotInputError(f"{field}.{schema.TIMESTAMP}", "timestamps must lie on the 15-minute grid")
    if timestamps.duplicated().any():
        first = timestamps[timestamps.duplicated()].iloc[0]
        raise CopilotInputError(f"{field}.{schema.TIMESTAMP}", f"duplicate timestamp {first}")
    out = pd.DataFrame({schema.TIMESTAMP: timestamps.to_numpy()})
    for column in (schema.TARGET, LAGGING, LEADING):
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise CopilotInputError(f"{field}.{column}", f"{int(bad.sum())} value(s) missing, not finite or negative")
        out[column] = values
    return out.sort_values(schema.TIMESTAMP, ignore_index=True)


def priced_intervals(frame: pd.DataFrame, tariff: Tariff) -> pd.DataFrame:
    """Every interval with its month, season, period, rate, energy charge and demand (kW)."""
    readings = interval_frame(frame)
    starts = pd.DatetimeIndex(readings[schema.TIMESTAMP] - schema.INTERVAL)
    seasons, periods, hours = tariff.classify(starts)
    month_numbers = starts.year.to_numpy() * 12 + starts.month.to_numpy() - 1
    unique = np.unique(month_numbers)
    names = {m: f"{m // 12:04d}-{m % 12 + 1:02d}" for m in unique}
    usage = readings[schema.TARGET].to_numpy()
    rate = tariff.rates[seasons, periods]
    # Built in one go: a column at a time costs a block insert each, on every forecast the API prices.
    return pd.DataFrame(
        {
            **{column: readings[column].to_numpy() for column in readings.columns},
            "month": pd.Categorical.from_codes(np.searchsorted(unique, month_numbers), [names[m] for m in unique]),
            "month_index": month_numbers,
            "day": starts.normalize(),
            "slot": (starts.hour.to_numpy() * 60 + starts.minute.to_numpy()) // 15,
            "hour": hours,
            "season": np.asarray(tariff.seasons, dtype=object)[seasons],
            "period": np.asarray(PERIODS, dtype=object)[periods],
            "rate": rate,
            "energy_charge": usage * rate,
            "demand_kw": usage / INTERVAL_HOURS,
        }
    )


def _average_pf(kwh: float, kvarh: float) -> float:
    apparent = float(np.hypot(kwh, kvarh))
    return 100.0 if apparent == 0 else 100.0 * kwh / apparent


def bill_months(frame: pd.DataFrame, tariff: Tariff, months: list[str] | None = None) -> list[MonthBill]:
    """The bill of every month in `frame` (or of `months`); earlier months in the frame feed the demand ratchet."""
    table = priced_intervals(frame, tariff)
    return bills_from_priced(table, tariff, months)


@dataclass
class PricedHistory:
    """A history priced once: the interval table, and each month's maximum demand (for the ratchet)."""

    table: pd.DataFrame
    tariff: Tariff

    def __post_init__(self):
        index = self.table["month_index"].to_numpy()
        self.month_indices, self._starts = np.unique(index, return_index=True)
        self._ends = np.append(self._starts[1:], len(index))
        demand = self.table["demand_kw"].to_numpy()
        self.peaks = {
            int(m): (float(demand[a:b].max()), f"{m // 12:04d}-{m % 12 + 1:02d}")
            for m, a, b in zip(self.month_indices, self._starts, self._ends, strict=True)
        }
        self.months = [label for _, label in self.peaks.values()]
        self.days = pd.Index(self.table["day"].unique())
        self._bills: dict[str, MonthBill] | None = None

    def bills(self) -> dict[str, MonthBill]:
        """Every month's bill of the history as it is (computed once)."""
        if self._bills is None:
            self._bills = {b.month: b for b in bills_from_priced(self.table, self.tariff)}
        return self._bills

    def rows_of(self, months: list[str]) -> pd.DataFrame:
        """A copy of the rows of `months` (each month is a contiguous block of the time-ordered table)."""
        wanted = {month_number(m) for m in months}
        blocks = [
            self.table.iloc[a:b]
            for m, a, b in zip(self.month_indices, self._starts, self._ends, strict=True)
            if m in wanted
        ]
        return pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0].reset_index(drop=True)

    def prior_peaks(self, months: list[str]) -> dict[int, tuple[float, str]]:
        """Maximum demand of the months not in `months` (they can set a ratchet but are not re-billed)."""
        skip = {month_number(m) for m in months}
        return {m: peak for m, peak in self.peaks.items() if m not in skip}


def billing_demand(
    number: int, own_kw: float, label: str, peaks: dict[int, tuple[float, str]], tariff: Tariff
) -> tuple[float, str]:
    """The billing demand of month `number` and the month that sets it: its own maximum demand, or a
    larger one of a ratchet month within the lookback (`peaks`: month number -> (kW, label))."""
    best = (own_kw, label)
    for other, (kw, other_label) in peaks.items():
        if 0 < number - other < tariff.lookback_months and other % 12 + 1 in tariff.ratchet_months and kw > best[0]:
            best = (kw, other_label)
    return best


def rebill_demand(bill: MonthBill, peaks: dict[int, tuple[float, str]], tariff: Tariff) -> MonthBill:
    """The same month's bill when other months' maximum demands (`peaks`) change: only the billing
    demand, the demand charge and the power-factor adjustment (a share of it) can move."""
    kw, label = billing_demand(month_number(bill.month), bill.max_demand_kw, bill.month, peaks, tariff)
    demand_charge = kw * tariff.demand_charge_per_kw
    points = (bill.lagging_pf_points or 0.0) + (bill.leading_pf_points or 0.0)
    pf_adjustment = demand_charge * tariff.pf_share_per_point * points if bill.lagging_pf_points is not None else 0.0
    return replace(
        bill,
        billing_demand_kw=kw,
        billing_demand_month=label,
        demand_charge=demand_charge,
        pf_adjustment=pf_adjustment,
        total=bill.energy_charge + demand_charge + pf_adjustment,
    )


def month_number(month: str) -> int:
    try:
        year, number = (int(x) for x in str(month).split("-"))
    except ValueError as error:
        raise CopilotInputError("month", f"{month!r} is not a month YYYY-MM") from error
    if not 1 <= number <= 12:
        raise CopilotInputError("month", f"{month!r} is not a month YYYY-MM")
    return year * 12 + number - 1


def bills_from_priced(
    table: pd.DataFrame,
    tariff: Tariff,
    months: list[str] | None = None,
    prior_peaks: dict[int, tuple[float, str]] | None = None,
) -> list[MonthBill]:
    """Bills from a priced table; `prior_peaks` adds months outside the table to the ratchet's candidates."""
    month = table["month"]
    if isinstance(month.dtype, pd.CategoricalDtype):
        codes, labels = month.cat.codes.to_numpy(), month.cat.categories.astype(str)
    else:
        codes, labels = pd.factorize(month, sort=True)
    n = len(labels)
    period_codes = pd.Categorical(table["period"], categories=PERIODS).codes.astype(np.int64)
    kwh = table[schema.TARGET].to_numpy()
    size = len(PERIODS)
    energy_by = np.bincount(codes * size + period_codes, weights=kwh, minlength=n * size).reshape(n, size)
    charge_by = np.bincount(
        codes * size + period_codes, weights=table["energy_charge"].to_numpy(), minlength=n * size
    ).reshape(n, size)
    counts = np.bincount(codes, minlength=n)
    demand = table["demand_kw"].to_numpy()
    # The table is in time order, so each month is one contiguous slice.
    if (np.diff(codes) < 0).any():
        raise CopilotInputError("readings.timestamp", "readings must be in time order")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    has_pf = LAGGING in table.columns and LEADING in table.columns
    hours = table["hour"].to_numpy()
    if has_pf:
        in_lag, in_lead = tariff.lagging.contains(hours), tariff.leading.contains(hours)
        lag_kwh = np.bincount(codes, weights=np.where(in_lag, kwh, 0.0), minlength=n)
        lag_kvarh = np.bincount(codes, weights=np.where(in_lag, table[LAGGING].to_numpy(), 0.0), minlength=n)
        lead_kwh = np.bincount(codes, weights=np.where(in_lead, kwh, 0.0), minlength=n)
        lead_kvarh = np.bincount(codes, weights=np.where(in_lead, table[LEADING].to_numpy(), 0.0), minlength=n)
    peak_kw = np.array([demand[bounds[i] : bounds[i + 1]].max() if counts[i] else -np.inf for i in range(n)])
    month_numbers = np.array([month_number(m) for m in labels])
    ratchet_candidates = dict(prior_peaks or {})
    for j in range(n):
        if counts[j]:
            ratchet_candidates[int(month_numbers[j])] = (float(peak_kw[j]), str(labels[j]))
    present = {str(labels[j]) for j in range(n) if counts[j]}
    wanted = set(months) if months is not None else present
    unknown = wanted - present
    if unknown:
        raise CopilotInputError("month", f"no readings for {sorted(unknown)} (have {min(present)} .. {max(present)})")
    bills = []
    timestamps = table[schema.TIMESTAMP].to_numpy()
    for i, month in enumerate(labels):
        if month not in wanted:
            continue
        # Billing demand: this month's maximum demand and those of the ratchet months in the lookback.
        billing_kw, billing_month = billing_demand(
            int(month_numbers[i]), float(peak_kw[i]), str(month), ratchet_candidates, tariff
        )
        demand_charge = billing_kw * tariff.demand_charge_per_kw
        lag_pf = lead_pf = lag_pts = lead_pts = None
        pf_adjustment = 0.0
        if has_pf:
            lag_pf = _average_pf(lag_kwh[i], lag_kvarh[i])
            lead_pf = _average_pf(lead_kwh[i], lead_kvarh[i])
            lag_pts, lead_pts = tariff.lagging.points(lag_pf), tariff.leading.points(lead_pf)
            pf_adjustment = demand_charge * tariff.pf_share_per_point * (lag_pts + lead_pts)
        in_month = slice(bounds[i], bounds[i + 1])
        peak_at = timestamps[in_month][int(np.argmax(demand[in_month]))]
        expected = pd.Period(month, freq="M").days_in_month * schema.INTERVALS_PER_DAY
        energy_charge = float(charge_by[i].sum())
        bills.append(
            MonthBill(
                month=str(month),
                intervals=int(counts[i]),
                expected_intervals=int(expected),
                priced_intervals=int(np.isfinite(table["energy_charge"].to_numpy()[in_month]).sum()),
                energy_kwh=float(energy_by[i].sum()),
                energy_kwh_by_period={p: float(energy_by[i, k]) for k, p in enumerate(PERIODS)},
                energy_charge_by_period={p: float(charge_by[i, k]) for k, p in enumerate(PERIODS)},
                energy_charge=energy_charge,
                max_demand_kw=float(peak_kw[i]),
                max_demand_at=pd.Timestamp(peak_at).isoformat(),
                billing_demand_kw=float(billing_kw),
                billing_demand_month=str(billing_month),
                demand_charge=float(demand_charge),
                lagging_pf_pct=None if lag_pf is None else float(lag_pf),
                leading_pf_pct=None if lead_pf is None else float(lead_pf),
                lagging_pf_points=None if lag_pts is None else float(lag_pts),
                leading_pf_points=None if lead_pts is None else float(lead_pts),
                pf_adjustment=float(pf_adjustment),
                total=float(energy_charge + demand_charge + pf_adjustment),
                co2_t=float(energy_by[i].sum() * tariff.emission_tco2_per_mwh / 1000.0),
            )
        )
    return bills


def co2_tonnes(kwh: float, tariff: Tariff) -> float:
    return float(kwh) * tariff.emission_tco2_per_mwh / 1000.0


def period_agreement(frame: pd.DataFrame, tariff: Tariff) -> dict:
    """How often the data's load_type equals the tariff's period for the interval's season and hour.

    Days on which every interval is Light_Load (holidays, shutdowns) are counted apart."""
    if "load_type" not in frame.columns:
        raise CopilotInputError("readings.load_type", "missing column")
    table = priced_intervals(frame, tariff)
    expected = table["period"].map(tariff.load_type_of_period).to_numpy()
    actual = frame.sort_values(schema.TIMESTAMP)["load_type"].to_numpy()
    light = tariff.load_type_of_period.get("light", "Light_Load")
    all_light_day = pd.Series(actual == light).groupby(table["day"].to_numpy()).transform("all").to_numpy()
    working = ~all_light_day
    match = actual == expected
    return {
        "intervals": len(actual),
        "agreement": float(match.mean()),
        "all_light_days": int(pd.Series(table["day"][all_light_day]).nunique()),
        "intervals_on_other_days": int(working.sum()),
        "agreement_on_other_days": float(match[working].mean()) if working.any() else float("nan"),
        "mismatches_on_other_days": int((~match[working]).sum()),
    }
