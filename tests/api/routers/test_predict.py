"""/predict and /predict/batch (api/routers/predict.py).

Answers with lineage, and each client error the API promises.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from energy_assets import lineage, schema
from energy_assets.settings import ESTIMATOR_MODEL_NAME

from ..conftest import reading_json
from .conftest import champion as _champion


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
    # Readings of far-apart usage (not in usage order), so that any model answers them with distinct numbers.
    by_usage = holdout.sort_values(schema.TARGET, kind="stable")
    rows = [reading_json(by_usage.iloc[int(q * (len(by_usage) - 1))]) for q in (0.8, 0.05, 0.99, 0.3, 0.55)]
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
