"""How the day-ahead forecaster's configuration was chosen: rolling-origin validation inside Jan-Sep.

Every candidate is trained on the days before a validation month and scored on that month
(Jul, Aug, Sep 2018), the way the model is used: forecasting days it has not seen, from older
history only. The holdout (Oct-Dec) is never looked at while choosing; `--holdout` scores the
chosen configuration on it once, trained on all of Jan-Sep exactly as the pipeline does.

    .venv/bin/python bench/forecaster_selection.py            # the inner validation table
    .venv/bin/python bench/forecaster_selection.py --holdout  # plus the chosen config's holdout
    .venv/bin/python bench/forecaster_selection.py --bands    # the bands' inner validation only

The point model's third round has its own rule, fixed before its run: the first row (simplest
first) within PARSIMONY_KWH of the round's best pooled RMSE. Its choice scored worse on the holdout
than the second round's and was not adopted (docs/models.md).

The bands (training/bands.py) are chosen the same way. Every month from March to September is
forecast by the chosen point model fitted on all days before it (its rolling-origin residuals).
For each validation month and each band candidate (K calibration months, the residual's scale),
the bands are calibrated on the residuals of the K months before the validation month only, with
the library's own functions (bands.calibrate, bands.banded), and scored on the month: coverage of
the 80 % and 95 % bands and mean pinball loss against the seasonal-naive quantiles
(evaluation.seasonal_naive_quantiles). The chosen candidate has the smallest worst-month coverage
error over both bands; candidates within half a point of it are separated by mean pinball loss.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from energy_assets import schema
from energy_assets.features.transformers import DAY_AHEAD_FEATURES, DayAheadFeatures
from energy_assets.ingest import reader
from energy_assets.ingest.validation import validate
from energy_assets.settings import get_settings
from energy_assets.training import bands, evaluation
from energy_assets.training.models import ForecasterParams, build_day_ahead_forecaster, fit_day_ahead_forecaster

VALIDATION_MONTHS = (("2018-07-01", "2018-08-01"), ("2018-08-01", "2018-09-01"), ("2018-09-01", "2018-10-01"))
SAME_KIND = ("same_kind_day_usage", "same_kind_slot_mean_3d", "same_kind_day_mean_3d")
# The features of the second round's choice (the defaults), and those before the same-kind days.
SECOND_ROUND_FEATURES = DAY_AHEAD_FEATURES
PREVIOUS_FEATURES = tuple(name for name in SECOND_ROUND_FEATURES if name not in SAME_KIND)
SECOND_ROUND = dict(features=SECOND_ROUND_FEATURES, early_stopping="auto", max_leaf_nodes=31)
SQUARED = dict(SECOND_ROUND, loss="squared_error")

# (label, ForecasterParams fields overriding the defaults). The first round chose the same-kind
# features (squared error), the second the Poisson loss; the third round's rows come last, from
# the simplest change to the most complex. Early stopping "auto" is on for every fit here (over
# 10,000 rows, a random 10 % of them held out to decide when to stop).
CANDIDATES: list[tuple[str, dict]] = [
    (
        "previous features, previous params",
        dict(SQUARED, features=PREVIOUS_FEATURES, max_iter=800, learning_rate=0.02, max_depth=5, min_samples_leaf=200),
    ),
    *[
        (
            f"{label}, depth {depth} / leaf {leaf}",
            dict(SQUARED, features=columns, max_iter=300, learning_rate=0.05, max_depth=depth, min_samples_leaf=leaf),
        )
        for label, columns in (("previous features", PREVIOUS_FEATURES), ("+ same-kind days", SECOND_ROUND_FEATURES))
        for depth, leaf in ((5, 200), (4, 500), (3, 1000), (4, 1000))
    ],
    (
        "+ same-kind days, depth 4 / leaf 500, 800 x 0.02",
        dict(SQUARED, max_iter=800, learning_rate=0.02, max_depth=4, min_samples_leaf=500),
    ),
    *[
        (f"+ same-kind days, Poisson, {label}", dict(SECOND_ROUND, **settings))
        for label, settings in (
            ("depth 4 / leaf 500, 300 x 0.05", dict(max_iter=300)),
            ("depth 4 / leaf 500, 150 x 0.05", dict(max_iter=150)),
            ("depth 4 / leaf 500, 600 x 0.05", dict(max_iter=600)),
            ("depth 5 / leaf 200, 300 x 0.05", dict(max_iter=300, max_depth=5, min_samples_leaf=200)),
            ("depth 3 / leaf 1000, 300 x 0.05", dict(max_iter=300, max_depth=3, min_samples_leaf=1000)),
        )
    ],
]
# The third round: the second round's choice (Poisson, 150 x 0.05, depth 4, leaf 500) first, then
# one change at a time, then combinations; "no early stop" fits on every training row.
NO_EARLY_STOP = dict(SECOND_ROUND, early_stopping="off")
WITH_PEAK = dict(NO_EARLY_STOP, features=(*DAY_AHEAD_FEATURES, "day_max_1d_ago"))
THIRD_ROUND: list[tuple[str, dict]] = [
    ("second round's choice", SECOND_ROUND),
    ("no early stop", NO_EARLY_STOP),
    ("no early stop, + yesterday's peak", WITH_PEAK),
    (
        "no early stop, + last week's slot mean",
        dict(NO_EARLY_STOP, features=(*SECOND_ROUND_FEATURES, "same_slot_mean_7d")),
    ),
    (
        "no early stop, + yesterday's peak + smoothed same-kind day",
        dict(WITH_PEAK, features=(*WITH_PEAK["features"], "same_kind_day_usage_smooth")),
    ),
    (
        "no early stop, + yesterday's peak + kind profile at yesterday's level",
        dict(WITH_PEAK, features=(*WITH_PEAK["features"], "same_kind_profile_at_yesterday_level")),
    ),
    ("no early stop, + yesterday's peak, l2 10", dict(WITH_PEAK, l2_regularization=10.0)),
    ("no early stop, + yesterday's peak, leaf 200", dict(WITH_PEAK, min_samples_leaf=200)),
    ("no early stop, + yesterday's peak, 300 x 0.05", dict(WITH_PEAK, max_iter=300)),
    ("no early stop, + yesterday's peak, squared error", dict(WITH_PEAK, loss="squared_error")),
    ("no early stop, + yesterday's peak, depth 6 / 15 leaves", dict(WITH_PEAK, max_depth=6, max_leaf_nodes=15)),
    (
        "no early stop, + yesterday's peak + smoothed same-kind day, depth 6 / 15 leaves",
        dict(
            WITH_PEAK, features=(*WITH_PEAK["features"], "same_kind_day_usage_smooth"), max_depth=6, max_leaf_nodes=15
        ),
    ),
]
# The third round's rule, fixed before its run: the first row, in the table's order (simplest
# first), whose pooled RMSE is within PARSIMONY_KWH of the round's best. Differences this small
# are the size of the month-to-month spread, so the simpler configuration is kept.
PARSIMONY_KWH = 0.05
# Band candidates: (calibration months K, band_scale_kwh, band_groups).
BAND_CANDIDATES: list[tuple[int, float | None, tuple[str, ...]]] = [
    *[(k, scale, ()) for k in (1, 2, 3) for scale in (None, 2.0, 5.0, 10.0)],
    (3, 5.0, ("load_type_code", "is_planned_off_day")),
]
RESIDUAL_MONTHS = tuple(f"2018-{m:02d}-01" for m in range(3, 11))  # Mar..Sep forecast from the days before each


def clean_readings() -> pd.DataFrame:
    frame, _, _ = reader.read_raw(get_settings().raw_source)
    return validate(frame).clean


def point_model(params: ForecasterParams) -> HistGradientBoostingRegressor:
    """The point model the forecaster's BandedForecastRegressor fits for these params."""
    return build_day_ahead_forecaster(params).named_steps["regressor"].point_model()


