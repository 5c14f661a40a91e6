"""/health, /ready and /metrics (api/routers/service.py) over the small registered models."""

from __future__ import annotations

from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME

from .conftest import champion as _champion


def test_health_and_ready_with_champions(client, mlflow_client):
    health = client.get("/health").json()
    assert health["status"] == "ok"
    for name in (ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME):
        assert health["models"][name]["loaded"] is True
        assert health["models"][name]["version"] == str(_champion(mlflow_client, name).version)
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


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
