"""Schedule a deferrable production block on a forecast day at least cost: a MILP solved by HiGHS.

The block needs `energy_kwh` within `duration` consecutive 15-minute intervals, at most
`power_limit_kw`, starting and ending inside the allowed window; optionally the plant's demand
(forecast baseline + block) must stay under `peak_cap_kw`.

Variables: s_k (binary, the block starts in interval k), x_t (kWh the block uses in interval t),
e (kW of demand above the reference demand B). Minimize sum_t rate_t x_t + demand_charge x e subject to
  sum_k s_k = 1;  x_t <= u sum_{k <= t < k+d} s_k  (u = power_limit_kw / 4);  sum_t x_t = energy_kwh;
  4 (b_t + x_t) - e <= B;  4 (b_t + x_t) <= cap (when given).
B is the larger of the day's baseline peak and the month's billing demand so far (`billing_demand_kw`):
only demand above it adds to the month's demand charge. With `constant_power`, x_t = (energy/d) in
every interval of the block.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from energy_assets import schema
from energy_assets.copilot.errors import CopilotInputError, InfeasibleError, number
from energy_assets.copilot.tariff import INTERVAL_HOURS, Tariff
from energy_assets.copilot.whatif import Window

TOLERANCE = 1e-6


def baseline_day(forecast: pd.DataFrame, column: str, field: str = "forecast") -> pd.DataFrame:
    """One whole forecast day: 96 intervals (by the time they start) with the baseline kWh in `column`."""
    if not isinstance(forecast, pd.DataFrame) or forecast.empty:
        raise CopilotInputError(field, "expected a forecast day: 96 intervals with a timestamp and the baseline kWh")
    for name in (schema.TIMESTAMP, column):
        if name not in forecast.columns:
            raise CopilotInputError(f"{field}.{name}", "missing column")
    timestamps = pd.to_datetime(forecast[schema.TIMESTAMP], errors="coerce")
    values = pd.to_numeric(forecast[column], errors="coerce").to_numpy(dtype=float)
    if timestamps.isna().any() or (timestamps.dt.floor(schema.INTERVAL) != timestamps).any():
        raise CopilotInputError(f"{field}.{schema.TIMESTAMP}", "timestamps must be on the 15-minute grid")
    if (~np.isfinite(values) | (values < 0)).any():
        raise CopilotInputError(f"{field}.{column}", "values must be finite and non-negative (kWh per interval)")
    frame = pd.DataFrame({schema.TIMESTAMP: timestamps.to_numpy(), "kwh": values}).sort_values(
        schema.TIMESTAMP, ignore_index=True
    )
    days = schema.interval_day(frame[schema.TIMESTAMP]).unique()
    if len(days) != 1 or len(frame) != schema.INTERVALS_PER_DAY or frame[schema.TIMESTAMP].duplicated().any():
        raise CopilotInputError(
            field,
            (
                f"expected the {schema.INTERVALS_PER_DAY} intervals of one day, got {len(frame)} rows over "
                f"{len(days)} day(s)"
            ),
        )
    return frame


def _cost(x: np.ndarray, base_kw: np.ndarray, rates: np.ndarray, reference_kw: float, demand_rate: float) -> dict:
    energy = float(rates @ x)
    extra = max(0.0, float((base_kw + x / INTERVAL_HOURS).max()) - reference_kw)
    return {
        "energy_charge": energy,
        "demand_charge_increase": extra * demand_rate,
        "total": energy + extra * demand_rate,
        "extra_demand_kw": extra,
    }


def _solve(rates, base_kw, u, energy, d, reference_kw, demand_rate, cap_kw, constant_power):
    """Solve the MILP over the window's T intervals; None when infeasible."""
    T = len(rates)
    K = T - d + 1
    n = K + T + 1  # s_0..s_{K-1}, x_0..x_{T-1}, e
    cost = np.concatenate([np.zeros(K), rates, [demand_rate]])
    rows, lower, upper = [], [], []

    def add(row, lo, hi):
        rows.append(row)
        lower.append(lo)
        upper.append(hi)

    row = np.zeros(n)
    row[:K] = 1
    add(row, 1, 1)  # exactly one start
    row = np.zeros(n)
    row[K : K + T] = 1
    add(row, energy, energy)  # the block's energy
    for t in range(T):
        running = np.zeros(n)
        running[max(0, t - d + 1) : min(t, K - 1) + 1] = 1  # starts k with k <= t < k + d
        row = -u * running if not constant_power else -(energy / d) * running
        row[K + t] = 1
        if constant_power:
            add(row, 0, 0)
        else:
            add(row, -np.inf, 0)
        row = np.zeros(n)
        row[K + t] = 1 / INTERVAL_HOURS
        row[-1] = -1
        add(row, -np.inf, reference_kw - base_kw[t])  # demand above the reference is paid for
    x_upper = np.full(T, u)
    if cap_kw is not None:
        x_upper = np.minimum(x_upper, (cap_kw - base_kw) * INTERVAL_HOURS)
        if (x_upper < -TOLERANCE).any():
            return None
        x_upper = np.maximum(x_upper, 0.0)
    bounds = Bounds(np.zeros(n), np.concatenate([np.ones(K), x_upper, [np.inf]]))
    integrality = np.concatenate([np.ones(K), np.zeros(T + 1)])
    result = milp(
        cost, constraints=LinearConstraint(np.array(rows), lower, upper), integrality=integrality, bounds=bounds
    )
    if result.status != 0 or result.x is None:
        return None
    return result


