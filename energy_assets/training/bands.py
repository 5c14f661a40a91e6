"""Calibrated forecast bands: conformalized quantile regression that travels inside the registered forecaster.

`BandedForecastRegressor` is the forecaster pipeline's last step. `predict` returns the point
forecast (a squared-error boosted model, as before); `predict_quantiles` returns the quantiles
p025, p10, p50, p90 and p975 of each interval, so the bands come from the same featurized rows as
the point forecast and serving cannot skew from the backtest.

How the quantiles are made (conformalized quantile regression, Romano, Patterson and Candès,
"Conformalized Quantile Regression", NeurIPS 2019, in its per-quantile form):

1. One scikit-learn `HistGradientBoostingRegressor(loss="quantile")` per quantile is fitted on the
   training rows *before* a calibration tail (the last weeks of the training period).
2. On the calibration tail, for quantile q the scores s = y - q_hat(x) are computed, and the
   q-quantile of those scores (with the finite-sample correction ceil((n + 1) q) / n, or
   floor((n + 1) q) / n below the median) becomes an additive offset of that quantile. A model
   that covers too little on unseen days is widened by exactly what it missed there.
3. The corrected quantiles are sorted per row (monotone rearrangement, Chernozhukov,
   Fernández-Val and Galichon, Econometrica 2010), so p025 <= p10 <= p50 <= p90 <= p975 always.

The calibration tail lies inside the training period, so the holdout is never used to calibrate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from energy_assets import schema
from energy_assets.training import evaluation

QUANTILES: tuple[float, ...] = (0.025, 0.1, 0.5, 0.9, 0.975)
QUANTILE_COLUMNS: tuple[str, ...] = ("p025", "p10", "p50", "p90", "p975")
# The central bands and the quantile columns bounding them: nominal coverage -> (lower, upper).
BANDS: dict[float, tuple[str, str]] = {0.80: ("p10", "p90"), 0.95: ("p025", "p975")}


class CalibrationError(ValueError):
    """The rows given to calibrate the bands cannot calibrate them; the message names the argument."""


def conformal_offset(scores: np.ndarray, quantile: float) -> float:
    """The additive correction of a `quantile` model from its calibration scores y - q_hat(x).

    Above the median the ceil((n + 1) q)-th smallest score (clipped to the largest), below it the
    floor((n + 1) q)-th (clipped to the smallest): the split-conformal finite-sample rank.
    """
    ordered = np.sort(np.asarray(scores, dtype=float))
    n = len(ordered)
    if n == 0:
        raise CalibrationError("calibration: no rows to compute a conformal offset from")
    rank = math.ceil((n + 1) * quantile) if quantile >= 0.5 else math.floor((n + 1) * quantile)
    return float(ordered[min(max(rank, 1), n) - 1])


class BandedForecastRegressor(RegressorMixin, BaseEstimator):
    """Point forecast plus conformalized quantiles of the same featurized rows.

    Parameters of the point model keep their names; `quantile_*` configure the quantile models.
    `fit(X, y, sample_weight=None, calibration=None)`: `calibration` is a boolean mask of the rows
    (the most recent part of the training period) that calibrate the quantiles; the quantile models
    never see them. The point model is fitted on every row with positive weight.
    """

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_depth: int | None = 4,
        min_samples_leaf: int = 500,
        l2_regularization: float = 1.0,
        quantile_max_iter: int = 200,
        quantile_learning_rate: float = 0.05,
        quantile_max_depth: int | None = 4,
        quantile_min_samples_leaf: int = 500,
        random_state: int | None = 42,
    ):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.quantile_max_iter = quantile_max_iter
        self.quantile_learning_rate = quantile_learning_rate
        self.quantile_max_depth = quantile_max_depth
        self.quantile_min_samples_leaf = quantile_min_samples_leaf
        self.random_state = random_state

    def _point_model(self) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
        )

    def _quantile_model(self, quantile: float) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="quantile",
            quantile=quantile,
            max_iter=self.quantile_max_iter,
            learning_rate=self.quantile_learning_rate,
            max_depth=self.quantile_max_depth,
            min_samples_leaf=self.quantile_min_samples_leaf,
            random_state=self.random_state,
        )

    def fit(self, X, y, sample_weight=None, calibration=None):
        y = np.asarray(y, dtype=float)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if calibration is None:
            raise CalibrationError(
                "calibration: a boolean mask of the most recent training rows is required to calibrate the bands"
            )
        calibration = np.asarray(calibration, dtype=bool)
        if calibration.shape != y.shape:
            raise CalibrationError(f"calibration: {calibration.shape[0]} flags for {len(y)} rows")
        fitted = (weight > 0) & ~np.isnan(y)  # a row without its usage can neither fit nor calibrate
        proper = fitted & ~calibration
        held = fitted & calibration
        if not proper.any() or not held.any():
            raise CalibrationError(
                f"calibration: {int(proper.sum())} rows to fit the quantiles and {int(held.sum())} to calibrate "
                "them; both must be non-empty"
            )
        self.point_model_ = self._point_model().fit(X, y, sample_weight=weight)
        rows = np.flatnonzero(proper)
        self.quantile_models_ = [
            self._quantile_model(q).fit(_take(X, rows), y[rows], sample_weight=weight[rows]) for q in QUANTILES
        ]
        held_rows = np.flatnonzero(held)
        raw = self._raw_quantiles(_take(X, held_rows))
        self.quantile_offsets_ = np.array(
            [conformal_offset(y[held_rows] - raw[:, i], q) for i, q in enumerate(QUANTILES)]
        )
        self.calibration_rows_ = int(held.sum())
        self.n_features_in_ = self.point_model_.n_features_in_
        if hasattr(self.point_model_, "feature_names_in_"):
            self.feature_names_in_ = self.point_model_.feature_names_in_
        return self

    def _raw_quantiles(self, X) -> np.ndarray:
        return np.column_stack([model.predict(X) for model in self.quantile_models_])

    def predict(self, X) -> np.ndarray:
        """The point forecast (the squared-error model): what `predicted` in the backtest holds."""
        check_is_fitted(self, "point_model_")
        return self.point_model_.predict(X)

    def predict_quantiles(self, X) -> pd.DataFrame:
        """p025, p10, p50, p90, p975 of each row: conformalized, then sorted so they never cross."""
        check_is_fitted(self, "quantile_offsets_")
        values = np.sort(self._raw_quantiles(X) + self.quantile_offsets_, axis=1)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(values, columns=list(QUANTILE_COLUMNS), index=index)


def _take(X, rows: np.ndarray):
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else np.asarray(X)[rows]


def predict_quantiles(pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """The quantiles of a fitted forecaster Pipeline (features -> BandedForecastRegressor) on canonical readings."""
    return pipeline.named_steps["regressor"].predict_quantiles(pipeline.named_steps["features"].transform(frame))


def banded_backtest(pipeline, history: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """Every row of `target` forecast with `history` before it: timestamp, actual, predicted and the five quantiles.

    The features never read a row's own day, so actuals in `target` cannot leak into its forecast.
    """
    frame = pd.concat([history, target], ignore_index=True)[list(schema.COLUMNS)]
    featurized = pipeline.named_steps["features"].transform(frame).iloc[len(history) :]
    regressor = pipeline.named_steps["regressor"]
    point = evaluation.backtest_frame(target, regressor.predict(featurized))
    return pd.concat([point, regressor.predict_quantiles(featurized).reset_index(drop=True)], axis=1)


def pinball_loss(actual, predicted, quantile: float) -> float:
    """Mean pinball (quantile) loss: q * (y - p) where y >= p, (1 - q) * (p - y) otherwise."""
    diff = np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float)
    return float(np.mean(np.maximum(quantile * diff, (quantile - 1) * diff)))


def band_metrics(actual, quantiles: pd.DataFrame) -> dict[str, float]:
    """Coverage and width of the 80 % and 95 % bands, pinball loss per quantile and its mean."""
    actual = np.asarray(actual, dtype=float)
    metrics: dict[str, float] = {}
    for nominal, (low, high) in BANDS.items():
        label = f"{round(nominal * 100)}"
        lower, upper = quantiles[low].to_numpy(), quantiles[high].to_numpy()
        metrics[f"coverage_{label}"] = float(np.mean((actual >= lower) & (actual <= upper)))
        metrics[f"width_{label}"] = float(np.mean(upper - lower))
    losses = [
        pinball_loss(actual, quantiles[c].to_numpy(), q) for q, c in zip(QUANTILES, QUANTILE_COLUMNS, strict=True)
    ]
    metrics.update({f"pinball_{c}": v for c, v in zip(QUANTILE_COLUMNS, losses, strict=True)})
    metrics["pinball_mean"] = float(np.mean(losses))
    return metrics


def holdout_band_metrics(backtest: pd.DataFrame, history: pd.DataFrame, train: pd.DataFrame) -> dict[str, float]:
    """The bands' holdout metrics next to the seasonal-naive quantiles' (see evaluation.seasonal_naive_quantiles).

    Both are scored on the same intervals (those with a week-old value); `pinball_improvement` is
    1 - ours / baseline of the mean pinball loss over the five quantiles.
    """
    baseline = evaluation.seasonal_naive_quantiles(
        history, train, backtest["timestamp"], dict(zip(QUANTILE_COLUMNS, QUANTILES, strict=True))
    )
    known = baseline.notna().all(axis=1).to_numpy()
    actual = backtest["actual"].to_numpy(dtype=float)
    ours = band_metrics(actual, backtest[list(QUANTILE_COLUMNS)])
    ours_known = band_metrics(actual[known], backtest.loc[known, list(QUANTILE_COLUMNS)])
    theirs = band_metrics(actual[known], baseline[known])
    return {
        **{f"holdout_{k}": v for k, v in ours.items()},
        "baseline_seasonal_naive_pinball_mean": theirs["pinball_mean"],
        "baseline_seasonal_naive_coverage_80": theirs["coverage_80"],
        "baseline_seasonal_naive_coverage_95": theirs["coverage_95"],
        "pinball_improvement": 1.0 - ours_known["pinball_mean"] / theirs["pinball_mean"],
    }
