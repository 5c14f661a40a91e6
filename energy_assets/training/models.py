"""The two model recipes. Each is a scikit-learn Pipeline whose input is canonical readings.

- usage estimator: `usage_kwh` of an interval from that interval's other readings (UCI's task).
- day-ahead forecaster: the next day's 96 intervals from calendar, the planned load schedule and
  usage at least one whole day old.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import Pipeline

from energy_assets import schema
from energy_assets.features.transformers import DAY_AHEAD_FEATURES, DayAheadFeatures, EstimatorFeatures
from energy_assets.training.bands import BandedForecastRegressor


@dataclass(frozen=True)
class EstimatorParams:
    max_iter: int = 500
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 20
    seed: int = 42


@dataclass(frozen=True)
class ForecasterParams:
    # Chosen by rolling-origin validation inside Jan-Sep (bench/forecaster_selection.py,
    # docs/models.md): shallow trees with big leaves generalize across days, and the Poisson loss
    # (a log link: level x daily profile multiply) beat squared error there.
    max_iter: int = 150
    learning_rate: float = 0.05
    max_depth: int | None = 4
    max_leaf_nodes: int | None = 31
    min_samples_leaf: int = 500
    l2_regularization: float = 1.0
    loss: str = "poisson"
    early_stopping: str = "auto"  # "auto", "on" or "off" (training/bands.py)
    seed: int = 42
    # The columns of DayAheadFeatures the point model reads.
    features: tuple[str, ...] = DAY_AHEAD_FEATURES
    # Days of history a forecast needs before its first day (4 weeks of same-weekday lags).
    history_days: int = field(default=28)
    # The bands (training/bands.py), chosen by the same validation: the last months of the training
    # period whose rolling-origin residuals calibrate them, the kWh added to the point forecast to
    # scale a residual, and the feature columns calibrated apart (none: per-group bands covered worse).
    calibration_months: int = 2
    band_scale_kwh: float | None = 2.0
    band_groups: tuple[str, ...] = ()


def build_usage_estimator(params: EstimatorParams) -> Pipeline:
    return Pipeline(
        [
            ("features", EstimatorFeatures()),
            (
                "regressor",
                HistGradientBoostingRegressor(
                    max_iter=params.max_iter,
                    learning_rate=params.learning_rate,
                    max_leaf_nodes=params.max_leaf_nodes,
                    min_samples_leaf=params.min_samples_leaf,
                    random_state=params.seed,
                ),
            ),
        ]
    )


# ForecasterParams fields that are BandedForecastRegressor parameters of the same name.
_BANDED_SETTINGS = (
    "max_iter",
    "learning_rate",
    "max_depth",
    "max_leaf_nodes",
    "min_samples_leaf",
    "l2_regularization",
    "loss",
    "early_stopping",
    "band_scale_kwh",
    "band_groups",
)


def build_day_ahead_forecaster(params: ForecasterParams) -> Pipeline:
    return Pipeline(
        [
            ("features", DayAheadFeatures(features=tuple(params.features))),
            (
                "regressor",
                BandedForecastRegressor(
                    random_state=params.seed, **{name: getattr(params, name) for name in _BANDED_SETTINGS}
                ),
            ),
        ]
    )


def estimator_input(readings: pd.DataFrame) -> pd.DataFrame:
    """The estimator's input columns, in schema order."""
    return readings[list(schema.ESTIMATOR_INPUT_COLUMNS)]


def random_cv_rmse(params: EstimatorParams, readings: pd.DataFrame, folds: int = 5) -> list[float]:
    """The published protocol for this data set: random K-fold CV on all rows (reported, not gated)."""
    scores = cross_val_score(
        build_usage_estimator(params),
        estimator_input(readings),
        readings[schema.TARGET],
        cv=KFold(folds, shuffle=True, random_state=params.seed),
        scoring="neg_root_mean_squared_error",
    )
    return [float(-s) for s in scores]


def forecaster_training_rows(train: pd.DataFrame, params: ForecasterParams) -> np.ndarray:
    """Rows with a full history window: the first `history_days` days only feed the lags."""
    first_day = schema.interval_day(train[schema.TIMESTAMP]).min()
    return (
        schema.interval_day(train[schema.TIMESTAMP]) >= first_day + pd.Timedelta(days=params.history_days)
    ).to_numpy()


def forecaster_calibration_folds(train: pd.DataFrame, params: ForecasterParams) -> np.ndarray:
    """Each row's calibration fold: 1..K for the last K = `calibration_months` calendar months of the
    training period in time order (a partial last month counts as one), 0 for the rows before them.

    Each fold is forecast by a model fitted on the rows before it; its residuals calibrate the bands.
    """
    day = schema.interval_day(train[schema.TIMESTAMP])
    month = (day.dt.year * 12 + day.dt.month).to_numpy()
    months_before_last = month.max() - month
    return np.where(months_before_last < params.calibration_months, params.calibration_months - months_before_last, 0)


def fit_day_ahead_forecaster(train: pd.DataFrame, params: ForecasterParams):
    """The forecaster fitted on `train` as the pipeline fits it.

    Warm-up days unweighted, the last months calibrating the bands.
    """
    return build_day_ahead_forecaster(params).fit(
        train[list(schema.COLUMNS)],
        train[schema.TARGET],
        regressor__sample_weight=forecaster_training_rows(train, params).astype(float),
        regressor__calibration=forecaster_calibration_folds(train, params),
    )
