"""The copilot over REST: forecast bands, cost and peak; bills; what-ifs; the scheduler; lineage; bad input as 422.

Each answer is compared with the domain package's own call on the same clean readings, so the
routes are checked to add nothing and lose nothing on the way.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from energy_assets.settings import FORECASTER_MODEL_NAME

QUANTILES = ("p025", "p10", "p50", "p90", "p975")


@pytest.fixture(scope="module")
def domain(api_app):
    """The clean history and tariff the API serves from, priced by the domain package directly."""
    from energy_assets.copilot import service
    from energy_assets.copilot.tariff import load_tariff

    frame, version = api_app.state.history.snapshot()
    tariff = load_tariff()
    return service, service.prepare_history(frame.drop(columns="_day"), tariff), version, tariff


def _plain(body: dict) -> dict:
    return json.loads(json.dumps(body))


def _assert_lineage(body: dict, version: str, tariff, models: list[str]) -> None:
    assert body["lineage"]["readings_version"] == version and version.startswith("sha256:")
    assert body["lineage"]["tariff_version"] == tariff.label == body["tariff"]["tariff_version"]
    assert [m["model_name"] for m in body["lineage"]["models"]] == models


def test_forecast_answers_bands_cost_and_peak_of_the_day(client, domain):
    _, _, version, tariff = domain
    response = client.get("/forecast", params={"day": "2018-11-14"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bands"] is True and len(body["intervals"]) == 96
    for interval in body["intervals"]:
        values = [interval[q] for q in QUANTILES]
        assert values == sorted(values), interval  # quantiles never cross
    usage = np.array([i["usage_kwh"] for i in body["intervals"]])
    assert body["cost"]["energy_kwh"] == pytest.approx(usage.sum(), abs=1e-2)
    assert body["cost"]["peak_kw"] == pytest.approx(usage.max() * 4, abs=1e-2)
    peak = body["intervals"][int(usage.argmax())]
    assert body["cost"]["peak_at"] == peak["timestamp"]
    assert sum(p["charge"] for p in body["cost"]["energy_by_period"].values()) == pytest.approx(
        body["cost"]["energy_charge"], abs=0.05
    )
    assert body["lineage"]["model_name"] == FORECASTER_MODEL_NAME
    assert body["lineage"]["readings_version"] == version and body["lineage"]["tariff_version"] == tariff.label


def test_forecast_with_a_cap_gives_the_probability_of_exceeding_it(client):
    body = client.get("/forecast", params={"day": "2018-11-14", "cap_kw": 150}).json()
    risk = body["peak_risk"]
    assert risk["cap_kw"] == 150 and len(risk["intervals"]) == 96
    p = np.array([i["p_exceed"] for i in risk["intervals"]])
    assert ((p >= 0) & (p <= 1)).all()
    p90_kw = np.array([i["p90"] * 4 for i in body["intervals"]])
    # Where even the 90 % quantile is above the cap, exceeding it is more likely than not.
    assert (p[p90_kw > 150 * 1.5] > 0.5).all() and (p90_kw > 150 * 1.5).any()
    assert client.get("/forecast", params={"day": "2018-11-14", "cap_kw": -5}).status_code == 422


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
    shift = {
        "days": ["2018-10-05"],
        "from_start": "10:00",
        "from_end": "11:00",
        "to_start": "02:00",
        "to_end": "03:00",
        "share": 0.5,
    }
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
    request = {
        "day": "2018-10-10",
        "energy_kwh": 200,
        "duration_minutes": 120,
        "power_limit_kw": 150,
        "window_start": "06:00",
        "window_end": "22:00",
    }
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
            {
                "days": ["2018-10-05"],
                "from_start": "10:00",
                "from_end": "12:00",
                "to_start": "11:00",
                "to_end": "13:00",
            },
            ["body", "to_window"],
            ["overlaps"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {
                "days": ["2018-10-05"],
                "from_start": "10:00",
                "from_end": "25:00",
                "to_start": "02:00",
                "to_end": "03:00",
            },
            ["body", "from_end"],
            ["pattern"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {
                "days": ["2018-10-05"],
                "from_start": "11:00",
                "from_end": "10:00",
                "to_start": "02:00",
                "to_end": "03:00",
            },
            ["body", "from_window"],
            ["not before"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {
                "days": ["2019-06-01"],
                "from_start": "10:00",
                "from_end": "11:00",
                "to_start": "02:00",
                "to_end": "03:00",
            },
            ["body", "days"],
            ["no readings"],
        ),
        (
            "post",
            "/copilot/whatif/shift",
            {
                "days": ["2018-10-05"],
                "from_start": "10:00",
                "from_end": "11:00",
                "to_start": "02:00",
                "to_end": "03:00",
                "energy_kwh": 5000,
            },
            ["body", "energy_kwh"],
            ["cannot move"],
        ),
        ("post", "/copilot/whatif/power-factor", {"months": ["2018-02"]}, ["body", "bank_kvar"], ["target_pf_pct"]),
        (
            "post",
            "/copilot/optimize",
            {
                "day": "2018-10-10",
                "energy_kwh": 5000,
                "duration_minutes": 60,
                "power_limit_kw": 100,
                "window_start": "06:00",
                "window_end": "22:00",
            },
            ["body", "energy_kwh"],
            ["cannot run"],
        ),
        (
            "post",
            "/copilot/optimize",
            {
                "day": "2018-10-10",
                "energy_kwh": 100,
                "duration_minutes": 60,
                "power_limit_kw": 100,
                "window_start": "06:00",
                "window_end": "06:30",
            },
            ["body", "duration_minutes"],
            ["does not fit"],
        ),
        (
            "post",
            "/copilot/optimize",
            {
                "day": "2018-10-10",
                "energy_kwh": 100,
                "duration_minutes": 60,
                "power_limit_kw": 100,
                "window_start": "06:00",
                "window_end": "22:00",
                "peak_cap_kw": 50,
            },
            ["body", "peak_cap_kw"],
            ["above the cap"],
        ),
        (
            "post",
            "/copilot/optimize",
            {
                "day": "2018-10-10",
                "energy_kwh": 100,
                "duration_minutes": 50,
                "power_limit_kw": 100,
                "window_start": "06:00",
                "window_end": "22:00",
            },
            ["body", "duration_minutes"],
            ["multiple of 15"],
        ),
        (
            "post",
            "/copilot/optimize",
            {
                "day": "2030-01-01",
                "energy_kwh": 100,
                "duration_minutes": 60,
                "power_limit_kw": 100,
                "window_start": "06:00",
                "window_end": "22:00",
            },
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


def test_an_unusable_tariff_file_is_503_naming_the_key(api_config, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from api.app import create_app

    broken = tmp_path / "tariff.yaml"
    broken.write_text(
        "id: broken\nversion: 1\nname: broken\ncurrency: KRW\neffective_from: '2018-01-01'\nseasons: {all: [1, 2, 3]}\n"
    )
    monkeypatch.setenv("ENERGY_TARIFF", str(broken))
    response = TestClient(create_app(api_config)).get("/copilot/bill", params={"month": "2018-03"})
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert str(broken) in detail and "ENERGY_TARIFF" in detail and "seasons" in detail and "no season" in detail, detail
