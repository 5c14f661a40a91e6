"""Hot swap on a copy of the session's registry: a new estimator version replaces the champion under load.

The copy keeps the session's own champion alias untouched for the other tests.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from energy_assets import lineage, schema
from energy_assets.settings import CHAMPION_ALIAS, ESTIMATOR_MODEL_NAME, get_settings

from ..conftest import API_TOKEN, live_server


@dataclass
class SwapRegistry:
    uri: str
    client: mlflow.MlflowClient
    old_version: str
    new_version: str
    broken_version: str
    old_model: object
    new_model: object
    clean_dir: Path


def _log_version(uri: str, experiment_id: str, model, example: pd.DataFrame, tags: dict[str, str]) -> str:
    from energy_assets.defs.assets.model_assets import SKOPS_TRUSTED_TYPES

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                input_example=example,
                registered_model_name=ESTIMATOR_MODEL_NAME,
                skops_trusted_types=SKOPS_TRUSTED_TYPES,
                pip_requirements=[],
            )
    finally:
        mlflow.set_tracking_uri(previous)
    version = str(info.registered_model_version)
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    for key, value in tags.items():
        client.set_model_version_tag(ESTIMATOR_MODEL_NAME, version, key, value)
    return version


@pytest.fixture(scope="module")
def swap_registry(tmp_path_factory, pipeline_result) -> SwapRegistry:
    from energy_assets.training.models import EstimatorParams, build_usage_estimator, estimator_input

    current = get_settings()
    home = tmp_path_factory.mktemp("swap-registry")
    shutil.copy(current.home / "mlflow.db", home / "mlflow.db")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    champion = client.get_model_version_by_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS)
    old_model = mlflow.sklearn.load_model(
        mlflow.artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(ESTIMATOR_MODEL_NAME, str(champion.version)),
            tracking_uri=uri,
        )
    )
    # A genuinely different estimator: fewer iterations, another seed, trained on the real months.
    train = pd.read_parquet(current.asset_dir / "train_readings.parquet")
    new_model = build_usage_estimator(EstimatorParams(max_iter=40, learning_rate=0.2, seed=7)).fit(
        estimator_input(train), train[schema.TARGET]
    )
    experiment_id = client.create_experiment("api-hot-swap", artifact_location=(home / "artifacts").as_uri())
    example = estimator_input(train.head(5))
    tags = {
        k: v
        for k, v in champion.tags.items()
        if k in (lineage.TAG_DATA_VERSION, lineage.TAG_GIT_COMMIT, lineage.TAG_CODE_VERSION)
    }
    new_version = _log_version(uri, experiment_id, new_model, example, tags)
    broken_version = _log_version(uri, experiment_id, new_model, example, tags)
    # Break the last one's artifact: the API must refuse it and keep serving.
    broken_source = client.get_model_version_download_uri(ESTIMATOR_MODEL_NAME, broken_version)
    broken_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=broken_source, tracking_uri=uri))
    (broken_dir / "model.skops").write_bytes(b"not a model")
    return SwapRegistry(
        uri,
        client,
        str(champion.version),
        new_version,
        broken_version,
        old_model,
        new_model,
        current.asset_dir / "clean_readings",
    )


@dataclass
class Worker:
    results: list[tuple[int, str, str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def test_alias_move_under_load_swaps_once_without_failures(swap_registry, reading):
    reg = swap_registry
    reg.client.set_registered_model_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS, reg.old_version)
    frame = pd.DataFrame([reading]).astype({schema.TIMESTAMP: "datetime64[ns]"})
    expected = {
        reg.old_version: float(reg.old_model.predict(frame)[0]),
        reg.new_version: float(reg.new_model.predict(frame)[0]),
    }
    assert abs(expected[reg.old_version] - expected[reg.new_version]) > 1e-6, "the two versions must be told apart"

    app = create_app(
        ApiConfig(tracking_uri=reg.uri, clean_readings_dir=reg.clean_dir, poll_seconds=0.2, startup_wait_seconds=120)
    )
    stop = threading.Event()
    workers = [Worker() for _ in range(4)]

    def hammer(worker: Worker, base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = http.post("/predict", json=reading)
                    body = response.json()
                    worker.results.append(
                        (
                            response.status_code,
                            response.headers.get("X-Model-Version", ""),
                            body["lineage"]["model_version"],
                            body["usage_kwh"],
                        )
                    )
                except Exception as error:  # a failed request is what this test looks for
                    worker.errors.append(repr(error))

    with live_server(app) as base_url:
        threads = [threading.Thread(target=hammer, args=(w, base_url), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 60
            while min(len(w.results) for w in workers) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            reg.client.set_registered_model_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS, reg.new_version)
            # Keep the load on until every worker has seen the new version for a while.
            while time.monotonic() < deadline:
                seen = [sum(1 for r in w.results if r[2] == reg.new_version) for w in workers]
                if min(seen) >= 20:
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

    assert not any(w.errors for w in workers), [w.errors[:3] for w in workers]
    for worker in workers:
        assert all(status == 200 for status, *_ in worker.results)
        versions = [body_version for _, _, body_version, _ in worker.results]
        assert all(header == body for _, header, body, _ in worker.results)  # lineage never mixed
        assert set(versions) == {reg.old_version, reg.new_version}
        switch = versions.index(reg.new_version)
        assert versions[:switch] == [reg.old_version] * switch and versions[switch:] == [reg.new_version] * (
            len(versions) - switch
        )
        # Each answer was computed by the version it names.
        for _, _, version, value in worker.results:
            assert value == pytest.approx(expected[version], abs=1e-9)


def test_broken_version_keeps_the_old_one_serving_and_reload_recovers(swap_registry, reading):
    reg = swap_registry
    reg.client.set_registered_model_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS, reg.old_version)
    app = create_app(
        ApiConfig(
            tracking_uri=reg.uri,
            clean_readings_dir=reg.clean_dir,
            poll_seconds=3600,
            api_token=API_TOKEN,
            startup_wait_seconds=120,
        )
    )
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    with TestClient(app) as client:
        assert client.post("/predict", json=reading).json()["lineage"]["model_version"] == reg.old_version

        reg.client.set_registered_model_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS, reg.broken_version)
        outcome = client.post("/admin/reload", headers=auth).json()["models"][ESTIMATOR_MODEL_NAME]
        assert outcome["changed"] is False and f"version {reg.broken_version}" in outcome["error"]
        health = client.get("/health").json()
        assert health["status"] == "degraded"
        assert health["models"][ESTIMATOR_MODEL_NAME] == {
            **health["models"][ESTIMATOR_MODEL_NAME],
            "loaded": True,
            "version": reg.old_version,
        }
        assert f"version {reg.broken_version}" in health["models"][ESTIMATOR_MODEL_NAME]["last_error"]
        still = client.post("/predict", json=reading)
        assert still.status_code == 200 and still.json()["lineage"]["model_version"] == reg.old_version
        assert (
            f'energy_api_model_load_failures_total{{model="{ESTIMATOR_MODEL_NAME}"}} 1.0' in client.get("/metrics").text
        )

        reg.client.set_registered_model_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS, reg.new_version)
        outcome = client.post("/admin/reload", headers=auth).json()["models"][ESTIMATOR_MODEL_NAME]
        assert outcome == {
            "previous_version": reg.old_version,
            "version": reg.new_version,
            "changed": True,
            "error": None,
        }
        assert client.get("/health").json()["status"] == "ok"
        assert client.post("/predict", json=reading).headers["X-Model-Version"] == reg.new_version
        served = {m["name"]: m for m in client.get("/model").json()["models"]}[ESTIMATOR_MODEL_NAME]
        assert served["version"] == reg.new_version
        assert (
            served["data_version"]
            == reg.client.get_model_version(ESTIMATOR_MODEL_NAME, reg.new_version).tags[lineage.TAG_DATA_VERSION]
        )
