"""Each page under Streamlit's AppTest against a running API: its widgets, and numbers equal to the API's."""

from __future__ import annotations

import json

import pytest
import requests

from tests.dashboard.conftest import app_test, free_port

PAGES = ("tomorrow", "bills", "whatif", "explain", "models")


def api_get(base: str, path: str, **params):
    response = requests.get(f"{base}{path}", params=params, timeout=60)
    response.raise_for_status()
    return response.json()


def metric(at, label: str) -> str:
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; the page shows {[m.label for m in at.metric]}"
    return found[0].value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_which_url_it_tried_when_the_api_is_down(page, monkeypatch):
    down = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ENERGY_API_URL", down)
    at = app_test(page).run()
    assert not at.exception, at.exception
    messages = " ".join(e.value for e in at.error)
    assert down in messages and "not answering" in messages


def expected_peak_kw(forecast: dict) -> float:
    """The day's peak as the API gives it (its cost), or the point forecast's largest kWh x 4."""
    cost = forecast.get("cost")
    return cost["peak_kw"] if cost else max(i["usage_kwh"] for i in forecast["intervals"]) * 4


def test_tomorrow_forecasts_the_next_day_with_the_api_s_numbers(on_api):
    span = api_get(on_api, "/history")
    at = app_test("tomorrow").run()
    assert not at.exception, at.exception
    assert at.date_input[0].value.isoformat() == span["next_day"]
    forecast = api_get(on_api, "/forecast", day=span["next_day"])
    usage = [i["usage_kwh"] for i in forecast["intervals"]]
    assert len(usage) == 96
    cost = forecast.get("cost") or {}
    assert metric(at, "Expected use") == f"{cost.get('energy_kwh', sum(usage)):,.1f} kWh"
    assert metric(at, "Expected peak") == f"{expected_peak_kw(forecast):,.1f} kW"
    if cost:
        currency = forecast["tariff"]["currency"]
        assert metric(at, f"Expected energy charge ({currency})") == money(cost["energy_charge"], "")
        assert metric(at, "Expected CO2") == f"{cost['co2_t']:,.2f} t"
    assert any(forecast["lineage"]["model_version"] in c.value for c in at.caption)


def test_tomorrow_compares_the_peak_with_the_cap_the_user_sets(on_api):
    at = app_test("tomorrow").run()
    span = api_get(on_api, "/history")
    plain = api_get(on_api, "/forecast", day=span["next_day"])
    cap = round(expected_peak_kw(plain) - 50)
    at.number_input[0].set_value(float(cap)).run()
    assert not at.exception, at.exception
    peak = next(m for m in at.metric if m.label == "Expected peak")
    assert peak.delta == f"{expected_peak_kw(plain) - cap:+,.1f} kW vs cap"
    messages = " ".join(m.value for m in [*at.warning, *at.info])
    if plain.get("bands"):  # the API judges the cap from the bands
        risk = api_get(on_api, "/forecast", day=span["next_day"], cap_kw=float(cap))["peak_risk"]
        assert f"(probability {risk['max_p_exceed']:.0%})" in messages
    else:
        over = sum(1 for i in plain["intervals"] if i["usage_kwh"] * 4 > cap)
        assert f"{over} intervals' forecast demand exceeds the cap of {cap:,.0f} kW" in messages


def test_a_refusal_carries_the_api_s_reason_naming_the_field(on_api):
    from dashboard.client import ApiClient, ApiRefused

    with pytest.raises(ApiRefused) as refused:
        ApiClient(on_api).get("/forecast", day="2017-01-01")
    assert refused.value.status == 422
    assert refused.value.detail.startswith("day: ") and "clean readings" in refused.value.detail
    assert f"{on_api}/forecast?day=2017-01-01" in str(refused.value)


def test_models_shows_the_served_champions_and_their_holdout_metrics(on_api):
    info = api_get(on_api, "/model")
    at = app_test("models").run()
    assert not at.exception, at.exception
    headers = [h.value for h in at.subheader]
    for model in info["models"]:
        assert f"{model['name']} v{model['version']} (@{model['alias']})" in headers
    shown = [(m.label, m.value) for m in at.metric]
    for model in info["models"]:
        assert ("holdout RMSE", f"{model['holdout_metrics']['rmse']:,.3f} kWh") in shown
    tables = [t.value for t in at.dataframe]
    assert any(info["models"][0]["mlflow_run_id"] in " ".join(t["value"].astype(str)) for t in tables)


