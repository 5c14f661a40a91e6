"""The Dagster code location: every asset, check, job and resource of the energy platform."""

import dagster as dg

from energy_assets.defs import asset_checks
from energy_assets.defs.assets import anomaly_assets, copilot_assets, data_assets, model_assets, monitoring_assets
from energy_assets.defs.flow_jobs import FLOW_JOBS
from energy_assets.defs.jobs import JOBS
from energy_assets.defs.resources import ParquetIOManager, mlflow_resource

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([data_assets, model_assets, monitoring_assets, copilot_assets, anomaly_assets]),
    asset_checks=dg.load_asset_checks_from_modules([asset_checks]),
    jobs=[*JOBS, *FLOW_JOBS],
    resources={"io_manager": ParquetIOManager(), "mlflow": mlflow_resource()},
    # One process per run: the graph is small, and steps sharing a process skip ~2 s of imports each.
    executor=dg.in_process_executor,
)
