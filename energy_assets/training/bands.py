"""Calibrated forecast bands around the point forecast, conformalized on rolling-origin residuals.

`BandedForecastRegressor` is the forecaster pipeline's last step. `predict` returns the point
forecast (a boosted model); `predict_quantiles` returns the quantiles p025, p10, p50, p90 and p975
of each interval, built around that same point forecast from the same featurized rows, so the
bands cannot disagree with the point and serving cannot skew from the backtest.

How the quantiles are made (split conformal prediction on out-of-sample residuals, with the
calibration folds taken in time order, the way a forecaster meets new data):

1. The last K months of the training period are calibration folds. For fold k a point model is
   fitted on every training row before it and forecasts the fold: its residuals y - y_hat are
   genuinely out of sample, and come from a model that, like the final one, forecasts a month it
   has not seen (rolling-origin, as in Vovk's inductive conformal predictors applied fold by fold).
2. Each residual is divided by a local scale s = max(y_hat, 0) + `band_scale_kwh` (a normalized
   nonconformity score, Papadopoulos et al., "Normalized nonconformity measures for regression
   conformal prediction", 2008; Lei et al., JASA 2018): the plant's errors grow with its load, so a
   busy interval gets a wider band than a quiet night. With `band_scale_kwh=None` the score is the
   plain residual.
3. Optionally per group of rows (`band_groups`, feature columns such as the planned load type:
   Mondrian conformal prediction, Vovk et al. 2005) the q-quantile of the scores at the
   split-conformal rank (ceil((n + 1) q) above the median, floor((n + 1) q) below) becomes that
   quantile's offset; a group with fewer than `min_group_rows` calibration rows uses the pooled
   scores.
4. Quantile q of a row = y_hat + s * offset_q, clipped at 0 kWh (usage is never negative), sorted
   so p025 <= p10 <= p50 <= p90 <= p975, then widened where needed so that
   p10 <= y_hat <= p90: the 80 % band always contains the point forecast it is built around.

The final point model is fitted on every training row. The calibration folds lie inside the
training period, so the holdout is never used to calibrate.
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
# The columns of the 80 % band, which must contain the point forecast.
_LOWER_80, _UPPER_80 = QUANTILE_COLUMNS.index("p10"), QUANTILE_COLUMNS.index("p90")


class CalibrationError(ValueError):
    """The rows given to calibrate the bands cannot calibrate them; the message names the argument."""


def conformal_offset(scores: np.ndarray, quantile: float) -> float:
    """The offset of a `quantile` from calibration scores: their split-conformal finite-sample quantile.

    Above the median the ceil((n + 1) q)-th smallest score (clipped to the largest), below it the
    floor((n + 1) q)-th (clipped to the smallest).
    """
    ordered = np.sort(np.asarray(scores, dtype=float))
    n = len(ordered)
    if n == 0:
        raise CalibrationError("calibration: no rows to compute a conformal offset from")
    rank = math.ceil((n + 1) * quantile) if quantile >= 0.5 else math.floor((n + 1) * quantile)
    return float(ordered[min(max(rank, 1), n) - 1])


def band_scale(point: np.ndarray, scale_kwh: float | None) -> np.ndarray:
    """The local scale of the nonconformity score: max(point, 0) + scale_kwh, or 1 for plain residuals."""
    point = np.asarray(point, dtype=float)
    return np.ones_like(point) if scale_kwh is None else np.maximum(point, 0.0) + scale_kwh


def group_keys(X: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """The Mondrian group of each row: the values of `columns` (a (rows, 0) array without groups)."""
    if not columns:
        return np.empty((len(X), 0))
    missing = [c for c in columns if c not in getattr(X, "columns", [])]
    if missing:
        raise CalibrationError(f"band_groups: {missing} are not feature columns")
    return np.nan_to_num(X[list(columns)].to_numpy(dtype=float), nan=-1.0)


def calibrate(scores: np.ndarray, keys: np.ndarray, min_group_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pooled offsets, group keys, offsets per group): the conformal offset of every quantile from `scores`."""
    pooled = np.array([conformal_offset(scores, q) for q in QUANTILES])
    groups = np.unique(keys, axis=0) if keys.shape[1] else np.empty((0, 0))
    kept, offsets = [], []
    for key in groups:
        own = (keys == key).all(axis=1)
        if own.sum() >= min_group_rows:
            kept.append(key)
            offsets.append([conformal_offset(scores[own], q) for q in QUANTILES])
    width = keys.shape[1]
    return (
        pooled,
        np.array(kept, dtype=float).reshape(len(kept), width),
        np.array(offsets, dtype=float).reshape(len(kept), len(QUANTILES)),
    )


