"""The copilot: tariff (a data file), cost engine, what-if scenarios, schedule optimization and explanations of past
days.

Free of Dagster and Prefect: the API image imports it. Callers use `service` (plain inputs,
JSON-able answers that carry the tariff version) and `explain`; the other modules hold the computations.
"""
