"""Drift statistics: PSI and the two-sample KS test per column, and the verdict against thresholds.

Free of Dagster and Prefect: the `drift_report` and `drift_simulation` assets call it.

- PSI (population stability index) compares binned shares: bins are the reference's deciles for
  numeric columns (edges deduplicated, so zero-heavy columns such as CO2 keep a bin of their own,
  and the outer bins are open so new extremes still count) and the categories for categorical
  ones. Shares are floored at 1e-4 so an empty bin gives a large but finite term.
- KS is scipy's two-sample test on the raw values; with thousands of rows the p-value flags
  differences nobody would act on, so drift needs the statistic above its own threshold too.
- Out-of-range share: the part of a month outside the reference's [min, max], which catches
  injected outliers that PSI (a few percent more in the top bin) barely notices.
- Performance: each champion's RMSE on the month against the noise limit of its own holdout
  error and an absolute floor (energy_assets.monitoring.performance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd
from scipy import stats

from energy_assets import schema
from energy_assets.ingest.validation import month_of
from energy_assets.monitoring.performance import ErrorDrift, ErrorReference, judge

# Every input of the models but the timestamp (nsm and the calendar columns included: a changed
# schedule shows there first).
FEATURES: tuple[str, ...] = tuple(c for c in schema.ESTIMATOR_INPUT_COLUMNS if c != schema.TIMESTAMP)
PSI_FLOOR = 1e-4
DECILES = np.linspace(0.1, 0.9, 9)
HISTORY_DAYS = 35  # the forecaster needs 28 whole days before a day; a few more cover the month start


@dataclass(frozen=True)
class DriftThresholds:
    """Where drift starts. Each value is a config key of the `drift_report` asset and the monitor flow."""

    psi: float = 0.2  # PSI above this: the column's distribution moved
    ks_statistic: float = 0.2  # KS statistic above this (with p below ks_pvalue): moved
    ks_pvalue: float = 0.01
    out_of_range_share: float = 0.01  # more than 1 % of a month outside the reference range
    # performance (energy_assets.monitoring.performance): a month's RMSE above the rmse_quantile of
    # the RMSE of same-length months resampled from the model's holdout days, and above the
    # holdout RMSE by more than rmse_floor_share of the mean usage
    rmse_quantile: float = 0.99
    rmse_floor_share: float = 0.005

    def __post_init__(self) -> None:
        for name in ("psi", "ks_statistic", "out_of_range_share", "rmse_floor_share"):
            if not 0 <= getattr(self, name) < float("inf"):
                raise ValueError(f"drift threshold '{name}' must be a number >= 0, got {getattr(self, name)!r}")
        for name in ("ks_pvalue", "rmse_quantile"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(
                    f"drift threshold '{name}' must be between 0 and 1 (exclusive), got {getattr(self, name)!r}"
                )

    @classmethod
    def from_mapping(cls, values: Mapping | None, source: str = "thresholds") -> DriftThresholds:
        """From a flow parameter or config mapping; an unknown key is an error that names it."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values or {}) - set(known))
        if unknown:
            raise ValueError(f"{source}: unknown drift threshold {unknown}; known: {known}")
        return cls(**(values or {}))


@dataclass
class ColumnDrift:
    column: str
    kind: str  # "feature", "target" or "prediction"
    psi: float
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    out_of_range_share: float | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.reasons)


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return np.maximum(counts / total if total else counts.astype(float), PSI_FLOOR)