def test_models_shows_the_latest_drift_report_and_the_gate_decisions(on_api):
    monitoring = api_get(on_api, "/model/monitoring")
    at = app_test("models").run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in [*at.info, *at.success, *at.warning])
    assert monitoring["message"] in shown
    gate_tables = [t.value for t in at.dataframe if "compared with" in t.value.columns]
    assert len(gate_tables) == len(monitoring["gates"])
    for table, gates in zip(gate_tables, monitoring["gates"], strict=True):
        assert table["version"].tolist() == [v["version"] for v in gates["versions"]]
        assert table["decision"].tolist() == [v["decision"] for v in gates["versions"]]
        champion = table[table["champion"]]
        assert champion["version"].tolist() == [gates["champion_version"]]


def api_post(base: str, path: str, body: dict):
    response = requests.post(f"{base}{path}", json=body, timeout=120)
    response.raise_for_status()
    return response.json()


def money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}".strip()


def test_bills_show_the_api_s_bills_summed_over_the_months(on_api):
    span = api_get(on_api, "/history")
    at = app_test("bills").run()
    assert not at.exception, at.exception
    answers = [api_get(on_api, "/copilot/bill", month=m) for m in span["months"]]
    currency = answers[0]["tariff"]["currency"]
    for label, key in (
        ("Total billed", "total"),
        ("Demand charge", "demand_charge"),
        ("Power-factor adjustment", "pf_adjustment"),
    ):
        assert metric(at, f"{label} ({currency})") == money(sum(a["bill"][key] for a in answers), "")
    table = at.dataframe[0].value
    assert table["total"].round(2).tolist() == [round(a["bill"]["total"], 2) for a in answers]


def test_bills_draw_the_tariff_s_power_factor_thresholds(on_api):
    span = api_get(on_api, "/history")
    rule = api_get(on_api, "/copilot/bill", month=span["months"][0])["power_factor_rule"]
    at = app_test("bills").run()
    assert not at.exception, at.exception
    lag, lead = rule["lagging"], rule["leading"]
    expected = (
        f"lagging {lag['reference_pct']:g} % in {lag['start_hour']:02d}–{lag['end_hour']:02d} h and "
        f"leading {lead['reference_pct']:g} % in {lead['start_hour']:02d}–{lead['end_hour']:02d} h"
    )
    assert any(expected in c.value for c in at.caption), [c.value for c in at.caption]
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("rule" in json.dumps(spec) and "power factor" in json.dumps(spec) for spec in charts)


def test_bills_show_actual_vs_the_forecaster_s_backtest(on_api):
    versus = api_get(on_api, "/forecast/monthly")
    at = app_test("bills").run()
    assert not at.exception, at.exception
    (table,) = [t.value for t in at.dataframe if "forecast (kWh)" in t.value.columns]
    covered = [m for m in versus["months"] if m["forecast_intervals"] > 0]
    assert covered and table["month"].tolist() == [m["month"] for m in covered]
    assert table["forecast (kWh)"].tolist() == pytest.approx([m["forecast_kwh"] for m in covered])
    assert table["actual (kWh)"].tolist() == pytest.approx([m["forecast_actual_kwh"] for m in covered])
    charts = [json.dumps(json.loads(c.proto.spec)) for c in at.get("vega_lite_chart")]
    assert any("usage (MWh)" in spec and "xOffset" in spec for spec in charts)


def shift_body(day: str) -> dict:
    """The Shift form's defaults, as the request the page sends."""
    return {
        "days": [day],
        "from_start": "10:00",
        "from_end": "12:00",
        "to_start": "02:00",
        "to_end": "04:00",
        "share": 0.5,
    }


def test_whatif_shift_shows_the_api_s_saving(on_api):
    span = api_get(on_api, "/history")
    at = app_test("whatif").run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Compute the shift").click().run()
    assert not at.exception, at.exception
    answer = api_post(on_api, "/copilot/whatif/shift", shift_body(span["last_day"]))
    currency = answer["tariff"]["currency"]
    assert metric(at, "Saving (shift)") == money(-answer["delta_total"]["total"], currency)
    assert metric(at, "Peak after") == f"{answer['days'][0]['peak_kw_after']:,.1f} kW"


def test_explain_shows_the_api_s_sentences(on_api):
    span = api_get(on_api, "/history")
    answer = api_get(on_api, "/copilot/explain", day=span["last_day"])
    at = app_test("explain").run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    sentences = answer["sentences"]
    assert sentences and all(s in shown for s in sentences)
    assert at.date_input[0].value.isoformat() == span["last_day"]


def test_make_verify_checks_the_dashboard(dashboard_url, monkeypatch, capsys):
    from energy_assets import verify

    monkeypatch.setenv("ENERGY_DASHBOARD_URL", dashboard_url)
    assert verify.main(["--only", "dashboard"]) == 0
    assert capsys.readouterr().out.split()[:2] == ["ok", "dashboard"]
    monkeypatch.setenv("ENERGY_DASHBOARD_URL", f"http://127.0.0.1:{free_port()}")
    assert verify.main(["--only", "dashboard"]) == 1
    assert capsys.readouterr().out.split()[:2] == ["FAIL", "dashboard"]
