"""Start-up without champions: the API runs degraded, says so, and answers 503 naming the model and URI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME

from .conftest import free_port


def _assert_degraded(client: TestClient, uri_part: str, reading: dict) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert not any(m["loaded"] for m in health.json()["models"].values())
    assert all(m["last_error"] for m in health.json()["models"].values())
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    for response, name in (
        (client.post("/predict", json=reading), ESTIMATOR_MODEL_NAME),
        (client.post("/predict/batch", json={"readings": [reading]}), ESTIMATOR_MODEL_NAME),
        (client.get("/forecast", params={"day": "2018-11-14"}), FORECASTER_MODEL_NAME),
    ):
        assert response.status_code == 503, response.text
        assert f"{name}@champion" in response.json()["detail"] and uri_part in response.json()["detail"]
    assert client.get("/model").json()["models"] == []
    assert "energy_api_ready 0.0" in client.get("/metrics").text


def test_empty_registry_starts_degraded(tmp_path, reading):
    uri = f"sqlite:///{tmp_path / 'empty-mlflow.db'}"
    app = create_app(
        ApiConfig(tracking_uri=uri, clean_readings_dir=tmp_path / "none", poll_seconds=3600, startup_wait_seconds=120)
    )
    with TestClient(app) as client:
        _assert_degraded(client, str(tmp_path / "empty-mlflow.db"), reading)
        assert (
            "no energy-usage-estimator@champion"
            in client.get("/health").json()["models"][ESTIMATOR_MODEL_NAME]["last_error"]
        )


def test_unreachable_registry_starts_degraded(tmp_path, reading, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = create_app(
        ApiConfig(tracking_uri=uri, clean_readings_dir=tmp_path, poll_seconds=3600, startup_wait_seconds=60)
    )
    with TestClient(app) as client:
        _assert_degraded(client, uri, reading)


def test_bad_poll_setting_names_the_key(monkeypatch):
    from api.config import from_environment
    from energy_assets.settings import SettingsError

    monkeypatch.setenv("ENERGY_MODEL_POLL_SECONDS", "soon")
    with pytest.raises(SettingsError, match="ENERGY_MODEL_POLL_SECONDS"):
        from_environment()