def psi(reference: pd.Series, current: pd.Series) -> float:
    """Population stability index of `current` against `reference` (0: same shares)."""
    if reference.dtype == object or isinstance(reference.dtype, pd.CategoricalDtype):
        categories = sorted(set(reference.dropna().astype(str)) | set(current.dropna().astype(str)))
        ref = reference.astype(str).value_counts().reindex(categories, fill_value=0).to_numpy()
        cur = current.astype(str).value_counts().reindex(categories, fill_value=0).to_numpy()
    else:
        ref_values = reference.dropna().to_numpy(dtype=float)
        cur_values = current.dropna().to_numpy(dtype=float)
        inner = np.unique(np.quantile(ref_values, DECILES))
        ref, cur = _binned(ref_values, inner), _binned(cur_values, inner)
    expected, actual = _shares(ref), _shares(cur)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _binned(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts per bin (-inf, e1], (e1, e2], ..., (ek, inf): right-closed, so a zero-heavy column
    keeps all its zeros in the first bin."""
    index = np.searchsorted(inner_edges, values, side="left")
    return np.bincount(index, minlength=len(inner_edges) + 1)


def compare_column(reference: pd.Series, current: pd.Series, kind: str, thresholds: DriftThresholds) -> ColumnDrift:
    value = psi(reference, current)
    result = ColumnDrift(column=str(reference.name), kind=kind, psi=value)
    if value > thresholds.psi:
        result.reasons.append(f"PSI {value:.3f} > {thresholds.psi}")
    if reference.dtype != object:
        ref, cur = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
        ks = stats.ks_2samp(ref, cur)
        result.ks_statistic, result.ks_pvalue = float(ks.statistic), float(ks.pvalue)
        if ks.statistic > thresholds.ks_statistic and ks.pvalue < thresholds.ks_pvalue:
            result.reasons.append(f"KS {ks.statistic:.3f} > {thresholds.ks_statistic} (p={ks.pvalue:.1e})")
        outside = float(np.mean((cur < ref.min()) | (cur > ref.max()))) if len(cur) else 0.0
        result.out_of_range_share = outside
        if outside > thresholds.out_of_range_share:
            result.reasons.append(
                f"{outside:.1%} of values outside the reference range [{ref.min():g}, {ref.max():g}] "
                f"(> {thresholds.out_of_range_share:.0%})"
            )
    return result


@dataclass
class DriftReport:
    month: str
    reference: str
    rows: int
    reference_rows: int
    columns: list[ColumnDrift]
    errors: list[ErrorDrift]
    thresholds: DriftThresholds

    @property
    def feature_drifted(self) -> bool:
        """A feature, target or prediction rule (PSI, KS, out of range) fired."""
        return any(c.drifted for c in self.columns)

    @property
    def performance_drifted(self) -> list[str]:
        """The models whose error is beyond their limit."""
        return [e.model for e in self.errors if e.drifted]

    @property
    def drifted(self) -> bool:
        return self.feature_drifted or bool(self.performance_drifted)

    @property
    def reasons(self) -> list[str]:
        found = [f"{c.kind} {c.column}: {r}" for c in self.columns for r in c.reasons]
        return found + [e.reason for e in self.errors if e.drifted]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "column": c.column,
                    "kind": c.kind,
                    "psi": round(c.psi, 4),
                    "ks_statistic": None if c.ks_statistic is None else round(c.ks_statistic, 4),
                    "ks_pvalue": c.ks_pvalue,
                    "out_of_range_share": c.out_of_range_share,
                    "drifted": c.drifted,
                }
                for c in self.columns
            ]
        )

    def threshold_summary(self) -> dict:
        """Every threshold the verdict used: the configured ones and each model's RMSE limit for this month."""
        return {
            **asdict(self.thresholds),
            "rmse_limits": {
                e.model: {k: e.to_dict()[k] for k in ("holdout_rmse", "days", "noise_limit", "floor_kwh", "limit")}
                for e in self.errors
            },
        }

    def to_dict(self) -> dict:
        return {
            "month": self.month,
            "reference": self.reference,
            "rows": self.rows,
            "reference_rows": self.reference_rows,
            "drifted": self.drifted,
            "reasons": self.reasons,
            "columns": [{**asdict(c), "drifted": c.drifted} for c in self.columns],
            "errors": [e.to_dict() for e in self.errors],
            "thresholds": self.threshold_summary(),
        }

    def threshold_lines(self) -> list[str]:
        t = self.thresholds
        lines = [
            (
                f"Thresholds: PSI > {t.psi}, KS statistic > {t.ks_statistic} with p < {t.ks_pvalue}, out of reference "
                f"range > {t.out_of_range_share:.0%}; a model's RMSE above the {t.rmse_quantile:.1%} quantile of "
                "same-length months of its holdout error and above its holdout RMSE + "
                f"{t.rmse_floor_share:.1%} of mean "
                "usage."
            )
        ]
        if self.errors:
            lines += [
                "",
                "| model | holdout RMSE | month RMSE | change | days | noise limit | floor (kWh) | limit | drift |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            ]
            lines += [
                f"| {e.model} | {e.holdout_rmse:.3f} | {e.recent_rmse:.3f} | {e.degradation:+.1%} | {e.days} | "
                f"{e.noise_limit:.3f} | {e.floor_kwh:.3f} | {e.limit:.3f} | {'yes' if e.drifted else ''} |"
                for e in self.errors
            ]
        return lines

    def markdown(self) -> str:
        verdict = "**DRIFT**" if self.drifted else "no drift"
        lines = [
            f"### Drift of {self.month} against {self.reference}: {verdict}",
            "",
            f"{self.rows:,} rows against {self.reference_rows:,} reference rows.",
            "",
            *self.threshold_lines(),
            "",
            "| column | kind | PSI | KS statistic | KS p-value | out of range | drift |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for c in self.columns:
            ks = "" if c.ks_statistic is None else f"{c.ks_statistic:.3f}"
            p = "" if c.ks_pvalue is None else f"{c.ks_pvalue:.1e}"
            oor = "" if c.out_of_range_share is None else f"{c.out_of_range_share:.2%}"
            lines.append(f"| {c.column} | {c.kind} | {c.psi:.3f} | {ks} | {p} | {oor} | {'yes' if c.drifted else ''} |")
        if self.reasons:
            lines += ["", "Reasons:", *[f"- {r}" for r in self.reasons]]
        return "\n".join(lines)


def thresholds_markdown(summary: dict) -> list[str]:
    """Markdown of a verdict's thresholds as the assets record them (`DriftReport.threshold_summary`)."""
    configured = {k: v for k, v in summary.items() if k != "rmse_limits"}
    lines = ["Thresholds: " + ", ".join(f"`{k}` = {v}" for k, v in configured.items()), ""]
    limits = summary.get("rmse_limits", {})
    if limits:
        lines += [
            "| model | holdout RMSE | days | noise limit | floor (kWh) | RMSE limit |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            (
                f"| {model} | {x['holdout_rmse']:.3f} | {x['days']} | {x['noise_limit']:.3f} | "
                f"{x['floor_kwh']:.3f} | {x['limit']:.3f} |"
            )
            for model, x in limits.items()
        ]
    return lines


@dataclass(frozen=True)
class ChampionModel:
    """A champion to judge on the recent month: its predict function and its error on the holdout, per day."""

    name: str
    version: str
    predict: Callable[[pd.DataFrame], object]  # -> array of predictions
    errors: ErrorReference

    @property
    def holdout_rmse(self) -> float:
        return self.errors.rmse


def month_and_history(
    readings: pd.DataFrame, month: str, history_days: int = HISTORY_DAYS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The readings of `month` (YYYY-MM) and those of the `history_days` days before it."""
    months = month_of(readings[schema.TIMESTAMP]).to_numpy()
    recent = readings[months == month].reset_index(drop=True)
    if recent.empty:
        raise ValueError(
            f"month {month!r}: no clean readings (config 'month' / partition key must name a clean_readings partition)"
        )
    start = schema.interval_day(recent[schema.TIMESTAMP]).min()
    days = schema.interval_day(readings[schema.TIMESTAMP])
    history = readings[((days < start) & (days >= start - pd.Timedelta(days=history_days))).to_numpy()].reset_index(
        drop=True
    )
    return recent, history


def build_report(
    month: str,
    reference: pd.DataFrame,
    recent: pd.DataFrame,
    thresholds: DriftThresholds,
    *,
    history: pd.DataFrame | None = None,
    estimator: ChampionModel | None = None,
    forecaster: ChampionModel | None = None,
    reference_label: str = "the training months",
) -> DriftReport:
    """Feature, target and prediction drift of `recent` against `reference`, and the champions' recent error.

    `history` (clean readings before the month) lets the day-ahead forecaster see the weeks it needs.
    """
    columns = [compare_column(reference[c], recent[c], "feature", thresholds) for c in FEATURES]
    columns.append(compare_column(reference[schema.TARGET], recent[schema.TARGET], "target", thresholds))
    errors: list[ErrorDrift] = []
    has_actuals = recent[schema.TARGET].notna().any()
    if estimator is not None:
        inputs = list(schema.ESTIMATOR_INPUT_COLUMNS)
        before = pd.Series(np.asarray(estimator.predict(reference[inputs]), float), name=f"{estimator.name} prediction")
        after = pd.Series(np.asarray(estimator.predict(recent[inputs]), float), name=f"{estimator.name} prediction")
        columns.append(compare_column(before, after, "prediction", thresholds))
        if has_actuals:
            errors.append(
                judge(
                    estimator.errors,
                    recent[schema.TARGET],
                    after,
                    thresholds.rmse_quantile,
                    thresholds.rmse_floor_share,
                )
            )
    if forecaster is not None and has_actuals and history is not None and len(history):
        frame = pd.concat([history, recent], ignore_index=True)[list(schema.COLUMNS)]
        predicted = np.asarray(forecaster.predict(frame), float)[len(history) :]
        errors.append(
            judge(
                forecaster.errors,
                recent[schema.TARGET],
                predicted,
                thresholds.rmse_quantile,
                thresholds.rmse_floor_share,
            )
        )
    return DriftReport(
        month=month,
        reference=reference_label,
        rows=len(recent),
        reference_rows=len(reference),
        columns=columns,
        errors=errors,
        thresholds=thresholds,
    )
