"""Preloaded by every Celery worker's main process (`dagster-celery worker start -i` this module).

The worker forks one pool process per step (`--max-tasks-per-child 1`, see energy_assets/workers.py).
Loading the code location here, before the fork, means each step starts with the definitions
imported, every job resolved (cached on the repository a step's pointer resolves to) and the
modules a step's pointer loading imports already imported, instead of spending that (seconds
each, tens of seconds on a busy 2-core machine) on every step.
"""

from energy_assets.definitions import defs
from energy_assets.defs.execution import recon_job

_jobs = defs.get_repository_def().get_all_jobs()
recon_job(_jobs[0].name).get_definition()