def schedule_block(
    baseline: pd.DataFrame,
    tariff: Tariff,
    *,
    energy_kwh: float,
    duration_minutes: int,
    power_limit_kw: float,
    window: Window,
    peak_cap_kw: float | None = None,
    billing_demand_kw: float | None = None,
    constant_power: bool = False,
) -> dict:
    """The least-cost schedule of the block on the baseline day (a frame from `baseline_day`)."""
    energy_kwh = number("energy_kwh", energy_kwh, unit="kWh")
    power_limit_kw = number("power_limit_kw", power_limit_kw, unit="kW")
    minutes = number("duration_minutes", duration_minutes, unit="minutes")
    if minutes % 15:
        raise CopilotInputError("duration_minutes", f"{duration_minutes!r} is not a multiple of 15 minutes")
    if peak_cap_kw is not None:
        peak_cap_kw = number("peak_cap_kw", peak_cap_kw, unit="kW")
    if billing_demand_kw is not None:
        billing_demand_kw = number("billing_demand_kw", billing_demand_kw, strict=False, unit="kW")
    d = int(minutes // 15)
    slots = window.slots
    if d > len(slots):
        raise InfeasibleError(
            "duration_minutes",
            f"{duration_minutes} min does not fit the allowed window {window.label()} ({len(slots) * 15} min)",
        )
    u = power_limit_kw * INTERVAL_HOURS
    if energy_kwh > d * u + TOLERANCE:
        raise InfeasibleError(
            "energy_kwh",
            (
                f"{energy_kwh} kWh cannot run in {duration_minutes} min at power_limit_kw {power_limit_kw} (at "
                f"most {d * u:.2f} kWh)"
            ),
        )
    base_kw_day = baseline["kwh"].to_numpy() / INTERVAL_HOURS
    starts = baseline[schema.TIMESTAMP] - schema.INTERVAL
    rates = tariff.rate_of(starts)[slots]
    base_kw = base_kw_day[slots]
    reference_kw = max(float(base_kw_day.max()), billing_demand_kw or 0.0)
    if peak_cap_kw is not None and base_kw_day.max() > peak_cap_kw + TOLERANCE:
        worst = int(np.argmax(base_kw_day))
        raise InfeasibleError(
            "peak_cap_kw",
            (
                f"the baseline forecast alone reaches {base_kw_day[worst]:.1f} kW at {starts.iloc[worst]:%H:%M}, "
                f"above the cap {peak_cap_kw} kW"
            ),
        )
    demand_rate = tariff.demand_charge_per_kw
    began = time.perf_counter()
    solved = _solve(rates, base_kw, u, energy_kwh, d, reference_kw, demand_rate, peak_cap_kw, constant_power)
    if solved is None:
        raise InfeasibleError(
            "peak_cap_kw",
            (
                f"no schedule of {energy_kwh} kWh in {duration_minutes} min within {window.label()} keeps the "
                f"demand under {peak_cap_kw} kW"
            ),
        )
    cap_binds = False
    if peak_cap_kw is not None:
        free = _solve(rates, base_kw, u, energy_kwh, d, reference_kw, demand_rate, None, constant_power)
        cap_binds = free is not None and free.fun < solved.fun - 1e-6
    solve_ms = (time.perf_counter() - began) * 1000
    K = len(slots) - d + 1
    start = int(np.argmax(solved.x[:K]))
    x = np.clip(solved.x[K : K + len(slots)], 0.0, None)
    optimal = _cost(x, base_kw, rates, reference_kw, demand_rate)
    # The reference: start at the window's first interval, as fast as allowed (or at constant power).
    early = np.zeros(len(slots))
    if constant_power:
        early[:d] = energy_kwh / d
    else:
        remaining = energy_kwh
        for t in range(d):
            early[t] = min(u, remaining)
            remaining -= early[t]
    early_cost = _cost(early, base_kw, rates, reference_kw, demand_rate)
    early_peak = float((base_kw + early / INTERVAL_HOURS).max())
    times = starts.iloc[slots].reset_index(drop=True)
    return {
        "start": times.iloc[start].isoformat(),
        "end": (times.iloc[start + d - 1] + schema.INTERVAL).isoformat(),
        "schedule": [
            {
                "interval_start": times.iloc[t].isoformat(),
                "block_kwh": round(float(x[t]), 4),
                "block_kw": round(float(x[t] / INTERVAL_HOURS), 3),
                "baseline_kw": round(float(base_kw[t]), 3),
                "total_kw": round(float(base_kw[t] + x[t] / INTERVAL_HOURS), 3),
                "rate": float(rates[t]),
            }
            for t in range(len(slots))
        ],
        "cost": {k: round(v, 2) for k, v in optimal.items()},
        "as_early_as_allowed": {
            "start": times.iloc[0].isoformat(),
            "cost": {k: round(v, 2) for k, v in early_cost.items()},
            "peak_kw": round(early_peak, 2),
            "violates_cap": bool(peak_cap_kw is not None and early_peak > peak_cap_kw + TOLERANCE),
        },
        "saving_vs_early": round(early_cost["total"] - optimal["total"], 2),
        "peak_kw": round(float((base_kw + x / INTERVAL_HOURS).max()), 2),
        "reference_demand_kw": round(reference_kw, 2),
        "cap_binds": bool(cap_binds),
        "solver": {
            "name": "HiGHS (scipy.optimize.milp)",
            "status": solved.message,
            "objective": round(float(solved.fun), 4),
            "solve_ms": round(solve_ms, 2),
        },
    }
