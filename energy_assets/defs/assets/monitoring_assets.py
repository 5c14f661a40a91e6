"""Monitoring assets: each month's drift against the training reference, and the proof the monitor works.

`drift_report` is partitioned by month, so every monitored month keeps its table (Parquet) and
every run its materialization: the drift history is the asset's history in the catalog. The
month's whole verdict is also written beside the table as JSON (energy_assets.monitoring.reports).
`drift_simulation` applies known shifts to a copy of a real month (one partition per scenario)
and records whether the same computation detected each one. `forecast_anomalies` keeps each
month's intervals whose actual usage fell outside the champion forecaster's 95 % band.
"""

import dagster as dg
import mlflow
import pandas as pd
from pydantic import Field

from energy_assets.defs.partitions import monthly_partitions
from energy_assets.defs.resources import AssetStore, ModelRegistry
from energy_assets.gating.champion import champion_version
from energy_assets.monitoring import anomalies, drift, reports, shifts
from energy_assets.monitoring.champions import load_champion
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME
from energy_assets.training.evaluation import HOLDOUT_START
from energy_assets.training.models import ForecasterParams

REFERENCE_LABEL = "the training months (train_readings, Jan-Sep 2018)"
scenario_partitions = dg.StaticPartitionsDefinition(list(shifts.SCENARIOS))


class DriftConfig(dg.Config):
    psi: float = Field(default=drift.DriftThresholds.psi, description="PSI above this is drift.")
    ks_statistic: float = Field(
        default=drift.DriftThresholds.ks_statistic,
        description="KS statistic above this (and p below ks_pvalue) is drift.",
    )
    ks_pvalue: float = Field(default=drift.DriftThresholds.ks_pvalue)
    out_of_range_share: float = Field(
        default=drift.DriftThresholds.out_of_range_share,
        description="Share of a month outside the reference range above this is drift.",
    )
    rmse_quantile: float = Field(
        default=drift.DriftThresholds.rmse_quantile,
        description=(
            "A model's month RMSE above this quantile of same-length months resampled from its holdout days is "
            "beyond noise."
        ),
    )
    rmse_floor_share: float = Field(
        default=drift.DriftThresholds.rmse_floor_share,
        description="An RMSE increase below this share of the mean usage per interval is never drift.",
    )

    def thresholds(self) -> drift.DriftThresholds:
        try:
            return drift.DriftThresholds.from_mapping(
                self.model_dump(include=set(drift.DriftThresholds.__dataclass_fields__)), "config"
            )
        except ValueError as error:
            raise dg.Failure(str(error)) from error


class SimulationConfig(DriftConfig):
    month: str = Field(
        default=shifts.CONTROL_MONTH,
        description="The real month (YYYY-MM, a clean_readings partition) the shifts are applied to.",
    )


def _champions(registry: ModelRegistry) -> tuple[drift.ChampionModel | None, drift.ChampionModel | None]:
    client = registry.client()
    return load_champion(client, ESTIMATOR_MODEL_NAME), load_champion(client, FORECASTER_MODEL_NAME)


