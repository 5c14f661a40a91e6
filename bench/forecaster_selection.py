"""How the day-ahead forecaster's configuration was chosen: rolling-origin validation inside Jan-Sep.

Every candidate is trained on the days before a validation month and scored on that month
(Jul, Aug, Sep 2018), the way the model is used: forecasting days it has not seen, from older
history only. The holdout (Oct-Dec) is never looked at while choosing; `--holdout` scores the
chosen configuration on it once, trained on all of Jan-Sep exactly as the pipeline does.

    .venv/bin/python bench/forecaster_selection.py            # the inner validation table
    .venv/bin/python bench/forecaster_selection.py --holdout  # plus the chosen config's holdout
    .venv/bin/python bench/forecaster_selection.py --bands    # the bands' inner validation only

The bands (training/bands.py) are validated the same way: for each validation month the whole
banded forecaster is fitted on the days before it, its quantile models on all but the last
`calibration_days` of those, which calibrate them; coverage and mean pinball loss on the month
are compared with the seasonal-naive quantiles (evaluation.seasonal_naive_quantiles).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from energy_assets import schema
from energy_assets.features.transformers import DayAheadFeatures
from energy_assets.ingest import reader
from energy_assets.ingest.validation import validate
from energy_assets.settings import get_settings
from energy_assets.training import bands, evaluation
from energy_assets.training.models import ForecasterParams, fit_day_ahead_forecaster

VALIDATION_MONTHS = (("2018-07-01", "2018-08-01"), ("2018-08-01", "2018-09-01"), ("2018-09-01", "2018-10-01"))
SAME_KIND = ("same_kind_day_usage", "same_kind_slot_mean_3d", "same_kind_day_mean_3d")
ALL_FEATURES = tuple(DayAheadFeatures.feature_names_)
PREVIOUS_FEATURES = tuple(name for name in ALL_FEATURES if name not in SAME_KIND)

# (label, feature columns, regressor settings). The first row is the configuration before the change.
CANDIDATES: list[tuple[str, tuple[str, ...], dict]] = [
    (
        "previous features, previous params",
        PREVIOUS_FEATURES,
        dict(max_iter=800, learning_rate=0.02, max_depth=5, min_samples_leaf=200),
    ),
    *[
        (
            f"{label}, depth {depth} / leaf {leaf}",
            columns,
            dict(max_iter=300, learning_rate=0.05, max_depth=depth, min_samples_leaf=leaf),
        )
        for label, columns in (("previous features", PREVIOUS_FEATURES), ("+ same-kind days", ALL_FEATURES))
        for depth, leaf in ((5, 200), (4, 500), (3, 1000), (4, 1000))
    ],
    (
        "+ same-kind days, depth 4 / leaf 500, 800 x 0.02",
        ALL_FEATURES,
        dict(max_iter=800, learning_rate=0.02, max_depth=4, min_samples_leaf=500),
    ),
]


def clean_readings() -> pd.DataFrame:
    frame, _, _ = reader.read_raw(get_settings().raw_source)
    return validate(frame).clean


def inner_validation(train: pd.DataFrame, columns: tuple[str, ...], settings: dict) -> tuple[float, list[float]]:
    """Pooled RMSE over the validation months and the RMSE of each month."""
    features = DayAheadFeatures().transform(train)[list(columns)]
    target = train[schema.TARGET].to_numpy()
    day = schema.interval_day(train[schema.TIMESTAMP])
    has_history = day >= day.min() + pd.Timedelta(days=ForecasterParams.history_days)
    squared, per_month = [], []
    for start, end in VALIDATION_MONTHS:
        fit_rows = (has_history & (day < start)).to_numpy()
        score_rows = ((day >= start) & (day < end)).to_numpy()
        regressor = HistGradientBoostingRegressor(l2_regularization=1.0, random_state=ForecasterParams.seed, **settings)
        regressor.fit(features[fit_rows], target[fit_rows])
        error = (regressor.predict(features[score_rows]) - target[score_rows]) ** 2
        squared.append(error)
        per_month.append(float(np.sqrt(error.mean())))
    return float(np.sqrt(np.concatenate(squared).mean())), per_month


def bands_validation(train: pd.DataFrame, params: ForecasterParams) -> list[dict[str, float]]:
    """Per validation month: the banded forecaster fitted on the days before it, its bands against seasonal naive."""
    day = schema.interval_day(train[schema.TIMESTAMP])
    rows = []
    for start, end in VALIDATION_MONTHS:
        before = train[(day < start).to_numpy()].reset_index(drop=True)
        month = train[((day >= start) & (day < end)).to_numpy()].reset_index(drop=True)
        backtest = bands.banded_backtest(fit_day_ahead_forecaster(before, params), before, month)
        metrics = bands.holdout_band_metrics(backtest, pd.concat([before, month], ignore_index=True), before)
        metrics["rmse"] = evaluation.regression_metrics(backtest["actual"], backtest["predicted"])["rmse"]
        rows.append({"month": start[:7], **metrics})
    return rows


def holdout_scores(readings: pd.DataFrame, params: ForecasterParams) -> dict[str, float]:
    """Holdout RMSE, seasonal-naive RMSE, band metrics and training seconds, as the day_ahead_forecaster asset
    computes them."""
    train, holdout = evaluation.time_split(readings)
    started = time.perf_counter()
    model = fit_day_ahead_forecaster(train, params)
    seconds = time.perf_counter() - started
    everything = pd.concat([train, holdout], ignore_index=True)[list(schema.COLUMNS)]
    backtest = bands.banded_backtest(model, train, holdout)
    return {
        "rmse": evaluation.regression_metrics(backtest["actual"], backtest["predicted"])["rmse"],
        "naive_rmse": evaluation.seasonal_naive_rmse(everything, holdout),
        "fit_seconds": seconds,
        **bands.holdout_band_metrics(backtest, everything, train),
    }


def _print_bands(label: str, m: dict[str, float]) -> None:
    print(
        f"{label:<10} RMSE {m['rmse']:6.3f}  coverage 80 % {m['holdout_coverage_80']:.3f}  95 % "
        f"{m['holdout_coverage_95']:.3f}  pinball {m['holdout_pinball_mean']:.3f} vs seasonal naive "
        f"{m['baseline_seasonal_naive_pinball_mean']:.3f} ({m['pinball_improvement']:.1%} better)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--holdout", action="store_true", help="also score the chosen (default) configuration on Oct-Dec once"
    )
    parser.add_argument(
        "--bands",
        action="store_true",
        help="only the bands' rolling-origin validation (and the holdout with --holdout)",
    )
    args = parser.parse_args()
    readings = clean_readings()
    train, _ = evaluation.time_split(readings)
    chosen = ForecasterParams()
    if not args.bands:
        print("rolling-origin validation inside Jan-Sep 2018 (train on the days before each month)")
        print(f"{'candidate':<52} {'pooled':>7}  {'Jul':>6} {'Aug':>6} {'Sep':>6}")
        for label, columns, settings in CANDIDATES:
            pooled, months = inner_validation(train, columns, settings)
            print(f"{label:<52} {pooled:7.3f}  " + " ".join(f"{m:6.2f}" for m in months), flush=True)
    print(
        f"bands, rolling-origin inside Jan-Sep 2018, calibrated on the last {chosen.calibration_days} days before "
        "each month"
    )
    for row in bands_validation(train, chosen):
        _print_bands(row["month"], row)
    if args.holdout:
        scores = holdout_scores(readings, chosen)
        print(
            f"holdout Oct-Dec 2018, chosen {chosen}: RMSE {scores['rmse']:.3f} kWh (seasonal naive "
            f"{scores['naive_rmse']:.3f}), fit {scores['fit_seconds']:.1f} s"
        )
        _print_bands("holdout", scores)


if __name__ == "__main__":
    main()
