"""retrain: a better estimator is promoted, a worse forecaster keeps its champion; both scores reported."""

import mlflow

from energy_assets.flows import dagster_runs
from energy_assets.flows.retrain import retrain
from energy_assets.gating.champion import champion_version
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME
from tests.conftest import isolated_home
from tests.flows.conftest import GOOD_ESTIMATOR, latest_artifact


def test_retrain_promotes_the_better_estimator_and_keeps_the_better_forecaster(model_home):
    with isolated_home(model_home) as current:
        client = mlflow.MlflowClient(current.mlflow_tracking_uri)
        estimator_before = champion_version(client, ESTIMATOR_MODEL_NAME)
        forecaster_before = champion_version(client, FORECASTER_MODEL_NAME)

        # a genuinely better estimator (the default recipe against the 30-iteration champion) and
        # a worse forecaster (far fewer iterations than the champion's)
        outcome = retrain(estimator=GOOD_ESTIMATOR, forecaster={"max_iter": 15, "learning_rate": 0.05})

        estimator, forecaster = outcome.decisions["usage_estimator"], outcome.decisions["day_ahead_forecaster"]
        assert estimator.decision == "promoted" and estimator.candidate_rmse < estimator.reference_rmse
        assert estimator.reference == f"champion v{estimator_before.version}"
        assert str(champion_version(client, ESTIMATOR_MODEL_NAME).version) == estimator.candidate_version
        assert forecaster.decision == "kept" and forecaster.candidate_rmse >= forecaster.reference_rmse
        assert champion_version(client, FORECASTER_MODEL_NAME).version == forecaster_before.version

        # the Dagster run is real, in the home's instance, and failed only on the forecaster's gate
        run = dagster_runs.outcome(outcome.run_id)
        assert run.only_gates_failed and [c.name for c in run.failed_checks] == [
            "check_day_ahead_forecaster_beats_champion"
        ]
        artifact = latest_artifact("retrain-decision")
        assert outcome.run_id in artifact and f"/runs/{outcome.run_id}" in artifact
        assert "**promoted**" in artifact and "**kept**" in artifact and f"{estimator.reference_rmse:.4f}" in artifact
