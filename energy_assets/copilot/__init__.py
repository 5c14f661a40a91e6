"""The copilot: answers about cost, schedules and past days, computed from the data and the models (no Dagster or Prefect here)."""