def row_offsets(
    X: pd.DataFrame, groups: tuple[str, ...], pooled: np.ndarray, keys: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """The offsets of each row of `X` (rows, 5): its group's, or `pooled` for rows of no calibrated group.

    `pooled`, `keys` and `offsets` are what `calibrate` returns.
    """
    per_row = np.tile(pooled, (len(X), 1))
    if len(keys):
        own_keys = group_keys(X, groups)
        for key, own in zip(keys, offsets, strict=True):
            per_row[(own_keys == key).all(axis=1)] = own
    return per_row


def banded(point: np.ndarray, scale: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Quantiles (rows, 5) = point + scale * offsets, clipped at 0, sorted, and holding the point inside p10..p90."""
    point = np.asarray(point, dtype=float)
    values = np.sort(np.maximum(point[:, None] + scale[:, None] * offsets, 0.0), axis=1)
    values[:, : _LOWER_80 + 1] = np.minimum(values[:, : _LOWER_80 + 1], point[:, None])
    values[:, _UPPER_80:] = np.maximum(values[:, _UPPER_80:], point[:, None])
    return values


class BandedForecastRegressor(RegressorMixin, BaseEstimator):
    """Point forecast plus conformal quantiles around it, from the same featurized rows.

    `fit(X, y, sample_weight=None, calibration=None)`: `calibration` gives each row its calibration
    fold: 0 for rows before the folds, 1..K for the K folds in time order (the last months of the
    training period; a boolean mask is one fold). Fold k is forecast by a point model fitted on the
    rows of folds below k, and its residuals calibrate the bands. The returned point model is fitted
    on every row with positive weight.
    """

    def __init__(
        self,
        max_iter: int = 150,
        learning_rate: float = 0.05,
        max_depth: int | None = 4,
        max_leaf_nodes: int | None = 31,
        min_samples_leaf: int = 500,
        l2_regularization: float = 1.0,
        loss: str = "poisson",
        early_stopping: str = "auto",
        band_scale_kwh: float | None = 2.0,
        band_groups: tuple[str, ...] = (),
        min_group_rows: int = 500,
        random_state: int | None = 42,
    ):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.loss = loss
        self.early_stopping = early_stopping
        self.band_scale_kwh = band_scale_kwh
        self.band_groups = band_groups
        self.min_group_rows = min_group_rows
        self.random_state = random_state

    def point_model(self) -> HistGradientBoostingRegressor:
        """A new, unfitted point model with this forecaster's settings (the fold models and the final one)."""
        return HistGradientBoostingRegressor(
            loss=self.loss,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=_early_stopping(self),
            random_state=self.random_state,
        )

    def fit(self, X, y, sample_weight=None, calibration=None):
        y = np.asarray(y, dtype=float)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if calibration is None:
            raise CalibrationError(
                "calibration: the calibration fold of every row (0 before the folds, 1..K for the last months) "
                "is required to calibrate the bands"
            )
        folds = np.asarray(calibration).astype(int)
        if folds.shape != y.shape:
            raise CalibrationError(f"calibration: {folds.shape[0]} folds for {len(y)} rows")
        if (folds < 0).any():
            raise CalibrationError("calibration: folds must be 0 (before the folds) or 1..K")
        fitted = (weight > 0) & ~np.isnan(y)  # a row without its usage can neither fit nor calibrate
        residual_rows, out_of_sample = [], []
        for fold in np.unique(folds[folds > 0]):
            before, own = np.flatnonzero(fitted & (folds < fold)), np.flatnonzero(fitted & (folds == fold))
            if len(before) == 0 or len(own) == 0:
                raise CalibrationError(
                    f"calibration: fold {fold} has {len(own)} rows to calibrate on and {len(before)} before "
                    "it to fit on; "
                    "both must be non-empty"
                )
            model = self.point_model().fit(_take(X, before), y[before], sample_weight=weight[before])
            residual_rows.append(own)
            out_of_sample.append(model.predict(_take(X, own)))
        if not residual_rows:
            raise CalibrationError("calibration: no calibration fold (every row is 0); mark the last months 1..K")
        rows = np.concatenate(residual_rows)
        predicted = np.concatenate(out_of_sample)
        scores = (y[rows] - predicted) / band_scale(predicted, self.band_scale_kwh)
        self.pooled_offsets_, self.group_keys_, self.group_offsets_ = calibrate(
            scores, group_keys(_take(X, rows), tuple(self.band_groups)), self.min_group_rows
        )
        self.calibration_rows_ = len(rows)
        self.point_model_ = self.point_model().fit(X, y, sample_weight=weight)
        self.n_features_in_ = self.point_model_.n_features_in_
        if hasattr(self.point_model_, "feature_names_in_"):
            self.feature_names_in_ = self.point_model_.feature_names_in_
        return self

    def predict(self, X) -> np.ndarray:
        """The point forecast: what `predicted` in the backtest holds."""
        check_is_fitted(self, "point_model_")
        return self.point_model_.predict(X)

    def _offsets(self, X) -> np.ndarray:
        return row_offsets(X, tuple(self.band_groups), self.pooled_offsets_, self.group_keys_, self.group_offsets_)

    def predict_with_quantiles(self, X) -> tuple[np.ndarray, pd.DataFrame]:
        """The point forecast and its quantiles in one pass over the point model."""
        check_is_fitted(self, "pooled_offsets_")
        point = self.predict(X)
        values = banded(point, band_scale(point, self.band_scale_kwh), self._offsets(X))
        index = X.index if isinstance(X, pd.DataFrame) else None
        return point, pd.DataFrame(values, columns=list(QUANTILE_COLUMNS), index=index)

    def predict_quantiles(self, X) -> pd.DataFrame:
        """p025, p10, p50, p90, p975 of each row, around the point forecast and never crossing."""
        return self.predict_with_quantiles(X)[1]


# early_stopping: scikit-learn's "auto" (on above 10,000 rows, with a random 10 % of the rows held
# out to decide), always "on", or "off" (every row fits). Strings, so a Dagster config can carry them.
_EARLY_STOPPING: dict[str, bool | str] = {"auto": "auto", "on": True, "off": False}


def _early_stopping(model: BandedForecastRegressor) -> bool | str:
    # A model saved before `early_stopping` existed used scikit-learn's default.
    value = getattr(model, "early_stopping", "auto")
    if value not in _EARLY_STOPPING:
        raise ValueError(f"early_stopping: {value!r} is not one of {sorted(_EARLY_STOPPING)}")
    return _EARLY_STOPPING[value]


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
    predicted, quantiles = pipeline.named_steps["regressor"].predict_with_quantiles(featurized)
    return pd.concat([evaluation.backtest_frame(target, predicted), quantiles.reset_index(drop=True)], axis=1)


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
