"""The service layer: JSON-able answers carrying the tariff version, errors naming the field, no Dagster/Prefect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from energy_assets.copilot import service
from energy_assets.copilot.errors import CopilotInputError
from tests.conftest import PROJECT_ROOT


def test_the_bill_answer_is_json_and_carries_the_tariff_version(priced, tariff):
    answer = service.bill(priced, "2018-07")
    text = json.dumps(answer)
    assert json.loads(text)["tariff"]["tariff_version"] == tariff.label
    assert answer["complete_month"] is True
    bill = answer["bill"]
    assert bill["total"] == pytest.approx(
        bill["energy_charge"] + bill["demand_charge"] + bill["pf_adjustment"], abs=0.02
    )
    # July bills January's maximum demand (a ratchet month within the 12 months).
    assert bill["billing_demand_month"] == "2018-01"


def test_the_bill_answer_carries_the_tariff_file_s_power_factor_thresholds(priced, tariff):
    import yaml

    raw = yaml.safe_load(Path(tariff.path).read_text())["power_factor"]
    rule = json.loads(json.dumps(service.bill(priced, "2018-07")))["power_factor_rule"]
    assert rule["share_of_demand_charge_per_point"] == raw["share_of_demand_charge_per_point"]
    for side in ("lagging", "leading"):
        assert [rule[side]["start_hour"], rule[side]["end_hour"]] == raw[side]["window_hours"]
        assert rule[side]["reference_pct"] == raw[side]["reference_pct"]
        assert rule[side]["surcharge_floor_pct"] == raw[side]["surcharge_floor_pct"]
    # the bundled KEPCO tariff: lagging 90 % by day (09-23 h), leading 95 % by night (23-09 h)
    assert (rule["lagging"]["reference_pct"], rule["leading"]["reference_pct"]) == (90, 95)


def test_every_operation_answers_json(priced, clean):
    day = clean[(clean["timestamp"] > "2018-11-22") & (clean["timestamp"] <= "2018-11-23")]
    forecast = day[["timestamp"]].assign(
        p025=day["usage_kwh"] * 0.8,
        p10=day["usage_kwh"] * 0.9,
        p50=day["usage_kwh"],
        p90=day["usage_kwh"] * 1.1,
        p975=day["usage_kwh"] * 1.2,
    )
    answers = [
        service.tariff_summary(),
        service.whatif_shift(
            priced, days="2018-11-22", from_start="10:00", from_end="12:00", to_start="02:00", to_end="04:00", share=0.5
        ),
        service.whatif_power_factor(priced, months=["2018-10"], target_pf_pct=92),
        service.peak_risk(forecast, cap_kw=600),
        service.day_cost(forecast),
        service.optimize_block(
            forecast, energy_kwh=100, duration_minutes=120, power_limit_kw=100, window_start="06:00", window_end="22:00"
        ),
    ]
    for answer in answers:
        assert "tariff_version" in json.loads(json.dumps(answer))["tariff"]
    assert answers[4]["peak_kw"] == pytest.approx(day["usage_kwh"].max() * 4)


@pytest.mark.parametrize("month", ["2019-01", "2018-13", "July", ""])
def test_an_unknown_or_malformed_month_names_the_field(priced, month):
    with pytest.raises(CopilotInputError) as error:
        service.bill(priced, month)
    assert error.value.field == "month"
    assert error.value.to_dict()["field"] == "month"


def test_a_plain_frame_works_without_preparing(clean):
    january = clean[clean["timestamp"] <= "2018-02-01"]
    bill = service.bill(january, "2018-01")["bill"]
    assert bill["intervals"] == len(january) and bill["expected_intervals"] == 31 * 96


def test_the_copilot_imports_without_dagster_or_prefect():
    code = (
        "import sys\n"
        "for name in ('dagster', 'prefect', 'dagster_mlflow', 'dvc'): sys.modules[name] = None\n"
        "from energy_assets.copilot import service\n"
        "print(service.tariff_summary()['tariff']['tariff_id'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "kepco-2018" in result.stdout


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda p, f: service.whatif_shift(
                p,
                days="2018-11-22",
                from_start="10:00",
                from_end="12:00",
                to_start="02:00",
                to_end="04:00",
                share="half",
            ),
            "share",
        ),
        (
            lambda p, f: service.whatif_shift(
                p, days="2018-11-22", from_start=10, from_end="12:00", to_start="02:00", to_end="04:00"
            ),
            "from_window.start",
        ),
        (lambda p, f: service.whatif_power_factor(p, bank_kvar="50"), "bank_kvar"),
        (lambda p, f: service.whatif_power_factor(p, bank_kvar=50, months="2018-01"), "months"),
        (lambda p, f: service.whatif_power_factor(p, target_pf_pct=95, bank_sizes_kvar=[50, None]), "bank_sizes_kvar"),
        (lambda p, f: service.peak_risk(f, cap_kw=None), "cap_kw"),
        (
            lambda p, f: service.optimize_block(
                f,
                energy_kwh=10,
                duration_minutes="an hour",
                power_limit_kw=100,
                window_start="08:00",
                window_end="12:00",
            ),
            "duration_minutes",
        ),
        (
            lambda p, f: service.optimize_block(
                f,
                energy_kwh=float("nan"),
                duration_minutes=60,
                power_limit_kw=100,
                window_start="08:00",
                window_end="12:00",
            ),
            "energy_kwh",
        ),
    ],
)
def test_wrong_types_are_input_errors_not_crashes(priced, clean, call, field):
    day = clean[(clean["timestamp"] > "2018-11-22") & (clean["timestamp"] <= "2018-11-23")]
    forecast = day[["timestamp"]].assign(
        p025=day["usage_kwh"], p10=day["usage_kwh"], p50=day["usage_kwh"], p90=day["usage_kwh"], p975=day["usage_kwh"]
    )
    with pytest.raises(CopilotInputError) as error:
        call(priced, forecast)
    assert error.value.field == field


def test_what_ifs_never_change_the_shared_priced_history(clean, tariff):
    history = service.prepare_history(clean, tariff)
    before = history.table.copy()
    service.whatif_shift(
        history,
        days=["2018-01-15", "2018-11-22"],
        from_start="10:00",
        from_end="12:00",
        to_start="02:00",
        to_end="04:00",
    )
    service.whatif_power_factor(history, bank_kvar=100, switching="fixed")
    pd.testing.assert_frame_equal(history.table, before)
