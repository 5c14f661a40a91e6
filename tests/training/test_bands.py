"""Forecast bands: the conformal machinery on known distributions, then the real forecaster's bands on the holdout."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.settings import FORECASTER_MODEL_NAME
from energy_assets.training import bands, evaluation
from energy_assets.training.bands import QUANTILE_COLUMNS, BandedForecastRegressor, CalibrationError


def _noisy(rng, n):
    X = pd.DataFrame(rng.random((n, 3)), columns=["a", "b", "c"])
    return X, 10 * X["a"].to_numpy() + rng.normal(0, 1 + 3 * X["b"].to_numpy())


def test_conformal_offset_takes_the_finite_sample_rank():
    scores = np.arange(1.0, 20.0)  # n = 19
    assert bands.conformal_offset(scores, 0.9) == 18.0  # ceil(20 * 0.9) = 18th smallest
    assert bands.conformal_offset(scores, 0.1) == 2.0  # floor(20 * 0.1) = 2nd smallest
    assert bands.conformal_offset(scores, 0.975) == 19.0  # rank 20 clipped to the largest
    with pytest.raises(CalibrationError, match="calibration"):
        bands.conformal_offset(np.array([]), 0.5)


def test_calibration_widens_a_model_that_was_fitted_too_narrow():
    rng = np.random.default_rng(0)
    X, y = _noisy(rng, 6000)
    # The last quarter calibrates; its noise is twice what the quantile models saw.
    y[-1500:] = 10 * X["a"].to_numpy()[-1500:] + 2 * (y[-1500:] - 10 * X["a"].to_numpy()[-1500:])
    calibration = np.zeros(len(y), dtype=bool)
    calibration[-1500:] = True
    model = BandedForecastRegressor(
        max_iter=40, quantile_max_iter=40, min_samples_leaf=20, quantile_min_samples_leaf=20
    )
    model.fit(X, y, calibration=calibration)
    assert model.quantile_offsets_[0] < 0 < model.quantile_offsets_[-1]  # p025 moved down, p975 up

    X_new, y_new = _noisy(np.random.default_rng(1), 4000)
    y_new = 10 * X_new["a"].to_numpy() + 2 * (y_new - 10 * X_new["a"].to_numpy())
    quantiles = model.predict_quantiles(X_new)
    assert list(quantiles.columns) == list(QUANTILE_COLUMNS)
    assert (np.diff(quantiles.to_numpy(), axis=1) >= 0).all()
    metrics = bands.band_metrics(y_new, quantiles)
    assert abs(metrics["coverage_80"] - 0.80) < 0.03 and abs(metrics["coverage_95"] - 0.95) < 0.02, metrics
    raw = pd.DataFrame(np.sort(model._raw_quantiles(X_new), axis=1), columns=list(QUANTILE_COLUMNS))
    assert bands.band_metrics(y_new, raw)["coverage_95"] < 0.90  # uncalibrated, it would have been far too narrow


def test_fit_without_calibration_rows_names_the_argument():
    X, y = _noisy(np.random.default_rng(0), 200)
    with pytest.raises(CalibrationError, match=r"^calibration: a boolean mask"):
        BandedForecastRegressor().fit(X, y)
    with pytest.raises(CalibrationError, match=r"^calibration: 0 rows to fit"):
        BandedForecastRegressor().fit(X, y, calibration=np.ones(len(y), dtype=bool))


def test_pinball_loss_of_a_known_case():
    assert bands.pinball_loss([10.0, 0.0], [8.0, 2.0], 0.9) == pytest.approx((0.9 * 2 + 0.1 * 2) / 2)


# --- the pipeline's forecaster --------------------------------------------------------------------


@pytest.fixture(scope="module")
def forecaster_run(pipeline_result, mlflow_client, tmp_path_factory):
    version = pipeline_result.champions[FORECASTER_MODEL_NAME]["version"]
    run_id = mlflow_client.get_model_version(FORECASTER_MODEL_NAME, version).run_id
    run = mlflow_client.get_run(run_id)
    path = mlflow_client.download_artifacts(run_id, "backtest.parquet", str(tmp_path_factory.mktemp("backtest")))
    return run, pd.read_parquet(path)


def test_backtest_has_ordered_quantiles_next_to_the_point_forecast(forecaster_run):
    _, backtest = forecaster_run
    assert {"timestamp", "actual", "predicted", *QUANTILE_COLUMNS} <= set(backtest.columns)
    assert len(backtest) == 92 * 96 and backtest[list(QUANTILE_COLUMNS)].notna().all().all()
    assert (np.diff(backtest[list(QUANTILE_COLUMNS)].to_numpy(), axis=1) >= 0).all()


def test_holdout_band_goals(forecaster_run):
    """95 % band coverage within 3 points of nominal; mean pinball >= 25 % better than seasonal-naive quantiles."""
    run, backtest = forecaster_run
    metrics = bands.band_metrics(backtest["actual"], backtest[list(QUANTILE_COLUMNS)])
    assert abs(metrics["coverage_95"] - 0.95) <= 0.03, metrics
    logged = run.data.metrics
    assert logged["holdout_coverage_80"] == pytest.approx(metrics["coverage_80"])
    assert logged["holdout_coverage_95"] == pytest.approx(metrics["coverage_95"])
    assert logged["holdout_pinball_mean"] == pytest.approx(metrics["pinball_mean"])
    assert logged["pinball_improvement"] >= 0.25, logged
    assert logged["baseline_seasonal_naive_pinball_mean"] > logged["holdout_pinball_mean"]


@pytest.mark.xfail(
    strict=True,
    reason="goal missed and reported in docs/models.md: the holdout covers 74.2 % in the 80 % band "
    "(Oct-Dec run higher than the Aug-Sep calibration tail); strict, so a fix shows here",
)
def test_holdout_80_band_coverage_goal(forecaster_run):
    _, backtest = forecaster_run
    metrics = bands.band_metrics(backtest["actual"], backtest[list(QUANTILE_COLUMNS)])
    assert abs(metrics["coverage_80"] - 0.80) <= 0.03, metrics


@pytest.mark.xfail(
    strict=True,
    reason="goal missed and reported in docs/models.md: the point forecast is unchanged (holdout RMSE 15.85 kWh)",
)
def test_holdout_point_rmse_goal(forecaster_run):
    _, backtest = forecaster_run
    assert evaluation.regression_metrics(backtest["actual"], backtest["predicted"])["rmse"] <= 15.0


def test_registered_forecaster_reproduces_its_backtest_bands(pipeline_result, forecaster_run):
    """What the API loads (mlflow.sklearn.load_model) gives the logged quantiles: bands cannot skew."""
    from energy_assets.ingest import reader
    from energy_assets.ingest.validation import validate
    from tests.conftest import BUNDLED_CSV

    _, backtest = forecaster_run
    version = pipeline_result.champions[FORECASTER_MODEL_NAME]["version"]
    model = mlflow.sklearn.load_model(f"models:/{FORECASTER_MODEL_NAME}/{version}")
    frame, _, _ = reader.read_raw(BUNDLED_CSV)
    readings = validate(frame).clean
    day = pd.Timestamp("2018-11-16")  # a holdout Friday; 42 days of history before it, as the API hands over
    days = schema.interval_day(readings["timestamp"])
    window = readings[((days > day - pd.Timedelta(days=42)) & (days <= day)).to_numpy()].reset_index(drop=True)
    got = bands.predict_quantiles(model, window).tail(96).reset_index(drop=True)
    expected = backtest.set_index(pd.to_datetime(backtest["timestamp"])).reindex(
        pd.to_datetime(window["timestamp"].tail(96))
    )
    assert expected["actual"].notna().all()
    np.testing.assert_allclose(got.to_numpy(), expected[list(QUANTILE_COLUMNS)].to_numpy(), rtol=0, atol=1e-9)
