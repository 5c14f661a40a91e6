#!/bin/sh
# Platform containers: write DAGSTER_HOME/dagster.yaml for ENERGY_PROFILE (storage, run coordinator)
# from the environment through the one settings module, then run the container's command.
set -eu
python -m energy_assets.startup dagster-home >/dev/null
exec "$@"
