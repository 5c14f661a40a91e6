"""The cost engine: every interval priced at its period's rate, components add up, the demand ratchet,
the power-factor rule and CO2, checked against hand computations and on the bundled year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.copilot import cost
from energy_assets.copilot.errors import CopilotInputError
from tests.copilot.conftest import series


def test_every_interval_of_the_year_is_priced_and_the_components_add_up(clean, tariff):
    bills = cost.bill_months(clean, tariff)
    assert [b.month for b in bills] == [f"2018-{m:02d}" for m in range(1, 13)]
    for bill in bills:
        assert bill.priced_intervals == bill.intervals
        assert sum(bill.energy_charge_by_period.values()) == pytest.approx(bill.energy_charge)
        assert sum(bill.energy_kwh_by_period.values()) == pytest.approx(bill.energy_kwh)
        assert bill.total == pytest.approx(bill.energy_charge + bill.demand_charge + bill.pf_adjustment)
        assert bill.demand_charge == pytest.approx(bill.billing_demand_kw * tariff.demand_charge_per_kw)
        assert bill.billing_demand_kw >= bill.max_demand_kw
    assert sum(b.energy_kwh for b in bills) == pytest.approx(clean[schema.TARGET].sum())
    # The intervals a bill misses are exactly the year's gaps in the clean readings.
    assert sum(b.expected_intervals - b.intervals for b in bills) == 365 * schema.INTERVALS_PER_DAY - len(clean)


def test_co2_is_kwh_times_the_grid_factor_which_explains_the_datas_rounded_column(clean, tariff):
    bills = cost.bill_months(clean, tariff)
    total = sum(b.co2_t for b in bills)
    assert total == pytest.approx(clean[schema.TARGET].sum() * 0.4594 / 1000)
    # The data's co2_tco2 is the same product rounded to 0.01 t: it matches on > 99 % of the intervals.
    per_interval = clean[schema.TARGET] * tariff.emission_tco2_per_mwh / 1000
    assert (per_interval.round(2) == clean["co2_tco2"]).mean() > 0.99


def test_energy_charge_by_hand_in_each_season_and_period(tariff):
    # 2018-07-02 (summer): 02:00 light, 09:00 mid, 10:00 peak; 2018-01-02 (winter): 17:00 peak, 12:00 mid.
    frames = [
        series("2018-07-02 02:00", [10.0]),
        series("2018-07-02 09:00", [10.0]),
        series("2018-07-02 10:00", [10.0]),
        series("2018-01-02 17:00", [4.0]),
        series("2018-01-02 12:00", [4.0]),
        series("2018-04-03 13:30", [2.0]),
    ]
    table = cost.priced_intervals(pd.concat(frames), tariff)
    expected = [4 * 109.2, 4 * 166.7, 2 * 109.3, 10 * 56.1, 10 * 109.0, 10 * 191.1]  # sorted by time
    assert table["energy_charge"].tolist() == pytest.approx(expected)
    assert table["period"].tolist() == ["mid", "peak", "peak", "light", "mid", "peak"]


def test_billing_demand_ratchets_from_winter_and_summer_months_only(tariff):
    quiet = 20.0
    jan = series("2018-01-01", np.r_[[100.0], np.full(2975, quiet)])  # 400 kW in January (a ratchet month)
    mar = series("2018-03-01", np.r_[[75.0], np.full(2975, quiet)])  # 300 kW in March (not a ratchet month)
    apr = series("2018-04-01", np.full(2880, quiet))  # 80 kW
    bills = {b.month: b for b in cost.bill_months(pd.concat([jan, mar, apr]), tariff)}
    assert bills["2018-01"].billing_demand_kw == pytest.approx(400)
    assert (
        bills["2018-03"].billing_demand_kw == pytest.approx(400) and bills["2018-03"].billing_demand_month == "2018-01"
    )
    assert bills["2018-04"].billing_demand_kw == pytest.approx(400)  # March's 300 kW does not carry over
    next_jan = series("2019-01-01", np.full(2976, quiet))
    bills = {b.month: b for b in cost.bill_months(pd.concat([jan, next_jan]), tariff)}
    assert bills["2019-01"].billing_demand_kw == pytest.approx(80)  # 12 months later January 2018 has left the window


@pytest.mark.parametrize(
    ("lag_pf", "lead_pf", "points"),
    [
        (80.0, 100.0, 10.0),  # lagging 10 points below 90 %: surcharge
        (50.0, 100.0, 30.0),  # surcharged down to 60 % only
        (93.0, 100.0, -3.0),  # above 90 %: a discount
        (99.0, 100.0, -5.0),  # discount up to 95 % only
        (90.0, 90.0, 5.0),  # leading 90 % at night: 5 points below 95 %
    ],
)
def test_power_factor_adjustment_follows_the_rule(tariff, lag_pf, lead_pf, points):
    kwh = 10.0
    day = np.arange(96)
    hours = day // 4
    lagging_window = (hours >= 9) & (hours < 23)
    lag = np.where(lagging_window, kwh * np.tan(np.arccos(lag_pf / 100)), 0.0)
    lead = np.where(~lagging_window, kwh * np.tan(np.arccos(lead_pf / 100)), 0.0)
    (bill,) = cost.bill_months(series("2018-05-02", np.full(96, kwh), lag, lead), tariff)
    assert bill.lagging_pf_pct == pytest.approx(lag_pf)
    assert bill.leading_pf_pct == pytest.approx(lead_pf)
    assert bill.lagging_pf_points + bill.leading_pf_points == pytest.approx(points)
    assert bill.pf_adjustment == pytest.approx(bill.demand_charge * 0.002 * points)


def test_without_reactive_columns_there_is_no_pf_adjustment(tariff):
    (bill,) = cost.bill_months(series("2018-05-02", np.full(96, 5.0)), tariff)
    assert bill.lagging_pf_pct is None and bill.pf_adjustment == 0.0


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        (pd.DataFrame({"timestamp": ["2018-01-01 00:15"]}), "readings.usage_kwh"),
        (series("2018-01-01", [1.0, -2.0]), "readings.usage_kwh"),
        (series("2018-01-01", [1.0, np.nan]), "readings.usage_kwh"),
        (series("2018-01-01", [1.0]).assign(timestamp=pd.Timestamp("2018-01-01 00:20")), "readings.timestamp"),
        (pd.concat([series("2018-01-01", [1.0])] * 2), "readings.timestamp"),
        (series("2018-01-01", [1.0], lagging=[-1.0]), "readings.lagging_reactive_power_kvarh"),
    ],
)
def test_bad_series_are_refused_naming_the_column(tariff, frame, field):
    with pytest.raises(CopilotInputError) as error:
        cost.bill_months(frame, tariff)
    assert error.value.field == field
