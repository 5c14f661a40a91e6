"""Flow `simulate_drift`: proof that the monitor works, on shifted copies of a real month.

The `drift_simulation` asset applies each known shift (CO2 +50 %, Load_Type mix, injected outliers)
to a copy of the month and runs the monitor's computation with the same thresholds; every shift
must be detected and the unshifted month must not be. The flow fails when one is not as expected,
and its artifact is the evidence either way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from prefect import flow

from energy_assets.defs.assets.monitoring_assets import scenario_partitions
from energy_assets.flows import dagster_runs
from energy_assets.flows.drift import DriftThresholds
from energy_assets.flows.tasks import notify_failure, publish, require_success, run_dagster_job, run_line

JOB = "simulate_drift"
DEFAULT_MONTH = "2018-11"


class MonitorNotProven(AssertionError):
    """A known shift went undetected, or the unshifted month was flagged."""


@dataclass
class SimulationOutcome:
    month: str
    run_id: str
    run_url: str
    evidence: dict  # scenario -> {expected_drift, detected, as_expected, reasons}


@flow(name="simulate_drift", log_prints=True)
def simulate_drift(month: str = DEFAULT_MONTH, thresholds: dict | None = None) -> SimulationOutcome:
    try:
        config = {**asdict(DriftThresholds(**(thresholds or {}))), "month": month}
        tags = dagster_runs.partition_tags(scenario_partitions.get_partition_keys())
        run = require_success(run_dagster_job(JOB, {"ops": {"drift_simulation": {"config": config}}}, tags))
        metadata = run.metadata_of("drift_simulation")
        evidence = dict(metadata["evidence"])
        rows = [
            f"| {name} | {'yes' if e['expected_drift'] else 'no'} | {'yes' if e['detected'] else 'no'} | "
            f"{'✅' if e['as_expected'] else '❌'} | {'; '.join(e['reasons'][:4])} |"
            for name, e in evidence.items()
        ]
        markdown = "\n".join(
            [f"### Drift simulation on {month}", "", run_line(run), "",
             "| scenario | drift expected | detected | as expected | first reasons |", "|---|---|---|---|---|", *rows,
             "", "<details><summary>full reports</summary>", "", str(metadata["report"]), "", "</details>"]
        )
        publish("drift-simulation", markdown, "known shifts and whether the monitor detected them")
        wrong = [name for name, e in evidence.items() if not e["as_expected"]]
        if wrong:
            raise MonitorNotProven(f"simulation on {month}: not as expected for {wrong}: " + str({n: evidence[n] for n in wrong}))
    except Exception as error:
        notify_failure("simulate_drift", error)
        raise
    print(f"simulation on {month}: every scenario as expected ({run.url})")
    return SimulationOutcome(month, run.run_id, run.url, evidence)


if __name__ == "__main__":
    simulate_drift()
