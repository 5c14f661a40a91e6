"""Each endpoint over the session's real champions, and each client error the API promises."""

from __future__ import annotations

import datetime as dt
import json
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from energy_assets import lineage, schema
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME

from .conftest import API_TOKEN, reading_json


def _champion(mlflow_client, name):
    found = mlflow_client.get_model_version_by_alias(name, "champion")
    # The SQL store hands out int versions, the REST store strings; the API always says strings.
    return SimpleNamespace(version=str(found.version), run_id=found.run_id, tags=found.tags)


def test_health_and_ready_with_champions(client, mlflow_client):
    health = client.get("/health").json()
    assert health["status"] == "ok"
    for name in (ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME):
        assert health["models"][name]["loaded"] is True
        assert health["models"][name]["version"] == str(_champion(mlflow_client, name).version)
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_predict_returns_usage_with_lineage_in_body_and_headers(client, reading, mlflow_client):
    response = client.post("/predict", json=reading)
    assert response.status_code == 200, response.text
    body = response.json()
    champion = _champion(mlflow_client, ESTIMATOR_MODEL_NAME)
    assert math.isfinite(body["usage_kwh"])
    assert body["lineage"] == {
        "model_name": ESTIMATOR_MODEL_NAME,
        "model_version": champion.version,
        "mlflow_run_id": champion.run_id,
        "data_version": champion.tags[lineage.TAG_DATA_VERSION],
    }
    assert response.headers["X-Model-Version"] == champion.version
    assert response.headers["X-Model-Run-Id"] == champion.run_id
    assert response.headers["X-Data-Version"] == champion.tags[lineage.TAG_DATA_VERSION]


def test_batch_keeps_request_order_and_matches_single_predictions(client, holdout):
    rows = [reading_json(holdout.iloc[i]) for i in (5, 500, 50, 3000, 17)]
    batch = client.post("/predict/batch", json={"readings": rows})
    assert batch.status_code == 200, batch.text
    singles = [client.post("/predict", json=row).json()["usage_kwh"] for row in rows]
    assert batch.json()["usage_kwh"] == pytest.approx(singles, abs=1e-9)
    assert len(set(singles)) == len(singles)  # distinct rows, so the order is really tested


def test_batch_over_the_limit_is_413_naming_the_limit(client, reading):
    from api.schemas import MAX_BATCH_ROWS

    response = client.post("/predict/batch", json={"readings": [reading] * (MAX_BATCH_ROWS + 1)})
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"] and "10,001" in response.json()["detail"]
    at_limit = client.post("/predict/batch", json={"readings": [reading] * MAX_BATCH_ROWS})
    assert at_limit.status_code == 200 and len(at_limit.json()["usage_kwh"]) == MAX_BATCH_ROWS


