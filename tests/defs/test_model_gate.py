"""The champion gate checks and the champion assets, on a real MLflow registry in tmp_path."""

from __future__ import annotations

import dagster as dg
import pytest

from energy_assets import lineage
from energy_assets.defs.asset_checks import (
    check_day_ahead_forecaster_beats_champion,
    check_usage_estimator_beats_champion,
)
from energy_assets.defs.assets.model_assets import usage_estimator_champion
from energy_assets.settings import CHAMPION_ALIAS, ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME
from tests.conftest import process_tracking_uri
from tests.defs.conftest import register


def _candidate(version: str, baseline_rmse: float, holdout_rmse: float = 0.0) -> dict:
    return {"version": version, "baseline_rmse": baseline_rmse, "holdout_rmse": holdout_rmse, "run_id": "r"}


def test_a_first_version_must_beat_the_seasonal_naive_baseline(registry):
    version = register(registry, ESTIMATOR_MODEL_NAME, holdout_rmse=2.5)
    passed = check_usage_estimator_beats_champion(usage_estimator=_candidate(version, 3.0), model_registry=registry)
    assert passed.passed and passed.severity == dg.AssetCheckSeverity.ERROR
    assert passed.metadata["decision"].value == "promoted"
    assert passed.metadata["reference"].value == "seasonal_naive"

    worse = register(registry, ESTIMATOR_MODEL_NAME, holdout_rmse=3.5)
    failed = check_usage_estimator_beats_champion(usage_estimator=_candidate(worse, 3.0), model_registry=registry)
    assert not failed.passed and "does not beat seasonal_naive" in (failed.description or "")
    # the decision is recorded on the candidate's version, in the registry the resource names
    tags = registry.client().get_model_version(ESTIMATOR_MODEL_NAME, worse).tags
    assert tags[lineage.TAG_GATE_DECISION] == "kept" and tags[lineage.TAG_GATE_REFERENCE] == "seasonal_naive"


def test_a_candidate_is_judged_against_the_champion_once_there_is_one(registry):
    first = register(registry, FORECASTER_MODEL_NAME, holdout_rmse=2.0)
    registry.client().set_registered_model_alias(FORECASTER_MODEL_NAME, CHAMPION_ALIAS, first)
    # better than the baseline, worse than the champion: kept
    second = register(registry, FORECASTER_MODEL_NAME, holdout_rmse=2.2)
    kept = check_day_ahead_forecaster_beats_champion(
        day_ahead_forecaster=_candidate(second, 9.0), model_registry=registry
    )
    assert not kept.passed and kept.metadata["reference"].value == f"champion v{first}"
    assert kept.metadata["reference_rmse"].value == pytest.approx(2.0)
    third = register(registry, FORECASTER_MODEL_NAME, holdout_rmse=1.9)
    promoted = check_day_ahead_forecaster_beats_champion(
        day_ahead_forecaster=_candidate(third, 9.0), model_registry=registry
    )
    assert promoted.passed and promoted.metadata["candidate_rmse"].value == pytest.approx(1.9)


def test_the_gate_reads_the_registry_it_is_given_not_the_process_wide_one(registry, tmp_path):
    version = register(registry, ESTIMATOR_MODEL_NAME, holdout_rmse=1.0)
    with process_tracking_uri(f"sqlite:///{tmp_path / 'elsewhere.db'}"):  # an empty store: the model is not there
        result = check_usage_estimator_beats_champion(usage_estimator=_candidate(version, 2.0), model_registry=registry)
    assert result.passed


def test_the_champion_asset_moves_the_alias_in_its_registry(registry):
    first = register(registry, ESTIMATOR_MODEL_NAME, holdout_rmse=2.0)
    second = register(registry, ESTIMATOR_MODEL_NAME, holdout_rmse=1.5)
    for version in (first, second):
        result = usage_estimator_champion(candidate=_candidate(version, 3.0, 1.5), model_registry=registry)
        assert (
            str(registry.client().get_model_version_by_alias(ESTIMATOR_MODEL_NAME, CHAMPION_ALIAS).version) == version
        )
    assert result.metadata["champion"] == f"models:/{ESTIMATOR_MODEL_NAME}@champion"
    assert result.metadata["version"] == second