def _month_and_history(readings: pd.DataFrame, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        return drift.month_and_history(readings, month)
    except ValueError as error:
        raise dg.Failure(str(error)) from error


def _metadata(report: drift.DriftReport) -> dict:
    return {
        "drifted": report.drifted,
        "reasons": dg.MetadataValue.json(report.reasons),
        "max_psi": max(c.psi for c in report.columns),
        "rows": report.rows,
        "report": dg.MetadataValue.md(report.markdown()),
        "summary": dg.MetadataValue.json(report.to_dict()),
        "thresholds": dg.MetadataValue.json(report.threshold_summary()),
    }


@dg.asset(
    group_name="monitoring",
    kinds={"pandas", "parquet"},
    partitions_def=monthly_partitions,
    ins={"clean_readings": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    description="One month's drift against the training months: PSI and KS per feature, target and champion "
    "predictions, and each champion's RMSE on the month against the noise limit of its own holdout error.",
)
def drift_report(
    context: dg.AssetExecutionContext,
    config: DriftConfig,
    model_registry: ModelRegistry,
    asset_store: AssetStore,
    train_readings: pd.DataFrame,
    clean_readings: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    month = context.partition_key
    recent, history = _month_and_history(clean_readings, month)
    estimator, forecaster = _champions(model_registry)
    report = drift.build_report(
        month,
        train_readings,
        recent,
        config.thresholds(),
        history=history,
        estimator=estimator,
        forecaster=forecaster,
        reference_label=REFERENCE_LABEL,
    )
    context.log.info(("DRIFT: " + "; ".join(report.reasons)) if report.drifted else f"{month}: no drift")
    # the whole verdict beside the table, for readers without Dagster (the API's /model/monitoring)
    reports.write_summary(asset_store.root(), report, run_id=context.run_id)
    return dg.Output(report.table(), metadata=_metadata(report))


@dg.asset(
    group_name="monitoring",
    kinds={"pandas", "parquet"},
    partitions_def=scenario_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"clean_readings": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    description="Evidence for the monitor: known shifts (CO2 +50 %, Load_Type mix, outliers, usage level) of a real "
    "month, each of which must be detected, and the unshifted month, which must not be.",
)
def drift_simulation(
    context: dg.AssetExecutionContext,
    config: SimulationConfig,
    model_registry: ModelRegistry,
    train_readings: pd.DataFrame,
    clean_readings: pd.DataFrame,
) -> dg.Output[dict[str, pd.DataFrame]]:
    recent, history = _month_and_history(clean_readings, config.month)
    estimator, forecaster = _champions(model_registry)
    tables, evidence, reports = {}, {}, {}
    for scenario in context.partition_keys:
        report = drift.build_report(
            f"{config.month} ({scenario})",
            train_readings,
            shifts.SCENARIOS[scenario].shift(recent),
            config.thresholds(),
            history=history,
            estimator=estimator,
            forecaster=forecaster,
            reference_label=REFERENCE_LABEL,
        )
        tables[scenario], evidence[scenario], reports[scenario] = (
            report.table(),
            shifts.evidence(scenario, report),
            report,
        )
    everything_as_expected = all(e["as_expected"] for e in evidence.values())
    context.log.info(
        f"simulation on {config.month}: {'every scenario as expected' if everything_as_expected else evidence}"
    )
    # every scenario is the same month judged by the same champions: one set of limits
    thresholds = next(iter(reports.values())).threshold_summary()
    return dg.Output(
        tables,
        metadata={
            "month": config.month,
            "all_as_expected": everything_as_expected,
            "evidence": dg.MetadataValue.json(evidence),
            "thresholds": dg.MetadataValue.json(thresholds),
            "report": dg.MetadataValue.md("\n\n".join(r.markdown() for r in reports.values())),
        },
    )


class AnomalyConfig(dg.Config):
    window_days: int = Field(
        default=42, description="Days of readings before the month handed to the forecaster as history (>= 28)."
    )


@dg.asset(
    group_name="monitoring",
    kinds={"pandas", "parquet"},
    partitions_def=monthly_partitions,
    ins={"clean_readings": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    description="One month's intervals whose actual usage lies outside the champion forecaster's 95 % band "
    "(below p025 or above p975), largest excess first.",
)
def forecast_anomalies(
    context: dg.AssetExecutionContext,
    config: AnomalyConfig,
    model_registry: ModelRegistry,
    clean_readings: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    month = context.partition_key
    if config.window_days < ForecasterParams.history_days:
        raise dg.Failure(
            f"config 'window_days' is {config.window_days}; the forecaster needs at least "
            f"{ForecasterParams.history_days}"
        )
    client = model_registry.client()
    version = champion_version(client, FORECASTER_MODEL_NAME)
    if version is None:
        raise dg.Failure(
            f"{FORECASTER_MODEL_NAME} has no champion yet: materialize day_ahead_forecaster_champion first"
        )
    # Through the registry's client: a `models:/` URI would consult MLflow's process-wide tracking URI.
    source = client.get_model_version_download_uri(FORECASTER_MODEL_NAME, str(version.version))
    forecaster = mlflow.sklearn.load_model(
        mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=client.tracking_uri)
    )
    if not hasattr(forecaster.named_steps["regressor"], "predict_quantiles"):
        raise dg.Failure(f"{FORECASTER_MODEL_NAME} v{version.version} has no forecast bands (predict_quantiles)")
    try:
        scan = anomalies.scan_month(
            forecaster, clean_readings, month, ForecasterParams.history_days, config.window_days
        )
    except anomalies.AnomalyInputError as error:
        raise dg.Failure(f"partition {month}: {error}") from None
    summary = scan.summary()
    in_sample = pd.Timestamp(f"{month}-01") < HOLDOUT_START
    context.log.info(
        f"{month}: {summary['anomalies']} of {summary['intervals']} intervals outside the 95 % band "
        f"({summary['share']:.1%}, expected about {summary['expected_share']:.0%})"
    )
    return dg.Output(
        scan.anomalies,
        metadata={
            **{k: v for k, v in summary.items() if k != "month"},
            "forecaster": f"models:/{FORECASTER_MODEL_NAME}/{version.version}",
            # Months the forecaster was trained on are scanned in-sample: fewer anomalies than out of sample.
            "in_training_period": bool(in_sample),
            "largest": dg.MetadataValue.md(
                scan.anomalies.head(10).to_markdown(index=False) if len(scan.anomalies) else "none"
            ),
        },
    )
