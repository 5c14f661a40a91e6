"""How a flow drives Dagster: launch a job's run in the instance the UI shows, then read its outcome.

Two ways to launch, one way to read:
- embedded (default): the job executes in this process against `DagsterInstance.get()` under
  ENERGY_HOME, the same instance `make run`'s Dagster UI reads;
- webserver: with env ENERGY_DAGSTER_URL (e.g. http://127.0.0.1:3000) the run is submitted through
  dagster-graphql with its asset selection and partition tags, and the flow polls it to the end.
Either way the outcome (status, check evaluations, materializations, step errors) is read from
the instance's event log by run id, so both paths report the same thing. A webserver must
therefore share the instance storage (true for `make run` and for the PostgreSQL profile).

Only transport problems (the webserver unreachable, a 5xx) raise `DagsterTransportError`, the one
error the flows' tasks retry. A run that fails is a result, not an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import dagster as dg

from energy_assets import settings as energy_settings
from energy_assets import startup
from energy_assets.config_vars import env, env_seconds
from energy_assets.defs.partitions import MONTHS, register_months

DAGSTER_URL_ENV = "ENERGY_DAGSTER_URL"
DAGSTER_UI_ENV = "ENERGY_DAGSTER_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
LOCATION_NAME = "energy_assets"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_timeout_seconds() -> float:
    """ENERGY_DAGSTER_RUN_TIMEOUT: how long a flow waits for a submitted run (read per run, not at import)."""
    return env_seconds("ENERGY_DAGSTER_RUN_TIMEOUT")


class DagsterTransportError(RuntimeError):
    """The Dagster webserver could not be reached or answered with a server error; worth a retry."""


class DagsterRunFailed(RuntimeError):
    """A Dagster run failed (a failed blocking check or a step error); the message says which."""


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    blocking: bool  # severity ERROR
    description: str
    metadata: dict


@dataclass
class DagsterRun:
    run_id: str
    job_name: str
    status: str
    checks: list[CheckOutcome] = field(default_factory=list)
    materializations: dict[str, list[dict]] = field(default_factory=dict)  # asset -> [{partition, metadata}]
    step_errors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.status == dg.DagsterRunStatus.SUCCESS.value

    @property
    def url(self) -> str:
        return run_url(self.run_id)

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed and c.blocking]

    @property
    def gate_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.name.endswith("_beats_champion")]

    @property
    def only_gates_failed(self) -> bool:
        """The run failed only because a champion gate kept the champion: a decision, not an error."""
        failed = self.failed_checks
        gate_names = {c.name for c in self.gate_checks}
        return bool(failed) and all(c.name in gate_names for c in failed) and not self._errors_beyond_gates()

    def _errors_beyond_gates(self) -> list[str]:
        return [e for e in self.step_errors if "beats_champion" not in e and "blocking" not in e.lower()]

    def failure_message(self) -> str:
        parts = [f"{c.asset} {c.name}: {c.description}" for c in self.failed_checks]
        parts += self.step_errors if not parts else []
        detail = "; ".join(parts) or f"status {self.status}"
        return f"Dagster run {self.run_id} ({self.job_name}) failed: {detail} — {self.url}"

    def metadata_of(self, asset: str, partition: str | None = None) -> dict:
        """The metadata of the asset's materialization in this run (of one partition, if given)."""
        for entry in reversed(self.materializations.get(asset, [])):
            if partition is None or entry["partition"] == partition:
                return entry["metadata"]
        raise KeyError(
            f"run {self.run_id} did not materialize {asset}" + (f" partition {partition}" if partition else "")
        )


def ui_base_url() -> str:
    return (env(DAGSTER_UI_ENV) or env(DAGSTER_URL_ENV) or DEFAULT_UI_URL).rstrip("/")


def run_url(run_id: str) -> str:
    return f"{ui_base_url()}/runs/{run_id}"


def instance() -> dg.DagsterInstance:
    startup.ensure_dagster_home()
    return dg.DagsterInstance.get()


def known_months(dagster_instance: dg.DagsterInstance | None = None) -> list[str]:
    return list((dagster_instance or instance()).get_dynamic_partitions(MONTHS))


def partition_tags(keys: list[str]) -> dict[str, str]:
    """Tags selecting partition keys: one key, or the range from the first to the last (in partition order)."""
    if not keys:
        return {}
    if len(keys) == 1:
        return {PARTITION_TAG: keys[0]}
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def month_tags(months: list[str], dagster_instance: dg.DagsterInstance) -> dict[str, str]:
    """Register the months as partitions and return the tags that select them (all of them, when empty)."""
    register_months(dagster_instance, months)
    order = known_months(dagster_instance)
    wanted = [m for m in order if m in set(months)] if months else order
    if not wanted:
        raise ValueError("no month partition is registered yet: ingest an export first (flow 'ingest')")
    return partition_tags([wanted[0], wanted[-1]] if len(wanted) > 1 else wanted)