def inner_validation(train: pd.DataFrame, params: ForecasterParams) -> tuple[float, list[float]]:
    """Pooled RMSE over the validation months and the RMSE of each month."""
    features = DayAheadFeatures(features=params.features).transform(train)
    target = train[schema.TARGET].to_numpy()
    day = schema.interval_day(train[schema.TIMESTAMP])
    has_history = day >= day.min() + pd.Timedelta(days=params.history_days)
    squared, per_month = [], []
    for start, end in VALIDATION_MONTHS:
        fit_rows = (has_history & (day < start)).to_numpy()
        score_rows = ((day >= start) & (day < end)).to_numpy()
        regressor = point_model(params).fit(features[fit_rows], target[fit_rows])
        error = (regressor.predict(features[score_rows]) - target[score_rows]) ** 2
        squared.append(error)
        per_month.append(float(np.sqrt(error.mean())))
    return float(np.sqrt(np.concatenate(squared).mean())), per_month


def choose_point(results: dict[str, float]) -> str:
    """The first candidate (in table order) whose pooled RMSE is within PARSIMONY_KWH of the best."""
    best = min(results.values())
    return next(label for label, pooled in results.items() if pooled <= best + PARSIMONY_KWH)


def rolling_forecasts(train: pd.DataFrame, params: ForecasterParams) -> tuple[pd.DataFrame, np.ndarray]:
    """Features of Jan-Sep and each month Mar..Sep forecast by the point model fitted on every day before it."""
    features = DayAheadFeatures(features=params.features).transform(train)
    target = train[schema.TARGET].to_numpy()
    day = schema.interval_day(train[schema.TIMESTAMP])
    has_history = day >= day.min() + pd.Timedelta(days=params.history_days)
    forecast = np.full(len(train), np.nan)
    for start, end in itertools.pairwise(RESIDUAL_MONTHS):
        fit_rows = (has_history & (day < start)).to_numpy()
        month = ((day >= start) & (day < end)).to_numpy()
        forecast[month] = point_model(params).fit(features[fit_rows], target[fit_rows]).predict(features[month])
    return features, forecast


