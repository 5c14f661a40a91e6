"""Monthly partitions of the clean readings: a month found in the raw source becomes a partition."""

import dagster as dg

MONTHS = "month"
monthly_partitions = dg.DynamicPartitionsDefinition(name=MONTHS)


def register_months(instance: dg.DagsterInstance, months) -> list[str]:
    """Add the months not yet known as partitions; return the new ones."""
    known = set(instance.get_dynamic_partitions(MONTHS))
    new = sorted(set(months) - known)
    if new:
        instance.add_dynamic_partitions(MONTHS, new)
    return new
