"""The prediction service: FastAPI over the champion models in the MLflow registry (see docs/api.md).

Free of Dagster and Prefect: the serving image installs only the project's base dependencies.
"""
