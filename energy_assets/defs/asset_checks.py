"""Asset checks. The blocking ones stop every downstream asset of a run when clean data is wrong."""

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from energy_assets import schema
from energy_assets.defs.assets.data_assets import clean_readings, rejected_readings
from energy_assets.defs.assets.model_assets import day_ahead_forecaster, usage_estimator
from energy_assets.defs.resources import ModelRegistry
from energy_assets.gating.champion import decide
from energy_assets.ingest import continuity
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME

MAX_REJECTED_SHARE = 0.01
MAX_LISTED = 50  # at most this many offending rows or gaps listed in a check's metadata


def _result(problems: list[str], **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems[:5]) if problems else None,
        metadata={"problems": dg.MetadataValue.json(problems[:MAX_LISTED]), "problem_count": len(problems), **metadata},
    )


def _blocking(name: str, description: str):
    return dg.asset_check(asset=clean_readings, name=name, description=description, blocking=True)


@_blocking("check_schema", "Canonical columns and dtypes, as defined in energy_assets.schema.")
def check_schema(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    return _result(schema.schema_problems(clean_readings), columns=list(clean_readings.columns))


@_blocking("check_no_nulls", "No missing value in any column.")
def check_no_nulls(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    nulls = clean_readings.isna().sum()
    return _result([f"{col}: {int(n)} nulls" for col, n in nulls.items() if n], rows=len(clean_readings))


@_blocking(
    "check_ranges", "Values inside the schema's ranges (power factors 0-100, energies >= 0) and NSM on the 900 s grid."
)
def check_ranges(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    problems = []
    for name, field in schema.NUMERIC.items():
        values = clean_readings[name]
        bad = values[(values < field.minimum) | (values > field.maximum)]
        if len(bad):
            problems.append(
                f"{name}: {len(bad)} values outside [{field.minimum:g}, {field.maximum:g}], e.g. {bad.iloc[0]}"
            )
    off_grid = int((clean_readings["nsm"] % schema.NSM_STEP_SECONDS != 0).sum())
    if off_grid:
        problems.append(f"nsm: {off_grid} values off the {schema.NSM_STEP_SECONDS} s grid")
    return _result(problems)


class ContinuityConfig(dg.Config):
    max_missing_share: float = Field(
        default=continuity.MAX_MISSING_SHARE, description="Largest share of a month's intervals that may be missing."
    )
    max_gap_hours: float = Field(
        default=continuity.MAX_GAP / pd.Timedelta(hours=1),
        description="Longest gap (hours) allowed between two readings.",
    )


@_blocking(
    "check_continuity",
    f"Gaps within limits: no month misses more than {continuity.MAX_MISSING_SHARE:.0%} of its intervals and no gap "
    f"is longer than {continuity.MAX_GAP} (run config: max_missing_share, max_gap_hours). check_gaps lists every gap.",
)
def check_continuity(config: ContinuityConfig, clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    problems, gaps, months = continuity.continuity_problems(
        clean_readings[schema.TIMESTAMP], config.max_missing_share, pd.Timedelta(hours=config.max_gap_hours)
    )
    ts = clean_readings[schema.TIMESTAMP]
    return _result(
        problems,
        first=str(ts.min()),
        last=str(ts.max()),
        gaps=len(gaps),
        longest_gap_intervals=max((g.missing for g in gaps), default=0),
        max_missing_share=config.max_missing_share,
        max_gap_hours=config.max_gap_hours,
        missing_per_month=dg.MetadataValue.json({r.month: int(r.missing) for r in months.itertuples()}),
    )


@dg.asset_check(
    asset=clean_readings,
    description="Lists every gap in the 15-minute series (a warning: gaps within limits do not block).",
)
def check_gaps(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    ts = clean_readings[schema.TIMESTAMP]
    gaps = continuity.gaps_between(ts)
    missing = sum(g.missing for g in gaps)
    return dg.AssetCheckResult(
        passed=not gaps,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(gaps)} gaps, {missing} intervals missing" + (f": {gaps[0].describe()} ..." if gaps else ""),
        metadata={
            "gaps": dg.MetadataValue.json([g.describe() for g in gaps]),
            "gap_count": len(gaps),
            "missing_intervals": missing,
            "expected_intervals": continuity.expected_intervals(ts.min(), ts.max()) if len(ts) else 0,
            "found_intervals": len(ts),
        },
    )


@_blocking("check_unique_timestamps", "No interval appears twice.")
def check_unique_timestamps(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    dupes = clean_readings[schema.TIMESTAMP][clean_readings[schema.TIMESTAMP].duplicated()]
    return _result([f"duplicate timestamp {t}" for t in dupes.unique()])


@_blocking("check_category_domains", "week_status, day_of_week and load_type only take the schema's values.")
def check_category_domains(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    problems = []
    for name, allowed in schema.CATEGORIES.items():
        unknown = sorted(set(clean_readings[name].unique()) - set(allowed))
        if unknown:
            problems.append(f"{name}: unknown values {unknown} (allowed {list(allowed)})")
    return _result(problems)


@_blocking("check_day_of_week_consistent", "day_of_week, week_status and nsm agree with each interval's timestamp.")
def check_day_of_week_consistent(clean_readings: pd.DataFrame) -> dg.AssetCheckResult:
    expected = schema.calendar_columns(clean_readings[schema.TIMESTAMP])
    problems = []
    for name in ("day_of_week", "week_status", "nsm"):
        wrong = np.flatnonzero(clean_readings[name].to_numpy() != expected[name].to_numpy())
        problems += [
            (
                f"{clean_readings[schema.TIMESTAMP].iloc[i]}: {name}={clean_readings[name].iloc[i]!r}, expected "
                f"{expected[name].iloc[i]!r}"
            )
            for i in wrong[:MAX_LISTED]
        ]
    return _result(problems)


@dg.asset_check(
    asset=rejected_readings,
    additional_ins={"raw_readings": dg.AssetIn()},  # the same raw rows the rejected ones came from
    description=f"Warns when more than {MAX_REJECTED_SHARE:.0%} of raw rows are rejected.",
)
def check_rejected_share(rejected_readings: pd.DataFrame, raw_readings: pd.DataFrame) -> dg.AssetCheckResult:
    raw_rows = len(raw_readings)
    share = len(rejected_readings) / raw_rows if raw_rows else 0.0
    return dg.AssetCheckResult(
        passed=share <= MAX_REJECTED_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(rejected_readings)} of {raw_rows} raw rows rejected ({share:.2%})",
        metadata={"rejected_rows": len(rejected_readings), "raw_rows": raw_rows, "rejected_share": share},
    )


def _gate_result(registry: ModelRegistry, registered_name: str, candidate: dict) -> dg.AssetCheckResult:
    decision = decide(registry.client(), registered_name, candidate["version"], candidate["baseline_rmse"])
    return dg.AssetCheckResult(
        passed=decision.promote,
        severity=dg.AssetCheckSeverity.ERROR,
        description=decision.describe(),
        metadata={
            "decision": decision.outcome,
            "candidate_version": decision.candidate_version,
            "candidate_rmse": decision.candidate_rmse,
            "reference": decision.reference,
            "reference_rmse": decision.reference_rmse,
        },
    )


GATE_DESCRIPTION = (
    "Gate: the new version becomes champion only if its holdout RMSE beats the champion's "
    "(with no champion yet: the seasonal-naive baseline's)."
)


@dg.asset_check(asset=usage_estimator, blocking=True, description=GATE_DESCRIPTION)
def check_usage_estimator_beats_champion(usage_estimator: dict, model_registry: ModelRegistry) -> dg.AssetCheckResult:
    return _gate_result(model_registry, ESTIMATOR_MODEL_NAME, usage_estimator)


@dg.asset_check(asset=day_ahead_forecaster, blocking=True, description=GATE_DESCRIPTION)
def check_day_ahead_forecaster_beats_champion(
    day_ahead_forecaster: dict, model_registry: ModelRegistry
) -> dg.AssetCheckResult:
    return _gate_result(model_registry, FORECASTER_MODEL_NAME, day_ahead_forecaster)
