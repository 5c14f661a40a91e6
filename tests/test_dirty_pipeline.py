"""A seeded dirty export through `make pipeline`: both champions registered, nothing corrupted kept as clean.

The goals of real plant exports, asserted (not timed): the pipeline exits 0 with both champions, 0
corrupted values kept as clean, >= 99 % of the rows whose only fault is formatting end clean, every
input row accounted for, and the forecaster trained on the dirty export within 5 % of the
clean-data forecaster's RMSE on the genuine holdout intervals.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME, get_settings
from energy_assets.training.evaluation import HOLDOUT_START

from .conftest import isolated_home
from .dirty_export import generate, score

pytestmark = pytest.mark.slow


def _holdout_rmse(model_uri: str, genuine: pd.DataFrame) -> float:
    """RMSE on the genuine holdout intervals, featurized from the genuine history before each day."""
    model = mlflow.pyfunc.load_model(model_uri)
    predicted = np.asarray(model.predict(genuine[list(schema.COLUMNS)])).ravel()
    holdout = (schema.interval_day(genuine[schema.TIMESTAMP]) >= HOLDOUT_START).to_numpy()
    error = predicted[holdout] - genuine[schema.TARGET].to_numpy()[holdout]
    return float(np.sqrt(np.mean(error**2)))


def test_a_dirty_export_trains_gated_champions_and_keeps_nothing_corrupted(tmp_path, pipeline_result):
    genuine = pd.concat(
        [pd.read_parquet(p) for p in sorted((get_settings().asset_dir / "clean_readings").glob("*.parquet"))],
        ignore_index=True,
    )
    clean_uri = f"models:/{FORECASTER_MODEL_NAME}@champion"
    clean_rmse = _holdout_rmse(clean_uri, genuine)

    export = generate(tmp_path / "export", seed=7)
    with isolated_home(tmp_path / "home") as current:
        from energy_assets.pipeline import run_pipeline

        run = run_pipeline(export.path, run_config={"ops": {"usage_estimator": {"config": {"cv_folds": 0}}}})
        assert run.ok and run.success, run.failed_checks
        assert set(run.champions) == {ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME}
        assert not run.checks["check_gaps"] and run.checks["check_continuity"]  # gaps listed, not fatal
        assets = current.asset_dir
        clean = pd.concat(
            [pd.read_parquet(p) for p in sorted((assets / "clean_readings").glob("*.parquet"))], ignore_index=True
        )
        rejected = pd.read_parquet(assets / "rejected_readings.parquet")
        goals = score(export, clean, rejected, run.counts, genuine)
        dirty_rmse = _holdout_rmse(clean_uri, genuine)
        result = {**goals, "clean_rmse": clean_rmse, "dirty_rmse": dirty_rmse}
    assert result["counts_add_up"], result
    assert result["corrupted_kept_as_clean"] == 0, result
    assert result["formatting_only_clean_share"] >= 0.99, result
    assert result["dirty_rmse"] <= 1.05 * result["clean_rmse"], result
