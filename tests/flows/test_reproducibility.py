"""verify_reproducibility: the champions rebuild within ±0.001; a changed seed fails loudly."""

import mlflow
import pytest

from energy_assets.flows.verify_reproducibility import NotReproducible, verify_reproducibility
from energy_assets.gating.champion import champion_version
from energy_assets.settings import ESTIMATOR_MODEL_NAME
from tests.conftest import isolated_home


def test_champions_reproduce_and_a_changed_seed_does_not(model_home):
    with isolated_home(model_home) as current:
        client = mlflow.MlflowClient(current.mlflow_tracking_uri)
        champion = champion_version(client, ESTIMATOR_MODEL_NAME).version
        outcome = verify_reproducibility()
        assert outcome.reproduced and outcome.comparisons
        assert {c.metric for c in outcome.comparisons} >= {"holdout_rmse", "holdout_mae", "holdout_r2"}
        assert all(c.within for c in outcome.comparisons)

        with pytest.raises(NotReproducible, match="holdout_rmse"):
            verify_reproducibility(seed=1234)
        # a reproduction never moves the champion
        assert champion_version(client, ESTIMATOR_MODEL_NAME).version == champion