def bands_validation(
    train: pd.DataFrame,
    params: ForecasterParams,
    features: pd.DataFrame,
    forecast: np.ndarray,
    calibration_months: int,
    scale_kwh: float | None,
    groups: tuple[str, ...],
) -> list[dict[str, float]]:
    """Per validation month: bands calibrated on the residuals of the months before it, scored on it.

    `calibration_months` is how many months before it calibrate.
    """
    target = train[schema.TARGET].to_numpy()
    month = schema.interval_day(train[schema.TIMESTAMP]).dt.month.to_numpy()
    rows = []
    for start, _ in VALIDATION_MONTHS:
        m = int(start[5:7])
        calibrating = np.isin(month, range(m - calibration_months, m))
        scored = month == m
        scores = (target[calibrating] - forecast[calibrating]) / bands.band_scale(forecast[calibrating], scale_kwh)
        calibrated = bands.calibrate(scores, bands.group_keys(features[calibrating], groups), min_group_rows=500)
        offsets = bands.row_offsets(features[scored], groups, *calibrated)
        point = forecast[scored]
        quantiles = pd.DataFrame(
            bands.banded(point, bands.band_scale(point, scale_kwh), offsets), columns=list(bands.QUANTILE_COLUMNS)
        )
        backtest = pd.concat([evaluation.backtest_frame(train[scored], point), quantiles], axis=1)
        before = train[month < m].reset_index(drop=True)
        rows.append({"month": start[:7], **bands.holdout_band_metrics(backtest, train, before)})
    return rows


