"""The copilot over REST (api/routers/copilot.py): bills, what-ifs, the scheduler, explanations, lineage; bad
input as 422 and an unusable tariff as 503.

Each answer is compared with the domain package's own call on the same clean readings, so the
routes are checked to add nothing and lose nothing on the way.
"""

from __future__ import annotations

import pytest

from api import deps
from api.copilot_schemas import OptimizeRequest, ShiftRequest
from energy_assets.settings import FORECASTER_MODEL_NAME
from tests.api.conftest import schema_example

from .conftest import assert_lineage as _assert_lineage
from .conftest import plain as _plain

# The bad-input cases below change one thing each of these valid requests.
SHIFT_WINDOWS = {k: v for k, v in schema_example(ShiftRequest).items() if k != "share"}
BLOCK = {
    "day": "2018-10-10",
    "energy_kwh": 100,
    "duration_minutes": 60,
    "power_limit_kw": 100,
    "window_start": "06:00",
    "window_end": "22:00",
}


def test_bill_is_the_domain_bill_with_lineage(client, domain):
    service, priced, version, tariff = domain
    response = client.get("/copilot/bill", params={"month": "2018-03"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "lineage"} == _plain(service.bill(priced, "2018-03", tariff=tariff))
    bill = body["bill"]
    assert bill["energy_charge"] + bill["demand_charge"] + bill["pf_adjustment"] == pytest.approx(
        bill["total"], abs=0.05
    )
    _assert_lineage(body, version, tariff, [])


def test_shift_and_power_factor_are_the_domain_answers(client, domain):
    service, priced, version, tariff = domain
    shift = schema_example(ShiftRequest)
    body = client.post("/copilot/whatif/shift", json=shift).json()
    expected = service.whatif_shift(priced, **shift, tariff=tariff)
    assert {k: v for k, v in body.items() if k != "lineage"} == _plain(expected)
    assert body["delta_total"]["energy_charge"] < 0  # peak-period energy moved to the light-load night
    _assert_lineage(body, version, tariff, [])

    pf = {"target_pf_pct": 95, "cost_per_kvar": 30000, "bank_sizes_kvar": [25, 50, 75, 100]}
    body = client.post("/copilot/whatif/power-factor", json=pf).json()
    expected = service.whatif_power_factor(priced, **pf, tariff=tariff)
    assert {k: v for k, v in body.items() if k != "lineage"} == _plain(expected)
    _assert_lineage(body, version, tariff, [])


def test_optimize_schedules_the_block_on_the_forecast_day(client, domain):
    _, _, version, tariff = domain
    request = {k: v for k, v in schema_example(OptimizeRequest).items() if k != "peak_cap_kw"}
    response = client.post("/copilot/optimize", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sum(s["block_kwh"] for s in body["schedule"]) == pytest.approx(200, abs=1e-3)
    assert all(s["block_kw"] <= 150 + 1e-6 for s in body["schedule"])
    assert (
        body["saving_vs_early"] >= -1e-6
        and body["cost"]["total"] <= body["as_early_as_allowed"]["cost"]["total"] + 1e-6
    )
    _assert_lineage(body, version, tariff, [FORECASTER_MODEL_NAME])
    # The baseline is the forecast the API serves for that day.
    forecast = client.get("/forecast", params={"day": "2018-10-10"}).json()["intervals"]
    baseline = {s["interval_start"]: s["baseline_kw"] for s in body["schedule"]}
    first = forecast[24]  # the interval 06:00-06:15 ends at 06:15
    assert baseline["2018-10-10T06:00:00"] == pytest.approx(first["usage_kwh"] * 4, abs=1e-2)


def test_explain_gives_the_peak_with_numbers_and_sentences(client, domain, holdout):
    _, _, version, tariff = domain
    response = client.get("/copilot/explain", params={"day": "2018-11-16"})
    assert response.status_code == 200, response.text
    body = response.json()
    from energy_assets import schema

    day = holdout[schema.interval_day(holdout[schema.TIMESTAMP]) == "2018-11-16"]
    assert body["peak"]["usage_kwh"] == pytest.approx(day[schema.TARGET].max())
    assert (
        body["peak"]["intervals"][0]["timestamp"] == day.loc[day[schema.TARGET].idxmax(), schema.TIMESTAMP].isoformat()
    )
    assert len(body["sentences"]) == 6 and all(s.endswith(".") for s in body["sentences"])
    assert (
        body["contributions"]["features"]
        and body["forecast"]["peak_interval_band"]["p10"] <= body["forecast"]["peak_interval_band"]["p90"]
    )
    _assert_lineage(body, version, tariff, [FORECASTER_MODEL_NAME])


@pytest.mark.parametrize(
    ("method", "path", "payload", "loc", "words"),
    [
        ("get", "/copilot/bill", {"month": "2018-13"}, ["query", "month"], ["pattern"]),
        ("get", "/copilot/explain", {"day": "2019-03-01"}, ["query", "day"], ["no readings"]),
        ("get", "/copilot/explain", {"day": "2018-01-10"}, ["query", "day"], ["the forecaster needs 28"]),
        ("get", "/copilot/explain", {"day": "0001-01-01"}, ["query", "day"], ["outside"]),
        ("get", "/copilot/bill", {"month": "2017-05"}, ["query", "month"], ["no readings", "2018-01"]),
        (
            "post",
            "/copilot/whatif/shift",
            {**SHIFT_WINDOWS, "from_end": "12:00", "to_start": "11:00", "to_end": "13:00"},
            ["body", "to_window"],
            ["overlaps"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {**SHIFT_WINDOWS, "from_end": "25:00"},
            ["body", "from_end"],
            ["pattern"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {**SHIFT_WINDOWS, "from_start": "11:00", "from_end": "10:00"},
            ["body", "from_window"],
            ["not before"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {**SHIFT_WINDOWS, "days": ["2019-06-01"]},
            ["body", "days"],
            ["no readings"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {**SHIFT_WINDOWS, "energy_kwh": 5000},
            ["body", "energy_kwh"],
            ["cannot move"],
        ),
        ("post", "/copilot/whatif/power-factor", {"months": ["2018-02"]}, ["body", "bank_kvar"], ["target_pf_pct"]),
        (
            "post",
            "/copilot/optimize",
            {**BLOCK, "energy_kwh": 5000},
            ["body", "energy_kwh"],
            ["cannot run"],
        ),
        (
            "post",
            "/copilot/optimize",
            {**BLOCK, "window_end": "06:30"},
            ["body", "duration_minutes"],
            ["does not fit"],
        ),
        (
            "post",
            "/copilot/optimize",
            {**BLOCK, "peak_cap_kw": 50},
            ["body", "peak_cap_kw"],
            ["above the cap"],
        ),
        (
            "post",
            "/copilot/optimize",
            {**BLOCK, "duration_minutes": 50},
            ["body", "duration_minutes"],
            ["multiple of 15"],
        ),
        (
            "post",
            "/copilot/optimize",
            {**BLOCK, "day": "2030-01-01"},
            ["body", "day"],
            ["28 days"],
        ),
    ],
)
def test_bad_input_is_422_naming_the_field_and_why(client, method, path, payload, loc, words):
    response = client.get(path, params=payload) if method == "get" else client.post(path, json=payload)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(d["loc"] == loc for d in detail), detail
    message = next(d["msg"] for d in detail if d["loc"] == loc)
    assert all(word in message for word in words), message


def test_an_unusable_tariff_file_is_503_naming_the_key(client, api_app, override, tmp_path, monkeypatch):
    from api.operations import Copilot

    broken = tmp_path / "tariff.yaml"
    broken.write_text(
        "id: broken\nversion: 1\nname: broken\ncurrency: KRW\neffective_from: '2018-01-01'\nseasons: {all: [1, 2, 3]}\n"
    )
    monkeypatch.setenv("ENERGY_TARIFF", str(broken))
    # A copilot as a server started with this environment has it (the session's has its tariff loaded already).
    override(deps.CopilotOps, Copilot(api_app.state.champions, api_app.state.history))
    response = client.get("/copilot/bill", params={"month": "2018-03"})
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert str(broken) in detail and "ENERGY_TARIFF" in detail and "seasons" in detail and "no season" in detail, detail
