"""The Dagster code location: every asset, check, job and resource of the energy platform."""

import dagster as dg

from energy_assets import startup
from energy_assets.defs import asset_checks
from energy_assets.defs.assets import copilot_assets, data_assets, model_assets, monitoring_assets
from energy_assets.defs.execution import executor_def
from energy_assets.defs.jobs import JOBS
from energy_assets.defs.resources import resources
from energy_assets.defs.sensors import SENSORS

# Every process that loads the code location (webserver, daemon, code server, run and Celery
# workers, `make pipeline`) starts here: telemetry off unless the environment says otherwise.
startup.telemetry_off()

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([data_assets, model_assets, monitoring_assets, copilot_assets]),
    asset_checks=dg.load_asset_checks_from_modules([asset_checks]),
    jobs=JOBS,
    sensors=SENSORS,
    # Typed resources (defs/resources.py): every asset, check and sensor names in its signature what
    # it touches; their empty fields resolve from energy_assets.settings when used.
    resources=resources(),
    # ENERGY_EXECUTOR: in-process by default (one process per run: the graph is small, and steps
    # sharing a process skip ~2 s of imports each), or each step a task on dagster-celery workers.
    executor=executor_def(),
)
