"""Monitoring assets: each month's drift against the training reference, and the proof the monitor works.

`drift_report` is partitioned by month, so every monitored month keeps its table (Parquet) and
every run its materialization: the drift history is the asset's history in the catalog.
`drift_simulation` applies known shifts to a copy of a real month (one partition per scenario)
and records whether the same computation detected each one.
"""

import dagster as dg
import mlflow
import pandas as pd
from pydantic import Field

from energy_assets import lineage, schema
from energy_assets.defs.partitions import monthly_partitions
from energy_assets.flows import drift, shifts
from energy_assets.gating.champion import champion_version
from energy_assets.ingest.validation import month_of
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME, get_settings

REFERENCE_LABEL = "the training months (train_readings, Jan-Sep 2018)"
HISTORY_DAYS = 35  # the forecaster needs 28 whole days before a day; a few more cover the month start
scenario_partitions = dg.StaticPartitionsDefinition(list(shifts.SCENARIOS))


class DriftConfig(dg.Config):
    psi: float = Field(default=drift.DriftThresholds.psi, description="PSI above this is drift.")
    ks_statistic: float = Field(default=drift.DriftThresholds.ks_statistic, description="KS statistic above this (and p below ks_pvalue) is drift.")
    ks_pvalue: float = Field(default=drift.DriftThresholds.ks_pvalue)
    out_of_range_share: float = Field(default=drift.DriftThresholds.out_of_range_share, description="Share of a month outside the reference range above this is drift.")
    rmse_degradation: float = Field(default=drift.DriftThresholds.rmse_degradation, description="Recent RMSE above holdout RMSE x (1 + this) is drift.")

    def thresholds(self) -> drift.DriftThresholds:
        return drift.DriftThresholds(
            psi=self.psi, ks_statistic=self.ks_statistic, ks_pvalue=self.ks_pvalue,
            out_of_range_share=self.out_of_range_share, rmse_degradation=self.rmse_degradation,
        )


class SimulationConfig(DriftConfig):
    month: str = Field(default="2018-11", description="The real month (YYYY-MM, a clean_readings partition) the shifts are applied to.")


def _champion(name: str) -> drift.ChampionModel | None:
    client = mlflow.MlflowClient(get_settings().mlflow_tracking_uri)
    version = champion_version(client, name)
    if version is None:
        return None
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version.version}")
    return drift.ChampionModel(name, str(version.version), model.predict, float(version.tags[lineage.TAG_HOLDOUT_RMSE]))


def _month_and_history(readings: pd.DataFrame, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = month_of(readings[schema.TIMESTAMP]).to_numpy()
    recent = readings[months == month].reset_index(drop=True)
    if recent.empty:
        raise dg.Failure(f"month {month!r}: no clean readings (config 'month' / partition key must name a clean_readings partition)")
    start = schema.interval_day(recent[schema.TIMESTAMP]).min()
    days = schema.interval_day(readings[schema.TIMESTAMP])
    history = readings[((days < start) & (days >= start - pd.Timedelta(days=HISTORY_DAYS))).to_numpy()].reset_index(drop=True)
    return recent, history


def _report(month: str, reference: pd.DataFrame, recent: pd.DataFrame, history: pd.DataFrame, thresholds) -> drift.DriftReport:
    return drift.build_report(
        month, reference, recent, thresholds,
        history=history,
        estimator=_champion(ESTIMATOR_MODEL_NAME),
        forecaster=_champion(FORECASTER_MODEL_NAME),
        reference_label=REFERENCE_LABEL,
    )


def _metadata(report: drift.DriftReport) -> dict:
    return {
        "drifted": report.drifted,
        "reasons": dg.MetadataValue.json(report.reasons),
        "max_psi": max(c.psi for c in report.columns),
        "rows": report.rows,
        "report": dg.MetadataValue.md(report.markdown()),
        "summary": dg.MetadataValue.json(report.to_dict()),
    }


@dg.asset(
    group_name="monitoring",
    kinds={"pandas", "parquet"},
    partitions_def=monthly_partitions,
    ins={"clean_readings": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    description="One month's drift against the training months: PSI and KS per feature, target and champion "
    "predictions, and the champions' recent RMSE against their holdout RMSE.",
)
def drift_report(
    context: dg.AssetExecutionContext, config: DriftConfig, train_readings: pd.DataFrame, clean_readings: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    month = context.partition_key
    recent, history = _month_and_history(clean_readings, month)
    report = _report(month, train_readings, recent, history, config.thresholds())
    context.log.info(("DRIFT: " + "; ".join(report.reasons)) if report.drifted else f"{month}: no drift")
    return dg.Output(report.table(), metadata=_metadata(report))


@dg.asset(
    group_name="monitoring",
    kinds={"pandas", "parquet"},
    partitions_def=scenario_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"clean_readings": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    description="Evidence for the monitor: known shifts (CO2 +50 %, Load_Type mix, outliers) of a real month, "
    "each of which must be detected, and the unshifted month, which must not be.",
)
def drift_simulation(
    context: dg.AssetExecutionContext, config: SimulationConfig, train_readings: pd.DataFrame, clean_readings: pd.DataFrame
) -> dg.Output[dict[str, pd.DataFrame]]:
    recent, history = _month_and_history(clean_readings, config.month)
    estimator, forecaster = _champion(ESTIMATOR_MODEL_NAME), _champion(FORECASTER_MODEL_NAME)
    tables, evidence = {}, {}
    for scenario in context.partition_keys:
        shift, expected = shifts.SCENARIOS[scenario]
        report = drift.build_report(
            f"{config.month} ({scenario})", train_readings, shift(recent), config.thresholds(),
            history=history, estimator=estimator, forecaster=forecaster, reference_label=REFERENCE_LABEL,
        )
        tables[scenario] = report.table()
        evidence[scenario] = {
            "expected_drift": expected,
            "detected": report.drifted,
            "as_expected": report.drifted == expected,
            "reasons": report.reasons,
            "report": report.markdown(),
        }
    everything_as_expected = all(e["as_expected"] for e in evidence.values())
    context.log.info(f"simulation on {config.month}: {'every scenario as expected' if everything_as_expected else evidence}")
    return dg.Output(
        tables,
        metadata={
            "month": config.month,
            "all_as_expected": everything_as_expected,
            "evidence": dg.MetadataValue.json({k: {x: v[x] for x in ("expected_drift", "detected", "as_expected", "reasons")} for k, v in evidence.items()}),
            "report": dg.MetadataValue.md("\n\n".join(e["report"] for e in evidence.values())),
        },
    )