def choose_bands(results: dict[tuple, list[dict[str, float]]]) -> tuple:
    """The candidate with the smallest worst-month coverage error.

    Within half a point of it, the one with the lowest mean pinball.
    """

    def worst(rows):
        return max(max(abs(r["holdout_coverage_80"] - 0.80), abs(r["holdout_coverage_95"] - 0.95)) for r in rows)

    best = min(worst(rows) for rows in results.values())
    close = [key for key, rows in results.items() if worst(rows) <= best + 0.005]
    return min(close, key=lambda key: np.mean([r["holdout_pinball_mean"] for r in results[key]]))


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


def _print_point(label: str, pooled: float, months: list[float]) -> None:
    print(f"{label:<82} {pooled:7.3f}  " + " ".join(f"{m:6.2f}" for m in months), flush=True)


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
        header = f"{'candidate':<82} {'pooled':>7}  {'Jul':>6} {'Aug':>6} {'Sep':>6}"
        print("first and second rounds\n" + header)
        for label, overrides in CANDIDATES:
            _print_point(label, *inner_validation(train, replace(chosen, **overrides)))
        print(f"third round (rule: the first row within {PARSIMONY_KWH} kWh of the best pooled RMSE)\n" + header)
        third = {}
        for label, overrides in THIRD_ROUND:
            pooled, months = inner_validation(train, replace(chosen, **overrides))
            third[label] = pooled
            _print_point(label, pooled, months)
        pick = choose_point(third)
        is_default = replace(chosen, **dict(THIRD_ROUND)[pick]) == chosen
        print(
            f"the rule's choice: {pick} (pooled {third[pick]:.3f}, best {min(third.values()):.3f}); "
            f"it is the default configuration: {is_default}"
            + ("" if is_default else " (scored once on the holdout, not adopted: docs/models.md, third round)")
        )
    print(
        "bands around the chosen point model, calibrated on the rolling-origin residuals of the K months "
        "before each validation month"
    )
    print(
        f"{'K':>2} {'scale (kWh)':>11} {'groups':<8} {'80 % Jul/Aug/Sep':<20} {'95 % Jul/Aug/Sep':<20} "
        f"{'worst':>6} {'pinball':>8} {'naive':>7} {'better':>7}"
    )
    features, forecast = rolling_forecasts(train, chosen)
    results = {}
    for k, scale, groups in BAND_CANDIDATES:
        rows = results[(k, scale, groups)] = bands_validation(train, chosen, features, forecast, k, scale, groups)
        worst = max(max(abs(r["holdout_coverage_80"] - 0.80), abs(r["holdout_coverage_95"] - 0.95)) for r in rows)
        ours, naive = (
            np.mean([r["holdout_pinball_mean"] for r in rows]),
            np.mean([r["baseline_seasonal_naive_pinball_mean"] for r in rows]),
        )
        better = np.mean([r["pinball_improvement"] for r in rows])
        cover80 = "/".join(f"{r['holdout_coverage_80']:.1%}" for r in rows)
        cover95 = "/".join(f"{r['holdout_coverage_95']:.1%}" for r in rows)
        label = "residual" if scale is None else f"point + {scale:g}"
        print(
            (
                f"{k:>2} {label:>11} {'load/off' if groups else '-':<8} {cover80:<20} {cover95:<20} {worst:6.3f} "
                f"{ours:8.3f} {naive:7.3f} {better:7.1%}"
            ),
            flush=True,
        )
    k, scale, groups = choose_bands(results)
    print(
        f"chosen: K = {k}, scale = {scale}, groups = {groups or 'none'}; defaults: K = {chosen.calibration_months}, "
        f"scale = {chosen.band_scale_kwh}, groups = {chosen.band_groups or 'none'}"
    )
    if args.holdout:
        scores = holdout_scores(readings, chosen)
        print(
            f"holdout Oct-Dec 2018, chosen {chosen}: RMSE {scores['rmse']:.3f} kWh (seasonal naive "
            f"{scores['naive_rmse']:.3f}), fit {scores['fit_seconds']:.1f} s"
        )
        _print_bands("holdout", scores)


if __name__ == "__main__":
    main()
