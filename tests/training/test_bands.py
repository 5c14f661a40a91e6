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
    return X, 20 + 10 * X["a"].to_numpy() + rng.normal(0, 1 + 3 * X["b"].to_numpy())  # usage-like: never near 0


def test_conformal_offset_takes_the_finite_sample_rank():
    scores = np.arange(1.0, 20.0)  # n = 19
    assert bands.conformal_offset(scores, 0.9) == 18.0  # ceil(20 * 0.9) = 18th smallest
    assert bands.conformal_offset(scores, 0.1) == 2.0  # floor(20 * 0.1) = 2nd smallest
    assert bands.conformal_offset(scores, 0.975) == 19.0  # rank 20 clipped to the largest
    with pytest.raises(CalibrationError, match="calibration"):
        bands.conformal_offset(np.array([]), 0.5)


def _folds(n: int, per_fold: int, count: int) -> np.ndarray:
    """Calibration folds 1..count over the last count * per_fold rows, 0 before them."""
    folds = np.zeros(n, dtype=int)
    for k in range(count):
        folds[n - (count - k) * per_fold : n - (count - k - 1) * per_fold] = k + 1
    return folds


def test_rolling_residuals_calibrate_the_bands_to_nominal_coverage():
    rng = np.random.default_rng(0)
    X, y = _noisy(rng, 6000)
    model = BandedForecastRegressor(max_iter=40, min_samples_leaf=20, band_scale_kwh=None)
    model.fit(X, y, calibration=_folds(len(y), 1000, 2))
    assert model.calibration_rows_ == 2000
    assert model.pooled_offsets_[0] < 0 < model.pooled_offsets_[-1]  # p025 below the point, p975 above

    X_new, y_new = _noisy(np.random.default_rng(1), 4000)
    point, quantiles = model.predict_with_quantiles(X_new)
    np.testing.assert_array_equal(point, model.predict(X_new))
    assert list(quantiles.columns) == list(QUANTILE_COLUMNS)
    metrics = bands.band_metrics(y_new, quantiles)
    assert abs(metrics["coverage_80"] - 0.80) < 0.03 and abs(metrics["coverage_95"] - 0.95) < 0.02, metrics
    # In-sample residuals of the final model would have been too small: the folds' out-of-sample ones are not.
    in_sample = y - model.predict(X)
    assert np.quantile(in_sample, 0.975) < model.pooled_offsets_[-1]


def test_groups_and_scale_follow_the_noise_of_each_kind_of_row():
    """Two kinds of rows, one four times noisier: calibrated per group, each kind is covered as promised."""
    rng = np.random.default_rng(2)

    def rows(n):
        X = pd.DataFrame({"a": rng.random(n), "kind": rng.integers(0, 2, n).astype(float)})
        return X, 20 + 10 * X["a"].to_numpy() + rng.normal(0, 1 + 3 * X["kind"].to_numpy())

    X, y = rows(8000)
    model = BandedForecastRegressor(
        max_iter=40, min_samples_leaf=20, band_scale_kwh=5.0, band_groups=("kind",), min_group_rows=200
    )
    model.fit(X, y, calibration=_folds(len(y), 1500, 2))
    assert len(model.group_keys_) == 2
    X_new, y_new = rows(6000)
    quantiles = model.predict_quantiles(X_new)
    for kind in (0.0, 1.0):
        own = (X_new["kind"] == kind).to_numpy()
        metrics = bands.band_metrics(y_new[own], quantiles[own])
        assert abs(metrics["coverage_80"] - 0.80) < 0.04 and abs(metrics["coverage_95"] - 0.95) < 0.03, (kind, metrics)
    pooled = BandedForecastRegressor(max_iter=40, min_samples_leaf=20, band_scale_kwh=5.0).fit(
        X, y, calibration=_folds(len(y), 1500, 2)
    )
    noisy = (X_new["kind"] == 1.0).to_numpy()
    assert (
        bands.band_metrics(y_new[noisy], pooled.predict_quantiles(X_new)[noisy])["coverage_80"] < 0.75
    )  # pooled under-covers it


def test_quantiles_never_cross_stay_non_negative_and_hold_the_point_in_the_80_band():
    point = np.array([10.0, 0.5, 30.0])
    offsets = np.tile([1.0, 2.0, 3.0, 4.0, 5.0], (3, 1))  # every quantile above the point: the band must still hold it
    values = bands.banded(point, np.ones(3), offsets)
    assert (np.diff(values, axis=1) >= 0).all()
    np.testing.assert_array_equal(values[:, 1], point)  # p10 lowered to the point
    np.testing.assert_array_equal(values[:, 0], point)  # and p025 with it, so they never cross
    values = bands.banded(point, np.ones(3), np.tile([-5.0, -1.0, 0.0, 1.0, 5.0], (3, 1)))
    assert values[1, 0] == 0.0 and values[1, 1] == 0.0  # clipped at 0 kWh
    assert ((values[:, 1] <= point) & (point <= values[:, 3])).all()


def test_fit_without_calibration_rows_names_the_argument():
    X, y = _noisy(np.random.default_rng(0), 200)
    with pytest.raises(CalibrationError, match=r"^calibration: the calibration fold of every row"):
        BandedForecastRegressor().fit(X, y)
    with pytest.raises(CalibrationError, match=r"^calibration: fold 1 has 200 rows to calibrate on and 0 before it"):
        BandedForecastRegressor().fit(X, y, calibration=np.ones(len(y), dtype=int))
    with pytest.raises(CalibrationError, match=r"^calibration: no calibration fold"):
        BandedForecastRegressor().fit(X, y, calibration=np.zeros(len(y), dtype=int))
    with pytest.raises(CalibrationError, match=r"^band_groups: \['nope'\] are not feature columns"):
        BandedForecastRegressor(max_iter=5, min_samples_leaf=5, band_groups=("nope",)).fit(
            X, y, calibration=_folds(len(y), 50, 1)
        )


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
    # The bands are built around the point forecast: the 80 % band holds it on every interval.
    assert ((backtest["p10"] <= backtest["predicted"]) & (backtest["predicted"] <= backtest["p90"])).all()
    assert (backtest["p025"] >= 0).all()


def test_holdout_band_goals(forecaster_run):
    """80 % and 95 % band coverage within 3 points of nominal.

    And mean pinball at least 25 % better than seasonal-naive quantiles.
    """
    run, backtest = forecaster_run
    metrics = bands.band_metrics(backtest["actual"], backtest[list(QUANTILE_COLUMNS)])
    assert abs(metrics["coverage_80"] - 0.80) <= 0.03, metrics
    assert abs(metrics["coverage_95"] - 0.95) <= 0.03, metrics
    logged = run.data.metrics
    assert logged["holdout_coverage_80"] == pytest.approx(metrics["coverage_80"])
    assert logged["holdout_coverage_95"] == pytest.approx(metrics["coverage_95"])
    assert logged["holdout_pinball_mean"] == pytest.approx(metrics["pinball_mean"])
    assert logged["pinball_improvement"] >= 0.25, logged
    assert logged["baseline_seasonal_naive_pinball_mean"] > logged["holdout_pinball_mean"]


@pytest.mark.xfail(
    strict=True,
    reason="goal missed and reported in docs/models.md: the configuration chosen by rolling-origin validation "
    "(Poisson loss) scores a holdout RMSE of 15.71 kWh, and the third round's choice (no early stopping, "
    "yesterday's peak) 15.78 kWh, so it was not adopted; strict, so a fix shows here",
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
