"""/model/monitoring over the pipeline's home: the latest drift report is the one a Dagster run materialized."""

from __future__ import annotations

import pytest

from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME


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
