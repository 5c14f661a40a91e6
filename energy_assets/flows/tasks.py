"""The Prefect pieces every flow shares: launching a Dagster job, artifacts, failure notices.

Retries: `run_dagster_job` retries only `DagsterTransportError` (webserver unreachable, 5xx).
A failed Dagster run or a failed check is returned as the run's outcome and fails the flow
through `require_success` with the check's message; retrying it would only repeat the failure.
"""

from __future__ import annotations

import json
import urllib.request

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from energy_assets.config_vars import BY_NAME, env
from energy_assets.flows import dagster_runs

ALERT_WEBHOOK_ENV = "ENERGY_ALERT_WEBHOOK"
TRANSPORT_RETRIES = 3
# The task's own delay is fixed when it is declared; `launch_dagster_job` reads ENERGY_FLOW_RETRY_DELAY per call.
RETRY_DELAY_SECONDS = float(BY_NAME["ENERGY_FLOW_RETRY_DELAY"].default or 0)


def _is_transport_error(task_def, task_run, state) -> bool:
    try:
        state.result()
    except dagster_runs.DagsterTransportError:
        return True
    except Exception:
        return False
    return False


@task(retries=TRANSPORT_RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS, retry_condition_fn=_is_transport_error)
def run_dagster_job(
    job_name: str, run_config: dict | None = None, tags: dict[str, str] | None = None
) -> dagster_runs.DagsterRun:
    """Launch the job in the Dagster instance the UI shows, wait for it, and return its outcome."""
    logger = get_run_logger()
    run_id = dagster_runs.launch(job_name, run_config, tags)
    result = dagster_runs.outcome(run_id)
    logger.info(f"Dagster run {run_id} ({job_name}): {result.status} — {result.url}")
    return result


def launch_dagster_job(
    job_name: str, run_config: dict | None = None, tags: dict[str, str] | None = None
) -> dagster_runs.DagsterRun:
    """`run_dagster_job` with its transport retries ENERGY_FLOW_RETRY_DELAY seconds apart (read now)."""
    delay = float((env("ENERGY_FLOW_RETRY_DELAY") or "").strip() or RETRY_DELAY_SECONDS)
    return run_dagster_job.with_options(retry_delay_seconds=delay)(job_name, run_config, tags)


def require_success(run: dagster_runs.DagsterRun) -> dagster_runs.DagsterRun:
    if not run.success:
        raise dagster_runs.DagsterRunFailed(run.failure_message())
    return run


def run_line(run: dagster_runs.DagsterRun) -> str:
    return f"Dagster run [`{run.run_id}`]({run.url}) (job `{run.job_name}`): **{run.status}**"


def publish(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(markdown=markdown, key=key, description=description)


def notify_failure(flow_name: str, error: BaseException) -> None:
    """Always the log and a Prefect artifact; also a JSON POST to ENERGY_ALERT_WEBHOOK when it is set."""
    message = f"{flow_name} failed: {error}"
    get_run_logger().error(message)
    publish(f"{flow_name.replace('_', '-')}-failure", f"### {flow_name} failed\n\n{error}", f"{flow_name} failure")
    url = env(ALERT_WEBHOOK_ENV)
    if not url:
        return
    body = json.dumps({"flow": flow_name, "error": str(error), "text": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as post_error:  # an alert that cannot be delivered must not hide the failure itself
        get_run_logger().warning(f"{ALERT_WEBHOOK_ENV}={url}: alert not delivered ({post_error})")
