"""Anomaly assets: each month's intervals whose actual usage fell outside the champion forecaster's 95 % band."""

import dagster as dg
import mlflow
import pandas as pd
from pydantic import Field

from energy_assets.defs.partitions import monthly_partitions
from energy_assets.defs.resources import ModelRegistry
from energy_assets.gating.champion import champion_version
from energy_assets.monitoring import anomalies
from energy_assets.settings import FORECASTER_MODEL_NAME
from energy_assets.training.evaluation import HOLDOUT_START
from energy_assets.training.models import ForecasterParams


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
    forecaster = mlflow.sklearn.load_model(f"models:/{FORECASTER_MODEL_NAME}/{version.version}")
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
