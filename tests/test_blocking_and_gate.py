"""A failed blocking check stops everything downstream; the champion gate keeps a better champion."""

import dagster as dg
import mlflow
import pytest

from energy_assets import lineage
from energy_assets.defs.assets.data_assets import raw_readings
from energy_assets.defs.resources import RawSource
from energy_assets.pipeline import run_pipeline
from energy_assets.settings import ESTIMATOR_MODEL_NAME, EXPERIMENT_NAME, FORECASTER_MODEL_NAME

from .conftest import BUNDLED_CSV, isolated_home

DOWNSTREAM = (
    "features",
    "train_readings",
    "holdout_readings",
    "usage_estimator",
    "day_ahead_forecaster",
    "usage_estimator_champion",
    "day_ahead_forecaster_champion",
)


def test_a_gap_past_the_limit_fails_continuity_and_blocks_every_model(tmp_path):
    lines = BUNDLED_CSV.read_bytes().split(b"\r\n")
    corrupted = tmp_path / "export_with_gap.csv"
    corrupted.write_bytes(b"\r\n".join(lines[:5000] + lines[5100:]))  # 25 hours of February missing
    with isolated_home(tmp_path / "home") as current:
        result = run_pipeline(corrupted)
        instance = dg.DagsterInstance.get()
        assert not result.success and not result.ok
        assert set(result.failed_checks) == {"check_continuity"}
        assert "(100 intervals missing), 1 days 01:00:00 > 1 days 00:00:00" in result.failed_checks["check_continuity"]
        assert result.checks["check_gaps"] is False  # the warning lists it (and the genuine gaps of 2018-01-02)
        assert instance.get_latest_materialization_event(dg.AssetKey("clean_readings")) is not None
        for asset in DOWNSTREAM:
            assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is None, asset
        client = mlflow.MlflowClient(current.mlflow_tracking_uri)
        assert client.search_registered_models() == []
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
        if experiment is not None:
            assert all(r.info.status != "RUNNING" for r in client.search_runs([experiment.experiment_id]))


def test_a_worse_candidate_is_registered_but_the_champion_is_kept(pipeline_result, mlflow_client):
    before = {
        name: mlflow_client.get_model_version_by_alias(name, "champion")
        for name in (ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME)
    }
    worse = {
        "ops": {
            "usage_estimator": {"config": {"max_iter": 3, "cv_folds": 0}},
            "day_ahead_forecaster": {"config": {"max_iter": 3}},
        }
    }
    result = run_pipeline(BUNDLED_CSV, job_name="retrain_models", run_config=worse)
    assert not result.success and result.only_gates_failed and result.ok
    assert result.running_mlflow_runs == []
    for name, champion in before.items():
        assert mlflow_client.get_model_version_by_alias(name, "champion").version == champion.version
        (candidate,) = [
            v
            for v in mlflow_client.search_model_versions(f"name = '{name}'")
            if v.tags.get(lineage.TAG_DAGSTER_RUN) == result.run_id
        ]
        assert candidate.tags[lineage.TAG_GATE_DECISION] == "kept"
        assert candidate.tags[lineage.TAG_GATE_REFERENCE] == f"champion v{champion.version}"
        assert float(candidate.tags[lineage.TAG_GATE_REFERENCE_RMSE]) == pytest.approx(
            float(champion.tags[lineage.TAG_HOLDOUT_RMSE]), abs=1e-6
        )
        assert float(candidate.tags[lineage.TAG_HOLDOUT_RMSE]) > float(champion.tags[lineage.TAG_HOLDOUT_RMSE])


def test_a_missing_raw_file_fails_the_run_naming_path_and_config_key(tmp_path):
    missing = tmp_path / "no-such-export.csv"
    outcome = dg.materialize(
        [raw_readings],
        run_config={"ops": {"raw_readings": {"config": {"path": str(missing)}}}},
        resources={"raw_source": RawSource()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not outcome.success
    (failure,) = [e for e in outcome.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert str(missing) in message and "ops.raw_readings.config.path" in message and "ENERGY_RAW_CSV" in message
