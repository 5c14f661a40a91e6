"""The drift proof on the champions users get: the session's real pipeline run, shipped default configs.

`pipeline_result` materializes the whole graph once in the session's cold ENERGY_HOME with the
default model configs (what `make pipeline` trains), so these flows run as they would after a
fresh `make run`. Nothing here moves a champion (retraining is switched off), other tests use them.
"""

import mlflow
import pytest

from energy_assets.flows import dagster_runs
from energy_assets.flows.monitor_drift import monitor_drift
from energy_assets.flows.simulate_drift import simulate_drift
from energy_assets.monitoring import evidence, shifts
from energy_assets.monitoring.champions import load_champion
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME, get_settings
from tests.conftest import BUNDLED_CSV
from tests.flows.conftest import latest_artifact

MODELS = {ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME}


@pytest.fixture(scope="module")
def shipped_champions(pipeline_result):
    client = mlflow.MlflowClient(get_settings().mlflow_tracking_uri)
    estimator, forecaster = load_champion(client, ESTIMATOR_MODEL_NAME), load_champion(client, FORECASTER_MODEL_NAME)
    assert estimator is not None and forecaster is not None
    return estimator, forecaster


def test_simulate_drift_proves_detection_on_the_shipped_champions(shipped_champions):
    outcome = simulate_drift()
    evidence_ = outcome.evidence
    assert outcome.month == shifts.CONTROL_MONTH and set(evidence_) == set(shifts.SCENARIOS)
    assert all(e["as_expected"] for e in evidence_.values()), evidence_
    assert evidence_["unshifted"]["detected"] is False
    for scenario in ("co2_plus_50pct", "load_type_shift", "injected_outliers", "usage_level_shift"):
        assert evidence_[scenario]["detected"] is True, evidence_[scenario]
    # the usage level is caught by the models' error, not (only) by the target's distribution
    assert evidence_["usage_level_shift"]["detected_by_models"], evidence_["usage_level_shift"]
    assert any("above its limit" in r for r in evidence_["usage_level_shift"]["reasons"])

    # the thresholds are in the Dagster asset and in the Prefect artifact
    limits = outcome.thresholds["rmse_limits"]
    assert set(limits) == MODELS and outcome.thresholds["rmse_quantile"] == 0.99
    run = dagster_runs.outcome(outcome.run_id)
    assert run.metadata_of("drift_simulation")["thresholds"] == outcome.thresholds
    artifact = latest_artifact("drift-simulation")
    assert outcome.run_id in artifact and "`rmse_quantile` = 0.99" in artifact
    assert (
        f"{limits[ESTIMATOR_MODEL_NAME]['limit']:.3f}" in artifact
        and f"{limits[FORECASTER_MODEL_NAME]['limit']:.3f}" in artifact
    )


def test_no_unshifted_holdout_month_is_a_performance_alarm(shipped_champions):
    estimator, forecaster = shipped_champions
    months = evidence.month_by_month(evidence.clean_readings(BUNDLED_CSV), estimator, forecaster)
    assert [m.month for m in months] == [f"2018-{n:02d}" for n in range(1, 13)]
    holdout = [m for m in months if m.holdout]
    assert [m.month for m in holdout] == ["2018-10", "2018-11", "2018-12"]
    assert all({e.model for e in m.report.errors} == MODELS for m in holdout)
    assert [m.month for m in holdout if m.performance_flagged] == []
    # the reported false-alarm rate (docs/flows.md): no month, now that validation rejects 2 January's
    # readings whose usage contradicts their CO2 (they carried the only flag, on January, before)
    assert [m.month for m in months if m.performance_flagged] == []
    assert evidence.false_alarm_rate(months) == 0
    # judged out of sample too (each holdout month's own days left out of the error reference): every
    # holdout month is judged for both models; the outcome is reported in docs/flows.md, not asserted
    assert all({e.model for e in m.out_of_sample} == MODELS for m in holdout)
    control = next(m for m in months if m.month == shifts.CONTROL_MONTH)
    assert control.holdout and not control.report.drifted, control.report.reasons


def test_monitor_drift_on_the_shipped_champions_flags_features_not_noise(shipped_champions):
    calm = monitor_drift(month=shifts.CONTROL_MONTH, retrain_on_drift=False)
    assert calm.drifted is False and calm.retrain is None, calm.reasons
    assert {e["model"] for e in calm.summary["errors"]} == MODELS
    assert set(calm.summary["thresholds"]["rmse_limits"]) == MODELS
    assert f"{calm.summary['errors'][0]['limit']:.3f}" in latest_artifact("drift-report")
    # December's reactive power moved far from the training months; the models' error did not
    december = monitor_drift(month="2018-12", retrain_on_drift=False)
    assert december.drifted and december.retrain is None
    assert not any(e["drifted"] for e in december.summary["errors"]), december.summary["errors"]
    assert any("reactive_power" in r for r in december.reasons)
