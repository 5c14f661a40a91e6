"""/model, /model/monitoring and /admin/reload (api/routers/models.py): lineage and gate decisions read from
the registry, and the reload's token."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from api import deps
from energy_assets import lineage
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME

from ..conftest import API_TOKEN
from .conftest import champion as _champion


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


def test_admin_reload_is_disabled_without_a_configured_token(client, api_config, override):
    override(deps.Config, dataclasses.replace(api_config, api_token=None))
    response = client.post("/admin/reload", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403 and "ENERGY_API_TOKEN" in response.json()["detail"]


def test_without_a_drift_report_the_answer_says_so_and_still_gives_the_gates(client, api_config, override, tmp_path):
    override(deps.Config, dataclasses.replace(api_config, clean_readings_dir=tmp_path / "assets" / "clean_readings"))
    response = client.get("/model/monitoring")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["drift_report"] is None and body["drift_months"] == []
    assert (
        body["message"].startswith("No drift report yet")
        and str(tmp_path / "assets" / "drift_report") in body["message"]
    )
    assert {g["name"] for g in body["gates"]} == {ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME}


def test_gate_decisions_are_the_registry_s_tags(client, mlflow_client):
    body = client.get("/model/monitoring").json()
    for gates in body["gates"]:
        name = gates["name"]
        assert gates["error"] is None
        champion = mlflow_client.get_model_version_by_alias(name, "champion")
        assert gates["champion_version"] == str(champion.version)
        registered = mlflow_client.search_model_versions(f"name = '{name}'")
        assert [v["version"] for v in gates["versions"]] == sorted(
            (str(v.version) for v in registered), key=int, reverse=True
        )
        shown = next(v for v in gates["versions"] if v["champion"])
        assert shown["decision"] == champion.tags[lineage.TAG_GATE_DECISION] == "promoted"
        assert shown["holdout_rmse"] == pytest.approx(float(champion.tags[lineage.TAG_HOLDOUT_RMSE]))
        assert shown["reference"] == champion.tags[lineage.TAG_GATE_REFERENCE]
        assert shown["holdout_rmse"] < shown["reference_rmse"]  # promoted: it beat what it was compared with
