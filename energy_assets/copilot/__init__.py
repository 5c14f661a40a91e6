"""The copilot: tariff (a data file), cost engine, what-if scenarios and schedule optimization.

Free of Dagster and Prefect: the API image imports it. Callers use `service` (plain inputs,
JSON-able answers that carry the tariff version); the other modules hold the computations.
"""
