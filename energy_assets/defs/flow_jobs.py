"""Jobs the operational flows launch besides ingest_month and retrain_models."""

import dagster as dg
from dagster_mlflow import end_mlflow_on_run_finished

from energy_assets.defs.assets.monitoring_assets import scenario_partitions
from energy_assets.defs.partitions import monthly_partitions

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

FLOW_JOBS = [monitor_drift, simulate_drift, verify_models, detect_anomalies]
