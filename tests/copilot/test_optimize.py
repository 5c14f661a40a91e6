"""The block scheduler (a HiGHS MILP) against brute force on small instances, and its refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from energy_assets.copilot import service
from energy_assets.copilot.errors import CopilotInputError, InfeasibleError
from energy_assets.copilot.tariff import INTERVAL_HOURS


def _day(kwh: np.ndarray, day: str = "2018-11-22") -> pd.DataFrame:
    ends = pd.date_range(pd.Timestamp(day) + pd.Timedelta(minutes=15), periods=96, freq="15min")
    return pd.DataFrame({"timestamp": ends, "p50": kwh})


def _brute_force(base_kwh, rates, window, d, u, energy, reference_kw, demand_rate, cap_kw, constant_power, step=1.0):
    """Every start, and every allocation of the energy in `step` kWh units over the block's intervals."""
    best = np.inf
    first, last = window
    base_kw = base_kwh / INTERVAL_HOURS
    units = round(energy / step)
    for start in range(first, last - d + 1):
        if constant_power:
            allocations = [np.full(d, energy / d)]
        else:
            allocations = (
                np.array(a) * step for a in itertools.product(range(int(u / step) + 1), repeat=d) if sum(a) == units
            )
        for alloc in allocations:
            x = np.zeros(96)
            x[start : start + d] = alloc
            demand = base_kw + x / INTERVAL_HOURS
            if cap_kw is not None and demand.max() > cap_kw + 1e-9:
                continue
            cost = float(rates @ x) + demand_rate * max(0.0, demand.max() - reference_kw)
            best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("constant_power", [False, True])
def test_the_milp_matches_brute_force_on_small_instances(tariff, seed, constant_power):
    rng = np.random.default_rng(seed)
    base = rng.integers(5, 40, size=96).astype(float)  # kWh per interval
    first = int(rng.integers(30, 60))
    window = (first, first + 8)  # two hours
    d = int(rng.integers(2, 5))
    u = float(rng.integers(3, 7))  # kWh per interval
    energy = float(rng.integers(d, int(d * u) + 1))
    cap = (
        None if seed % 2 else float((base.max() + u) / INTERVAL_HOURS * 0.97)
    )  # just under the block at full power on the peak
    billing_kw = (
        float(base.max() / INTERVAL_HOURS) * 1.1 if seed % 3 == 0 else None
    )  # the month's billing demand, when known
    reference_kw = max(billing_kw or 0.0, float(base.max() / INTERVAL_HOURS))  # only demand above it costs
    start_clock = f"{window[0] // 4:02d}:{window[0] % 4 * 15:02d}"
    end_clock = f"{window[1] // 4:02d}:{window[1] % 4 * 15:02d}"
    forecast = _day(base)
    rates = tariff.rate_of(forecast["timestamp"] - pd.Timedelta(minutes=15))
    expected = _brute_force(
        base, rates, window, d, u, energy, reference_kw, tariff.demand_charge_per_kw, cap, constant_power
    )
    try:
        answer = service.optimize_block(
            forecast,
            energy_kwh=energy,
            duration_minutes=15 * d,
            power_limit_kw=u / INTERVAL_HOURS,
            window_start=start_clock,
            window_end=end_clock,
            peak_cap_kw=cap,
            billing_demand_kw=billing_kw,
            constant_power=constant_power,
        )
    except InfeasibleError:
        assert expected == np.inf
        return
    assert np.isfinite(expected)
    assert answer["cost"]["total"] == pytest.approx(expected, abs=0.01)
    assert answer["saving_vs_early"] >= -0.01
    block = [s["block_kwh"] for s in answer["schedule"]]
    assert sum(block) == pytest.approx(energy, abs=1e-3)
    assert max(block) <= u + 1e-6
    running = [i for i, v in enumerate(block) if v > 1e-6]
    assert running[-1] - running[0] < d  # one block of at most d intervals
    if cap is not None:
        assert answer["peak_kw"] <= cap + 1e-3


