"""How models are judged: the time split, metrics, the seasonal-naive baseline, backtests and plots."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from energy_assets import schema

# Train on Jan-Sep 2018, judge on Oct-Dec 2018: an interval belongs to the day it starts in.
HOLDOUT_START = pd.Timestamp("2018-10-01")
SEASONAL_LAG = pd.Timedelta(days=7)


def time_split(
    readings: pd.DataFrame, holdout_start: pd.Timestamp = HOLDOUT_START
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout) by the day each interval starts in."""
    is_holdout = schema.interval_day(readings[schema.TIMESTAMP]).to_numpy() >= holdout_start
    return readings[~is_holdout].reset_index(drop=True), readings[is_holdout].reset_index(drop=True)


def regression_metrics(actual, predicted) -> dict[str, float]:
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    error = predicted - actual
    ss_res = float(np.sum(error**2))
    ss_tot = float(np.sum((actual - actual.mean()) ** 2))
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
    }


def seasonal_naive(history: pd.DataFrame, timestamps: pd.Series) -> np.ndarray:
    """Usage of the same slot one week earlier, looked up by time (NaN where the week before is missing)."""
    usage = history.set_index(schema.TIMESTAMP)[schema.TARGET]
    return usage.reindex(pd.to_datetime(timestamps) - SEASONAL_LAG).to_numpy()


def seasonal_naive_rmse(readings: pd.DataFrame, holdout: pd.DataFrame) -> float:
    predicted = seasonal_naive(readings, holdout[schema.TIMESTAMP])
    known = ~np.isnan(predicted)
    return regression_metrics(holdout[schema.TARGET].to_numpy()[known], predicted[known])["rmse"]


def seasonal_naive_quantiles(
    history: pd.DataFrame, train: pd.DataFrame, timestamps: pd.Series, quantiles: dict[str, float]
) -> pd.DataFrame:
    """The baseline of the forecast bands: the seasonal-naive point plus its in-sample residual quantiles.

    For each column name -> q of `quantiles`: usage of the same slot one week earlier (from
    `history`) plus the q-quantile of (actual - seasonal naive) over every interval of `train` that
    has a week-old value. NaN where the week before is missing.
    """
    known = seasonal_naive(train, train[schema.TIMESTAMP])
    residual = train[schema.TARGET].to_numpy(dtype=float) - known
    residual = residual[~np.isnan(residual)]
    point = seasonal_naive(history, timestamps)
    return pd.DataFrame({name: point + float(np.quantile(residual, q)) for name, q in quantiles.items()})


def backtest_frame(holdout: pd.DataFrame, predicted) -> pd.DataFrame:
    """The backtest artifact: every holdout interval with its actual and predicted usage."""
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(holdout[schema.TIMESTAMP]).to_numpy(),
            "actual": holdout[schema.TARGET].to_numpy(dtype=float),
            "predicted": np.asarray(predicted, dtype=float),
        }
    )


def monthly_backtest(readings: pd.DataFrame, backtest: pd.DataFrame) -> list[dict]:
    """Per month of `readings` (by the day each interval starts in): the actual usage, and for the
    months a backtest covers its forecast beside the actual of the same intervals, the error of the
    month's total and the RMSE per interval. Months the backtest does not cover have None there."""
    month = lambda timestamps: schema.interval_day(pd.to_datetime(timestamps)).dt.strftime("%Y-%m")  # noqa: E731
    actual = readings.groupby(month(readings[schema.TIMESTAMP]).to_numpy())[schema.TARGET].agg(["sum", "count"])
    scored = backtest.assign(
        _month=month(backtest["timestamp"]).to_numpy(), _error2=(backtest["predicted"] - backtest["actual"]) ** 2
    )
    covered = scored.groupby("_month").agg(
        actual=("actual", "sum"),
        predicted=("predicted", "sum"),
        intervals=("predicted", "count"),
        mse=("_error2", "mean"),
    )
    rows = []
    for key, own in actual.iterrows():
        row = {
            "month": key,
            "actual_kwh": float(own["sum"]),
            "intervals": int(own["count"]),
            "forecast_kwh": None,
            "forecast_actual_kwh": None,
            "forecast_intervals": 0,
            "total_error_pct": None,
            "rmse_kwh": None,
        }
        if key in covered.index:
            got = covered.loc[key]
            row.update(
                forecast_kwh=float(got["predicted"]),
                forecast_actual_kwh=float(got["actual"]),
                forecast_intervals=int(got["intervals"]),
                total_error_pct=float(100 * (got["predicted"] - got["actual"]) / got["actual"])
                if got["actual"]
                else None,
                rmse_kwh=float(np.sqrt(got["mse"])),
            )
        rows.append(row)
    return rows


def _figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return buffer.getvalue()


def diagnostic_plots(backtest: pd.DataFrame, importance: pd.Series, title: str) -> dict[str, bytes]:
    """PNG plots of a backtest: predicted vs actual, residuals over time, feature importance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots: dict[str, bytes] = {}
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(backtest["actual"], backtest["predicted"], s=2, alpha=0.3)
    top = float(max(backtest["actual"].max(), backtest["predicted"].max()))
    ax.plot([0, top], [0, top], color="black", linewidth=0.8)
    ax.set(xlabel="actual usage (kWh)", ylabel="predicted usage (kWh)", title=f"{title}: predicted vs actual")
    plots["predicted_vs_actual.png"] = _figure_png(fig)

    fig, ax = plt.subplots(figsize=(9, 3.5))
    residual = backtest["predicted"] - backtest["actual"]
    ax.plot(backtest["timestamp"], residual, linewidth=0.4)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(xlabel="interval end", ylabel="predicted - actual (kWh)", title=f"{title}: residuals over time")
    plots["residuals_over_time.png"] = _figure_png(fig)

    fig, ax = plt.subplots(figsize=(6, 0.35 * len(importance) + 1))
    ordered = importance.sort_values()
    ax.barh(ordered.index, ordered.to_numpy())
    ax.set(xlabel="RMSE increase when permuted (kWh)", title=f"{title}: feature importance")
    plots["feature_importance.png"] = _figure_png(fig)
    return plots


def permutation_importance_of(model, features: pd.DataFrame, target, seed: int, max_rows: int = 4000) -> pd.Series:
    """Permutation importance of the final estimator on already featurized rows (RMSE increase)."""
    from sklearn.inspection import permutation_importance

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(features), size=min(max_rows, len(features)), replace=False)
    result = permutation_importance(
        model,
        features.iloc[rows],
        np.asarray(target)[rows],
        scoring="neg_root_mean_squared_error",
        n_repeats=3,
        random_state=seed,
    )
    return pd.Series(result.importances_mean, index=features.columns)