def launch(job_name: str, run_config: dict | None = None, tags: dict[str, str] | None = None) -> str:
    """Start the job's run and wait for it to end; return its run id. Raises only on transport errors."""
    url = env(DAGSTER_URL_ENV)
    if url:
        return _launch_on_webserver(url, job_name, run_config or {}, tags or {})
    from energy_assets.defs.execution import execute
    from energy_assets.defs.run_cleanup import close_orphaned_runs, process_tags

    close_orphaned_runs(instance())  # in-process runs of flows or pipelines whose process died
    # In this process, or its steps on Celery workers (ENERGY_EXECUTOR); either way it ends here.
    return execute(job_name, instance(), run_config=run_config, tags={**(tags or {}), **process_tags()}).run_id


def _graphql_client(url: str):
    from dagster_graphql import DagsterGraphQLClient

    parsed = urlparse(url)
    if not parsed.hostname:
        raise ValueError(f"{DAGSTER_URL_ENV}={url!r} is not a URL like http://127.0.0.1:3000")
    return DagsterGraphQLClient(
        parsed.hostname,
        port_number=parsed.port,
        use_https=parsed.scheme == "https",
        path_prefix=parsed.path.rstrip("/"),
        timeout=60,
    )


def _transport_guard(call, url: str):
    import requests
    from dagster_graphql import DagsterGraphQLClientError
    from gql.transport.exceptions import TransportClosed, TransportConnectionFailed, TransportServerError

    # Connection-level failures anywhere in the cause chain; a GraphQL error answered by the
    # server (TransportQueryError) is a real outcome and is not among them.
    transport = (
        requests.exceptions.RequestException,
        TransportServerError,
        TransportConnectionFailed,
        TransportClosed,
        ConnectionError,
    )
    try:
        return call()
    except (DagsterGraphQLClientError, *transport) as error:
        link: BaseException | None = error
        while link is not None:
            if isinstance(link, transport):
                raise DagsterTransportError(f"Dagster webserver {url} ({DAGSTER_URL_ENV}): {error}") from error
            link = link.__cause__ or link.__context__
        raise


def _launch_on_webserver(url: str, job_name: str, run_config: dict, tags: dict[str, str]) -> str:
    from energy_assets.definitions import defs

    client = _graphql_client(url)
    selection = list(defs.resolve_job_def(job_name).asset_layer.executable_asset_keys)
    run_id = _transport_guard(
        lambda: client.submit_job_execution(
            job_name,
            repository_location_name=LOCATION_NAME,
            run_config=run_config,
            tags=tags,
            asset_selection=selection,
        ),
        url,
    )
    timeout = run_timeout_seconds()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _transport_guard(lambda: client.get_run_status(run_id), url)
        if status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            return run_id
        time.sleep(1.0)
    raise TimeoutError(f"Dagster run {run_id} ({job_name}) still running after {timeout:.0f} s: {run_url(run_id)}")


def outcome(run_id: str, dagster_instance: dg.DagsterInstance | None = None) -> DagsterRun:
    """Everything a flow reports about a finished run, read from the instance's event log."""
    dagster_instance = dagster_instance or instance()
    record = dagster_instance.get_run_by_id(run_id)
    if record is None:
        raise LookupError(
            f"Dagster run {run_id} is not in the instance at {energy_settings.get_settings().dagster_home}"
        )
    run = DagsterRun(run_id=run_id, job_name=record.job_name, status=record.status.value)
    for entry in dagster_instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            run.checks.append(
                CheckOutcome(
                    asset=evaluation.asset_key.to_user_string(),
                    name=evaluation.check_name,
                    passed=evaluation.passed,
                    blocking=evaluation.severity == dg.AssetCheckSeverity.ERROR,
                    description=evaluation.description or ("passed" if evaluation.passed else "failed"),
                    metadata={k: v.value for k, v in evaluation.metadata.items()},
                )
            )
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            run.materializations.setdefault(materialization.asset_key.to_user_string(), []).append(
                {
                    "partition": materialization.partition,
                    "metadata": {k: v.value for k, v in materialization.metadata.items()},
                }
            )
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            run.step_errors.append(f"step {event.step_key}: {error.message.strip() if error else 'failed'}")
    return run