def test_demand_above_the_billing_demand_is_avoided_and_the_cap_can_bind(tariff):
    base = np.full(96, 20.0)  # 80 kW all day
    base[40:48] = 60.0  # 240 kW 10:00-12:00 (peak rates)
    forecast = _day(base)
    free = service.optimize_block(
        forecast, energy_kwh=40, duration_minutes=60, power_limit_kw=200, window_start="08:00", window_end="14:00"
    )
    # Cheapest: 08:00-09:00 is light-load at 63.1 KRW/kWh and leaves the day's peak (240 kW) as it is.
    assert free["cost"]["energy_charge"] == pytest.approx(40 * 63.1) and free["cost"]["demand_charge_increase"] == 0
    assert free["as_early_as_allowed"]["cost"]["total"] == pytest.approx(40 * 63.1)  # 08:00 is already light-load
    later = service.optimize_block(
        forecast, energy_kwh=40, duration_minutes=60, power_limit_kw=200, window_start="09:00", window_end="14:00"
    )
    assert later["cost"]["energy_charge"] == pytest.approx(40 * 109.2)  # winter mid-load, not 10:00-12:00 peak
    assert later["saving_vs_early"] >= 0
    # The demand charge: with the month's billing demand at 80 kW, 40 kWh in one interval (+160 kW)
    # would cost 160 x 8,320 KRW; spreading it over the hour adds only 40 kW.
    flat = _day(np.full(96, 20.0))
    spread = service.optimize_block(
        flat, energy_kwh=40, duration_minutes=60, power_limit_kw=200, window_start="08:00", window_end="09:00"
    )
    assert spread["cost"]["extra_demand_kw"] == pytest.approx(40.0)
    assert spread["as_early_as_allowed"]["cost"]["extra_demand_kw"] == pytest.approx(160.0)
    assert spread["saving_vs_early"] == pytest.approx(120 * tariff.demand_charge_per_kw, abs=0.01)
    # A cap of 100 kW leaves 5 kWh per interval: the block needs all 8 intervals of 08:00-10:00, half of them mid-load.
    args = dict(
        energy_kwh=40,
        duration_minutes=120,
        power_limit_kw=200,
        window_start="08:00",
        window_end="10:00",
        billing_demand_kw=1000,
    )
    free = service.optimize_block(flat, **args)
    capped = service.optimize_block(flat, **args, peak_cap_kw=100)
    assert free["cost"]["total"] == pytest.approx(40 * 63.1) and free["cap_binds"] is False
    assert capped["cap_binds"] is True and capped["peak_kw"] <= 100 + 1e-6
    assert capped["cost"]["total"] == pytest.approx(20 * 63.1 + 20 * 109.2)
    loose = service.optimize_block(flat, **args, peak_cap_kw=300)
    assert loose["cap_binds"] is False and loose["cost"]["total"] == pytest.approx(free["cost"]["total"])
    assert capped["solver"]["name"].startswith("HiGHS")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (dict(energy_kwh=500), "energy_kwh"),  # 1 h at 100 kW holds 100 kWh
        (dict(energy_kwh=-1), "energy_kwh"),
        (dict(duration_minutes=50), "duration_minutes"),
        (dict(duration_minutes=600), "duration_minutes"),
        (dict(window_start="14:00", window_end="08:00"), "window"),
        (dict(window_end="25:00"), "window.end"),
        (dict(peak_cap_kw=50), "peak_cap_kw"),  # the baseline alone is 80 kW
        (dict(peak_cap_kw=85), "peak_cap_kw"),  # 5 kW of headroom cannot take 50 kWh in an hour
        (dict(power_limit_kw=0), "power_limit_kw"),
    ],
)
def test_infeasible_or_malformed_requests_name_the_field(overrides, field):
    args = dict(energy_kwh=50, duration_minutes=60, power_limit_kw=100, window_start="08:00", window_end="14:00")
    with pytest.raises(CopilotInputError) as error:
        service.optimize_block(_day(np.full(96, 20.0)), **{**args, **overrides})
    assert error.value.field == field


def test_the_forecast_must_be_one_whole_day():
    with pytest.raises(CopilotInputError) as error:
        service.optimize_block(
            _day(np.full(96, 20.0)).head(90),
            energy_kwh=10,
            duration_minutes=60,
            power_limit_kw=100,
            window_start="08:00",
            window_end="14:00",
        )
    assert error.value.field == "forecast"
