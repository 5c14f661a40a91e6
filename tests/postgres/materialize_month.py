"""Materialize one month of `clean_readings` (job ingest_month) on the DAGSTER_HOME instance.

`python tests/postgres/materialize_month.py MONTH BARRIER_DIR PEERS`: after the imports, waits until
PEERS processes reached the barrier, so the runs of several processes overlap in time; prints the
run id and outcome as JSON.
"""

import json
import sys
import time
from pathlib import Path

import dagster as dg

from energy_assets.definitions import defs
from energy_assets.settings import get_settings

month, barrier, peers = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
instance = dg.DagsterInstance.get()
job = defs.resolve_job_def("ingest_month")
(barrier / month).touch()
deadline = time.monotonic() + 120
while len(list(barrier.iterdir())) < peers:
    if time.monotonic() > deadline:
        sys.exit(f"only {len(list(barrier.iterdir()))} of {peers} processes reached the barrier")
    time.sleep(0.05)
result = job.execute_in_process(
    instance=instance,
    partition_key=month,
    run_config={"ops": {"raw_readings": {"config": {"path": str(get_settings().raw_source)}}}},
    raise_on_error=False,
)
failures = [
    f"{event.step_key}: {event.event_specific_data.error.message.strip()}"
    for event in result.all_events
    if event.is_step_failure and event.event_specific_data and event.event_specific_data.error
]
print(json.dumps({"month": month, "run_id": result.run_id, "success": result.success, "failures": failures}))
