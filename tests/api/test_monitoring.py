"""GET /model/monitoring: the latest drift report as the drift_report asset stored it, and the gate's decisions
as the registry records them."""

from __future__ import annotations

import dataclasses

import pytest

from energy_assets import lineage
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME


def test_without_a_drift_report_the_answer_says_so_and_still_gives_the_gates(api_config, mlflow_client, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    empty = dataclasses.replace(api_config, clean_readings_dir=tmp_path / "assets" / "clean_readings")
    with TestClient(create_app(empty)) as client:
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


def test_the_latest_drift_report_is_the_one_dagster_materialized(client, pipeline_result):
    import dagster as dg

    from energy_assets.definitions import defs

    instance = dg.DagsterInstance.get()
    result = defs.resolve_job_def("monitor_drift").execute_in_process(instance=instance, partition_key="2018-12")
    assert result.success
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("drift_report")]
    metadata = event.materialization.metadata
    response = client.get("/model/monitoring")
    assert response.status_code == 200, response.text
    body = response.json()
    report = body["drift_report"]
    assert report["month"] == "2018-12" and "2018-12" in body["drift_months"]
    assert report["run_id"] == result.run_id
    assert report["drifted"] is metadata["drifted"].value
    assert report["reasons"] == metadata["reasons"].value
    summary = metadata["summary"].value
    assert [c["column"] for c in report["columns"]] == [c["column"] for c in summary["columns"]]
    assert [c["psi"] for c in report["columns"]] == pytest.approx([c["psi"] for c in summary["columns"]])
    assert {e["model"] for e in report["errors"]} == {ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME}
    assert body["message"].startswith("2018-12 against ")
