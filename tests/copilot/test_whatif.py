"""What-ifs on the bundled year: shifting energy, a capacitor bank, and the peak-cap probability."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.copilot import service, whatif
from energy_assets.copilot.errors import CopilotInputError, InfeasibleError

DAY = "2018-11-22"  # a winter Thursday: 10:00-12:00 is peak, 02:00-04:00 light


def _shift(priced, **overrides):
    args = dict(days=[DAY], from_start="10:00", from_end="12:00", to_start="02:00", to_end="04:00")
    return service.whatif_shift(priced, **{**args, **overrides})


def test_moving_peak_energy_to_the_night_saves_the_rate_difference(priced, clean):
    answer = _shift(priced)
    day = answer["days"][0]
    moved = day["moved_kwh"]
    start = pd.Timestamp(DAY)
    window = clean[
        (clean[schema.TIMESTAMP] > start + pd.Timedelta(hours=10))
        & (clean[schema.TIMESTAMP] <= start + pd.Timedelta(hours=12))
    ]
    assert moved == pytest.approx(window[schema.TARGET].sum(), abs=1e-3)
    assert sum(day["after_kwh"]) == pytest.approx(sum(day["before_kwh"]), abs=1e-2)  # energy is moved, not lost
    assert day["after_kwh"][40:48] == pytest.approx([0.0] * 8)
    delta = answer["months"]["2018-11"]["delta"]
    assert delta["energy_charge"] == pytest.approx(moved * (63.1 - 166.7), abs=0.05)
    assert delta["energy_charge_peak"] == pytest.approx(-moved * 166.7, abs=0.05)
    assert delta["total"] == pytest.approx(
        delta["energy_charge"] + delta["demand_charge"] + delta["pf_adjustment"], abs=0.05
    )
    assert answer["co2_t"]["before"] == answer["co2_t"]["after"]
    assert answer["tariff"]["tariff_version"].startswith("kepco-2018")


def test_piling_energy_into_one_interval_raises_the_peak_and_the_demand_charge(priced):
    answer = _shift(priced, to_start="03:00", to_end="03:15", share=0.3)
    day = answer["days"][0]
    assert day["peak_kw_after"] > day["peak_kw_before"]
    bill_after = answer["months"]["2018-11"]["after"]
    assert bill_after["billing_demand_kw"] == pytest.approx(day["peak_kw_after"], abs=0.01)
    assert answer["months"]["2018-11"]["delta"]["demand_charge"] > 0


def test_a_shift_in_a_ratchet_month_rebills_the_later_months(priced):
    answer = _shift(priced, days=["2018-01-15"], to_start="03:00", to_end="03:15", share=0.3)
    assert set(answer["months"]) == {f"2018-{m:02d}" for m in range(1, 13)}
    assert answer["months"]["2018-03"]["delta"]["demand_charge"] > 0  # March bills January's new peak


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (dict(to_start="11:00", to_end="13:00"), "to_window"),
        (dict(from_end="24:15"), "from_window.end"),
        (dict(from_start="10:10"), "from_window.start"),
        (dict(from_start="12:00", from_end="10:00"), "from_window"),
        (dict(days=["2019-03-01"]), "days"),
        (dict(days=["not a day"]), "days"),
        (dict(days=[]), "days"),
        (dict(share=1.5), "share"),
        (dict(energy_kwh=-3.0), "energy_kwh"),
        (dict(energy_kwh=10_000.0), "energy_kwh"),
        (dict(to_start="02:00", to_end="02:15", energy_kwh=600.0), "to_window"),
    ],
)
def test_bad_shift_requests_name_the_field(priced, overrides, field):
    with pytest.raises(CopilotInputError) as error:
        _shift(priced, **overrides)
    assert error.value.field == field


def test_target_power_factor_finds_the_smallest_bank_and_its_saving(priced):
    answer = service.whatif_power_factor(priced, target_pf_pct=95.0)
    bank = answer["scenario"]["bank_kvar"]
    assert bank > 0
    assert all(m["lagging_pf_pct_after"] >= 95.0 - 1e-6 for m in answer["pf"].values())
    smaller = whatif.with_bank(priced.table, bank - 0.2, "automatic")
    bills = service.prepare_history(smaller, priced.tariff)
    reached = [service.bill(bills, m)["bill"]["lagging_pf_pct"] >= 95.0 for m in priced.months]
    assert not all(reached)  # 0.2 kVAr less does not reach it in every month
    deltas = [m["delta"]["pf_adjustment"] for m in answer["months"].values()]
    assert answer["saving"] == pytest.approx(-sum(deltas), abs=0.05) and answer["saving"] > 0
    assert all(m["delta"]["energy_charge"] == 0 and m["delta"]["demand_charge"] == 0 for m in answer["months"].values())
    assert answer["payback_years"] is None and "cost_per_kvar" in answer["payback_note"]


def test_bank_sizes_cost_and_fixed_switching(priced):
    needed = service.whatif_power_factor(priced, target_pf_pct=95.0)["scenario"]["required_kvar"]
    sized = service.whatif_power_factor(
        priced, target_pf_pct=95.0, bank_sizes_kvar=[10, 25, 50, 100, 200], cost_per_kvar=30000
    )
    expected = min(s for s in (10, 25, 50, 100, 200) if s >= needed)
    assert sized["scenario"]["bank_kvar"] == expected
    assert sized["capital_cost"] == pytest.approx(expected * 30000)
    assert sized["payback_years"] == pytest.approx(sized["capital_cost"] / sized["saving_per_year"], rel=1e-3)
    automatic = service.whatif_power_factor(priced, bank_kvar=200)
    fixed = service.whatif_power_factor(priced, bank_kvar=200, switching="fixed")
    assert any(m["leading_pf_pct_after"] < m["leading_pf_pct_before"] for m in fixed["pf"].values())
    for month in automatic["pf"].values():
        assert month["lagging_kvarh_after"] < month["lagging_kvarh_before"]
        assert month["leading_kvarh_after"] == month["leading_kvarh_before"]  # switched in only against lagging
    assert all(m["leading_kvarh_after"] > m["leading_kvarh_before"] for m in fixed["pf"].values())
    assert fixed["saving"] < automatic["saving"]  # an always-on bank is judged by the leading rule at night
    with pytest.raises(InfeasibleError) as error:
        service.whatif_power_factor(priced, target_pf_pct=99.0, bank_sizes_kvar=[5])
    assert error.value.field == "bank_sizes_kvar"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "bank_kvar"),
        (dict(bank_kvar=10, target_pf_pct=95), "bank_kvar"),
        (dict(bank_kvar=-5), "bank_kvar"),
        (dict(target_pf_pct=120), "target_pf_pct"),
        (dict(bank_kvar=10, switching="manual"), "switching"),
        (dict(bank_kvar=10, months=["2017-01"]), "months"),
        (dict(bank_kvar=10, cost_per_kvar=-1), "cost_per_kvar"),
    ],
)
def test_bad_power_factor_requests_name_the_field(priced, kwargs, field):
    with pytest.raises(CopilotInputError) as error:
        service.whatif_power_factor(priced, **kwargs)
    assert error.value.field == field


def _quantiles(rows: list[list[float]]) -> pd.DataFrame:
    ends = pd.date_range("2018-11-22 00:15", periods=len(rows), freq="15min")
    frame = pd.DataFrame(rows, columns=list(whatif.QUANTILE_COLUMNS))
    frame.insert(0, "timestamp", ends)
    return frame


def test_peak_cap_probability_interpolates_the_quantile_function():
    forecast = _quantiles([[10, 20, 30, 40, 50]] * 5)
    for cap_kwh, expected, bound in [
        (30, 0.5, None),
        (40, 0.1, None),
        (25, 0.7, None),
        (45, 0.0625, None),
        (5, 0.975, "at_least"),
        (50, 0.025, "at_most"),
    ]:
        answer = service.peak_risk(forecast, cap_kw=cap_kwh * 4)
        first = answer["intervals"][0]
        assert first["p_exceed"] == pytest.approx(expected, abs=1e-4)
        assert first["bound"] == bound
    caps = np.linspace(1, 250, 40)
    probabilities = [service.peak_risk(forecast, cap_kw=c)["max_p_exceed"] for c in caps]
    assert all(a >= b for a, b in itertools.pairwise(probabilities))  # a higher cap is never more likely to be exceeded


def test_ties_in_the_quantiles_and_bad_quantiles():
    flat = _quantiles([[0, 0, 0, 10, 20]])
    assert service.peak_risk(flat, cap_kw=0.0001 * 4)["max_p_exceed"] == pytest.approx(
        0.1 + 0.4 * (1 - 0.0001 / 10), abs=1e-4
    )
    with pytest.raises(CopilotInputError) as error:
        service.peak_risk(_quantiles([[10, 30, 20, 40, 50]]), cap_kw=100)
    assert error.value.field == "forecast.p50"
    with pytest.raises(CopilotInputError) as error:
        service.peak_risk(_quantiles([[10, 20, 30, 40, 50]]).drop(columns="p975"), cap_kw=100)
    assert error.value.field == "forecast.p975"
    with pytest.raises(CopilotInputError) as error:
        service.peak_risk(_quantiles([[10, 20, 30, 40, 50]]), cap_kw=0)
    assert error.value.field == "cap_kw"


def test_a_one_month_bank_rebills_that_month_only_and_annualizes_it(priced):
    one = service.whatif_power_factor(priced, months=["2018-01"], bank_kvar=50)
    assert list(one["months"]) == ["2018-01"]
    assert one["saving_per_year"] == pytest.approx(one["saving"] * 12, abs=0.1)
    year = service.whatif_power_factor(priced, bank_kvar=50)
    assert year["saving"] == pytest.approx(
        sum(service.whatif_power_factor(priced, months=[m], bank_kvar=50)["saving"] for m in priced.months), abs=1.0
    )


def test_later_months_rebilled_through_the_ratchet_equal_a_full_rebill(priced, clean, tariff):
    answer = _shift(priced, days=["2018-01-15"], to_start="03:00", to_end="03:15", share=0.3)
    changed = clean.copy()
    day = (changed[schema.TIMESTAMP] > "2018-01-15") & (changed[schema.TIMESTAMP] <= "2018-01-16")
    changed.loc[day, schema.TARGET] = answer["days"][0]["after_kwh"]
    full = {b.month: b for b in service.prepare_history(changed, tariff).bills().values()}
    for month in ("2018-02", "2018-05", "2018-12"):
        after = answer["months"][month]["after"]
        assert after["billing_demand_month"] == "2018-01" == full[month].billing_demand_month
        assert after["total"] == pytest.approx(full[month].total, abs=0.05)
