"""The forecaster's recorded parameters replay to the same ForecasterParams (verify_reproducibility's path)."""

from __future__ import annotations

from dataclasses import asdict, fields, replace

import pytest

from energy_assets.defs.assets.model_assets import ForecasterConfig
from energy_assets.flows.verify_reproducibility import REPLAYED_PARAMS, _param
from energy_assets.training.models import ForecasterParams


def test_the_config_and_the_replay_cover_every_forecaster_parameter():
    names = {f.name for f in fields(ForecasterParams)}
    assert set(ForecasterConfig.model_fields) == names
    assert set(REPLAYED_PARAMS["day_ahead_forecaster"]) == names
    assert ForecasterConfig().params() == ForecasterParams()


@pytest.mark.parametrize(
    "params",
    [
        ForecasterParams(),
        replace(
            ForecasterParams(),
            max_depth=None,
            max_leaf_nodes=15,
            loss="squared_error",
            early_stopping="off",
            features=("slot", "usage_1d_ago", "same_slot_mean_7d"),
            calibration_months=3,
            band_scale_kwh=None,
            band_groups=("load_type_code", "is_planned_off_day"),
            seed=7,
        ),
    ],
)
def test_logged_parameters_replay_to_the_same_forecaster(params):
    # mlflow.log_params records str(value) of each field of asdict(params), as the asset logs them.
    logged = {name: str(value) for name, value in asdict(params).items()}
    replayed = {name: _param(logged[name]) for name in REPLAYED_PARAMS["day_ahead_forecaster"]}
    assert ForecasterConfig(**replayed).params() == params
