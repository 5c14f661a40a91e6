"""Jobs. Every job carries dagster-mlflow's hook so no MLflow run outlives its Dagster run."""

import dagster as dg
from dagster_mlflow import end_mlflow_on_run_finished

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

JOBS = [energy_pipeline, ingest_month, retrain_models]
