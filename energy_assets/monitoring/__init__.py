"""Monitoring: what the served models and the readings look like once deployed (no Dagster or Prefect here)."""