def test_oversized_body_is_413_before_parsing(client):
    from api.app import MAX_BODY_BYTES

    response = client.post(
        "/predict/batch", content=b" " * (MAX_BODY_BYTES + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "over the limit" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"co2_tco2": 1.5}, "co2_tco2", ["between 0 and 1"]),
        ({"lagging_power_factor": -3}, "lagging_power_factor", ["between 0 and 100"]),
        ({"nsm": 86400}, "nsm", ["85500"]),
        ({"load_type": "Peak_Load"}, "load_type", ["Light_Load", "Maximum_Load"]),
        ({"day_of_week": 3}, "day_of_week", ["Monday"]),
        ({"lagging_reactive_power_kvarh": "lots"}, "lagging_reactive_power_kvarh", ["between 0 and 500"]),
        ({"nsm": 29700.5}, "nsm", ["multiple of 900"]),
        ({"usage_kwh": 3.0}, "usage_kwh", ["Extra inputs"]),
    ],
)
def test_invalid_fields_are_422_naming_field_and_allowed_values(client, reading, change, field, words):
    response = client.post("/predict", json={**reading, **change})
    assert response.status_code == 422, response.text
    messages = [d["msg"] for d in response.json()["detail"] if d["loc"][-1] == field]
    assert messages, response.json()
    assert all(word in messages[0] for word in words), messages[0]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_inf_are_refused(client, reading, literal):
    text = json.dumps(reading).replace('"co2_tco2": ' + json.dumps(reading["co2_tco2"]), f'"co2_tco2": {literal}')
    assert literal in text
    response = client.post("/predict", content=text, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "co2_tco2" in response.json()["detail"][0]["msg"]


def test_missing_field_and_inconsistent_calendar(client, reading):
    missing = {k: v for k, v in reading.items() if k != "leading_power_factor"}
    response = client.post("/predict", json=missing)
    assert response.status_code == 422
    assert (
        "leading_power_factor" in response.json()["detail"][0]["msg"]
        and "Field required" in response.json()["detail"][0]["msg"]
    )

    ts = dt.datetime.fromisoformat(reading["timestamp"])
    wrong_day = client.post("/predict", json={**reading, "timestamp": (ts + dt.timedelta(days=1)).isoformat()})
    assert wrong_day.status_code == 422
    assert "day_of_week" in wrong_day.text

    aware = client.post("/predict", json={**reading, "timestamp": reading["timestamp"] + "+02:00"})
    assert aware.status_code == 422 and "UTC offset" in aware.text

    batch = client.post(
        "/predict/batch", json={"readings": [reading, {**reading, "nsm": (reading["nsm"] + 900) % 86400}]}
    )
    assert batch.status_code == 422
    assert batch.json()["detail"][0]["loc"][:3] == ["body", "readings", 1]
    assert "nsm" in batch.json()["detail"][0]["msg"]


def test_scalar_calendar_rule_agrees_with_the_schema_over_a_year():
    from api.schemas import interval_calendar

    stamps = pd.Series(pd.date_range("2018-01-01 00:15", "2019-01-01 00:00", freq="15min"))
    expected = schema.calendar_columns(stamps)
    derived = pd.DataFrame(
        [interval_calendar(ts.to_pydatetime()) for ts in stamps], columns=["nsm", "day_of_week", "week_status"]
    )
    pd.testing.assert_frame_equal(derived, expected[["nsm", "day_of_week", "week_status"]], check_dtype=False)


def test_forecast_gives_96_intervals_of_the_day(client, mlflow_client):
    response = client.get("/forecast", params={"day": "2018-11-14"})
    assert response.status_code == 200, response.text
    body = response.json()
    stamps = [dt.datetime.fromisoformat(i["timestamp"]) for i in body["intervals"]]
    assert len(stamps) == 96
    assert stamps[0] == dt.datetime(2018, 11, 14, 0, 15) and stamps[-1] == dt.datetime(2018, 11, 15, 0, 0)
    assert all(math.isfinite(i["usage_kwh"]) for i in body["intervals"])
    assert body["load_type_source"] == "clean_readings"
    assert body["lineage"]["model_version"] == _champion(mlflow_client, FORECASTER_MODEL_NAME).version


def test_forecast_beyond_the_data_uses_a_planned_schedule(client):
    body = client.get("/forecast", params={"day": "2019-01-01"}).json()  # the day after the last reading
    assert body["load_type_source"] == "planned_from_history"
    loads = [i["load_type"] for i in body["intervals"]]
    assert loads[0] == "Light_Load" and loads[11 * 4] != "Light_Load"  # nights light, working hours not


def test_planned_schedule_keeps_sundays_light_all_day(energy_home, pipeline_result):
    from api.history import CleanHistory, planned_load_types
    from energy_assets.settings import get_settings

    history = CleanHistory(get_settings().asset_dir / "clean_readings").frame()
    sunday = pd.Timestamp("2018-12-30")
    assert set(planned_load_types(history, sunday)) == {"Light_Load"}
    actual = history[history["_day"] == pd.Timestamp("2018-12-19")]["load_type"].tolist()
    planned = planned_load_types(history, pd.Timestamp("2018-12-19"))  # a Wednesday with known schedule
    assert sum(a == p for a, p in zip(actual, planned, strict=True)) / 96 > 0.9


@pytest.mark.parametrize(
    ("day", "words"),
    [("2018-01-20", ["28 days", "2018-01-01"]), ("2019-03-01", ["28 days", "2018-12-31"]), ("9999-01-01", ["outside"])],
)
def test_forecast_without_enough_history_is_422_saying_why(client, day, words):
    response = client.get("/forecast", params={"day": day})
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert all(word in message for word in words), message


def test_forecast_rejects_a_malformed_day(client):
    response = client.get("/forecast", params={"day": "14/11/2018"})
    assert response.status_code == 422 and "day" in response.text


def test_model_reports_lineage_read_from_the_registry(client, mlflow_client):
    body = client.get("/model").json()
    served = {m["name"]: m for m in body["models"]}
    assert set(served) == {ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME}
    for name, info in served.items():
        version = _champion(mlflow_client, name)
        run = mlflow_client.get_run(version.run_id)
        assert info["version"] == version.version and info["alias"] == "champion"
        assert info["mlflow_run_id"] == version.run_id
        assert info["holdout_metrics"]["rmse"] == pytest.approx(float(version.tags[lineage.TAG_HOLDOUT_RMSE]))
        assert info["holdout_metrics"]["rmse"] == pytest.approx(run.data.metrics["holdout_rmse"], rel=1e-5)
        assert info["data_version"] == version.tags[lineage.TAG_DATA_VERSION] and len(info["data_version"]) == 32
        assert info["git_commit"] == version.tags[lineage.TAG_GIT_COMMIT]
        assert info["dagster_run_id"] == version.tags[lineage.TAG_DAGSTER_RUN]
        assert dt.datetime.fromisoformat(info["trained_at"]).timestamp() == pytest.approx(run.info.start_time / 1000)


def test_admin_reload_requires_the_token(client):
    assert client.post("/admin/reload").status_code == 401
    wrong = client.post("/admin/reload", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 403 and "wrong token" in wrong.json()["detail"]
    right = client.post("/admin/reload", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert right.status_code == 200
    assert all(not outcome["changed"] and outcome["error"] is None for outcome in right.json()["models"].values())


def test_admin_reload_is_disabled_without_a_configured_token(api_config):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(replace(api_config, api_token=None))
    response = TestClient(app).post("/admin/reload", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403 and "ENERGY_API_TOKEN" in response.json()["detail"]


def test_metrics_count_requests_predictions_and_versions(client, reading, mlflow_client):
    client.post("/predict", json=reading)
    client.post("/predict", json={**reading, "co2_tco2": 9})
    text = client.get("/metrics").text
    champion = _champion(mlflow_client, ESTIMATOR_MODEL_NAME)
    assert 'energy_api_requests_total{endpoint="/predict",method="POST",status="200"}' in text
    assert 'energy_api_requests_total{endpoint="/predict",method="POST",status="422"}' in text
    assert 'energy_api_request_duration_seconds_bucket{endpoint="/predict",le="0.002"}' in text
    assert f'energy_api_predictions_total{{model="{ESTIMATOR_MODEL_NAME}",version="{champion.version}"}}' in text
    assert (
        f'energy_api_served_model_info{{model="{ESTIMATOR_MODEL_NAME}",'
        f'run_id="{champion.run_id}",version="{champion.version}"}} 1.0' in text
    )


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    reading = spec["components"]["schemas"]["Reading"]["properties"]
    assert reading["co2_tco2"]["maximum"] == schema.NUMERIC["co2_tco2"].maximum
    assert set(reading["load_type"]["enum"]) == set(schema.CATEGORIES["load_type"])


def test_api_package_imports_neither_dagster_nor_prefect():
    import subprocess
    import sys

    code = (
        "import sys, api.app, api.mcp, api.routers.copilot, energy_assets.copilot.service; "
        "bad = [m for m in ('dagster', 'prefect', 'dvc') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
