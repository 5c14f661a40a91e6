"""Jobs: the pipeline's, and those the operational flows launch. Every job that trains or registers
a model carries dagster-mlflow's hook so no MLflow run outlives its Dagster run."""

import dagster as dg
from dagster_mlflow import end_mlflow_on_run_finished

from energy_assets.defs.assets.monitoring_assets import scenario_partitions
from energy_assets.defs.partitions import monthly_partitions

# Everything from the raw export to the champions, in one run, so a failed blocking check on
# the clean data stops the models from training on it.
energy_pipeline = dg.define_asset_job(
    "energy_pipeline",
    # Monitoring assets are materialized by the flows (one month or one scenario per run).
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("monitoring"),
    partitions_def=monthly_partitions,
    hooks={end_mlflow_on_run_finished},
    description="Raw export -> checked monthly readings -> features and split -> models -> gated champions.",
)

# A new month: read the export and rebuild its clean partition(s), with their checks.
ingest_month = dg.define_asset_job(
    "ingest_month",
    selection=dg.AssetSelection.assets("raw_readings", "validated_readings", "rejected_readings", "clean_readings"),
    partitions_def=monthly_partitions,
    hooks={end_mlflow_on_run_finished},
    description="Reads the raw export and (re)builds the selected month partitions of the clean readings.",
)

# Retrain on the clean readings already stored, and let the gate decide.
retrain_models = dg.define_asset_job(
    "retrain_models",
    selection=dg.AssetSelection.groups("features", "models"),
    partitions_def=monthly_partitions,
    hooks={end_mlflow_on_run_finished},
    description="Features, split, both models and the champion gates, from the stored clean readings.",
)

# Jobs the operational flows launch besides ingest_month and retrain_models.
# One monitored month per run: the drift_report partition of that month.
monitor_drift = dg.define_asset_job(
    "monitor_drift",
    selection=dg.AssetSelection.assets("drift_report"),
    partitions_def=monthly_partitions,
    description="Drift of one month against the training months, with the champions' recent error.",
)

simulate_drift = dg.define_asset_job(
    "simulate_drift",
    selection=dg.AssetSelection.assets("drift_simulation"),
    partitions_def=scenario_partitions,
    description="Known shifts of a real month, each of which the monitor must detect (and the unshifted one not).",
)

# Rebuild features, split and both models without the gates or the champion assets: a
# reproduction registers versions for comparison but can never move the champion alias.
verify_models = dg.define_asset_job(
    "verify_models",
    selection=(
        dg.AssetSelection.groups("features") | dg.AssetSelection.assets("usage_estimator", "day_ahead_forecaster")
    ).without_checks(),
    partitions_def=monthly_partitions,
    hooks={end_mlflow_on_run_finished},
    description="Rebuilds both models from the stored clean readings, to compare with the registered champions.",
)

# One month per run: the forecast_anomalies partition of that month.
detect_anomalies = dg.define_asset_job(
    "detect_anomalies",
    selection=dg.AssetSelection.assets("forecast_anomalies"),
    partitions_def=monthly_partitions,
    description="The intervals of one month whose actual usage fell outside the champion forecaster's 95 % band.",
)

JOBS = [
    energy_pipeline,
    ingest_month,
    retrain_models,
    monitor_drift,
    simulate_drift,
    verify_models,
    detect_anomalies,
]
