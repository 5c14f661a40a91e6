"""The production configuration, for real: every tool on PostgreSQL, started natively on loopback.

One module, one set of fresh databases and servers; the tests run in order and build on each other:
the pipeline fills the stores, the retrain flow runs on them, the API serves what they registered,
`make verify` checks the lot. Results are asserted in PostgreSQL itself, by SQL.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.postgres.conftest import PROJECT_ROOT, BackgroundService, free_port, run_python

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

MODEL_NAMES = ("energy-usage-estimator", "energy-day-ahead-forecaster")
MODEL_ASSETS = {"usage_estimator", "day_ahead_forecaster"}
# No cross-validation of the estimator: this module proves where things are stored, not how well the
# models fit (tests/test_pipeline.py and tests/training/test_bands.py do).
FAST_MODELS = {"ops": {"usage_estimator": {"config": {"cv_folds": 0}}}}
# The retrain flow's candidates: fewer boosting iterations, so the gate usually keeps the champion
# (a decision the flow reports, not a failure) and the suite stays short.
RETRAIN_ESTIMATOR = {"cv_folds": 0, "max_iter": 100}
RETRAIN_FORECASTER = {"max_iter": 100}


def _json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def pipeline_run(stack) -> str:
    """The whole graph (run_pipeline, as `make pipeline`) on the bundled export, on the PostgreSQL stack.

    The estimator skips its cross-validation (cv_folds=0) and the bands' quantile models are small
    (FAST_MODELS) to keep the suite short; the holdout
    evaluation, the gates and the registry work as in every run. Returns the Dagster run id.
    """
    script = (
        "from energy_assets.pipeline import run_pipeline, format_summary; "
        f"result = run_pipeline(run_config={FAST_MODELS!r}); print(format_summary(result)); "
        "raise SystemExit(0 if result.ok else 1)"
    )
    # Bounded; the forecaster also fits two fold models for its bands.
    done = run_python(["-c", script], stack.env, timeout=1500)
    assert done.returncode == 0, f"pipeline failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    match = re.search(r"Dagster run ([0-9a-f-]{36}): succeeded", done.stdout)
    assert match, done.stdout
    return match.group(1)


def _serve(stack, name: str, args: list[str], health_path: str, env: dict[str, str] | None = None):
    """One more server of the stack on a free port (`{port}` in `args`), stopped when the module ends."""
    port = free_port()
    service = BackgroundService(
        name,
        [sys.executable, *(a.format(port=port) for a in args)],
        env or stack.env,
        f"http://127.0.0.1:{port}{health_path}",
        stack.home / f"{name}.log",
    )
    stack.services[name] = service
    try:
        service.start().wait_healthy(timeout=90)
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def api(stack, pipeline_run):
    """The API, pointed at the MLflow server (the champions the pipeline registered)."""
    yield from _serve(
        stack,
        "api",
        ["-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", "{port}"],
        "/health",
    )


@pytest.fixture(scope="module")
def dashboard(stack, api):
    """The operator dashboard over that API, as `make run` starts it."""
    env = {**stack.env, "ENERGY_API_URL": stack.url("api")}
    yield from _serve(
        stack, "dashboard", ["-m", "dashboard", "--host", "127.0.0.1", "--port", "{port}"], "/_stcore/health", env
    )


def test_databases_are_fresh_and_only_this_module_s(databases):
    assert all(name.startswith(databases.prefix) for name in databases.names.values())
    (extension,) = databases.query("prefect", "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
    assert extension == (1,)


def test_pipeline_runs_and_materializations_land_in_postgres(stack, pipeline_run):
    db = stack.databases
    ((status, job),) = db.query("dagster", "SELECT status, pipeline_name FROM runs WHERE run_id = %s", (pipeline_run,))
    assert (status, job) == ("SUCCESS", "energy_pipeline")
    materialized = db.query(
        "dagster",
        (
            "SELECT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = "
            "'ASSET_MATERIALIZATION'"
        ),
        (pipeline_run,),
    )
    assets = {json.loads(key)[0] for key, _ in materialized}
    assert {"raw_readings", "rejected_readings", "clean_readings", *MODEL_ASSETS} <= assets
    months = sorted(partition for key, partition in materialized if json.loads(key)[0] == "clean_readings")
    registered = sorted(
        p
        for (p,) in db.query("dagster", "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'month'")
    )
    assert months == registered and len(months) == 12, months
    # Nothing of the run went to a local SQLite instance.
    assert not list((stack.home / "dagster").rglob("*.db"))


def test_models_are_registered_in_postgres_with_artifacts_served(stack, pipeline_run):
    db = stack.databases
    versions = db.query("mlflow", "SELECT name, version, run_id FROM model_versions ORDER BY name, version")
    assert {name for name, _, _ in versions} == set(MODEL_NAMES)
    champions = dict(db.query("mlflow", "SELECT name, version FROM registered_model_aliases WHERE alias = 'champion'"))
    assert set(champions) == set(MODEL_NAMES)
    runs = dict(db.query("mlflow", "SELECT run_uuid, value FROM tags WHERE key = 'dagster_run_id'"))
    assert all(runs.get(run_id) == pipeline_run for _, _, run_id in versions), (
        "each version comes from the pipeline's Dagster run"
    )
    # Artifacts went through the server (--serve-artifacts) into its destination, not a client-side path.
    assert len(list((stack.home / "mlartifacts").rglob("MLmodel"))) >= len(MODEL_NAMES)


def test_retrain_flow_runs_end_to_end_on_prefect_and_dagster(stack, pipeline_run):
    """The project's `retrain` flow, reported to the Prefect server on PostgreSQL, driving Dagster on PostgreSQL."""
    script = (
        f"RETRAIN_ESTIMATOR = {RETRAIN_ESTIMATOR!r}; RETRAIN_FORECASTER = {RETRAIN_FORECASTER!r}; "
        "import json; from energy_assets.flows.retrain import retrain; outcome = "
        "retrain(estimator=RETRAIN_ESTIMATOR, forecaster=RETRAIN_FORECASTER); "
        "print(json.dumps({'run_id': outcome.run_id, 'decisions': {k: v.decision for k, v in "
        "outcome.decisions.items()}}))"
    )
    done = run_python(["-c", script], stack.env, timeout=400)
    assert done.returncode == 0, f"retrain flow failed:\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(outcome["decisions"]) == MODEL_ASSETS
    assert set(outcome["decisions"].values()) <= {"promoted", "kept"}
    db = stack.databases
    flow_runs = db.query(
        "prefect",
        "SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id WHERE f.name = 'retrain'",
    )
    assert flow_runs == [("retrain", "COMPLETED")]
    ((job, status),) = db.query(
        "dagster", "SELECT pipeline_name, status FROM runs WHERE run_id = %s", (outcome["run_id"],)
    )
    assert job == "retrain_models"
    # A kept champion fails its blocking gate check, and with it the Dagster run: that is a decision.
    assert status == "SUCCESS" or "kept" in outcome["decisions"].values(), status
    trained = db.query(
        "dagster",
        "SELECT DISTINCT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        (outcome["run_id"],),
    )
    assert {json.loads(key)[0] for (key,) in trained} >= MODEL_ASSETS


def test_api_serves_the_champion_from_the_mlflow_server(stack, api):
    db = stack.databases
    champions = dict(db.query("mlflow", "SELECT name, version FROM registered_model_aliases WHERE alias = 'champion'"))
    base = "/".join(api.health_url.split("/")[:3])
    assert _json(f"{base}/health")["status"] == "ok"
    served = {m["name"]: m for m in _json(f"{base}/model")["models"]}
    assert {name: str(m["version"]) for name, m in served.items()} == {name: str(v) for name, v in champions.items()}
    assert all(m["alias"] == "champion" for m in served.values())
    assert served["energy-usage-estimator"]["holdout_metrics"]


def _verify(env: dict[str, str]):
    return run_python(["-m", "energy_assets.verify", "--timeout", "10"], env, timeout=120)


def _verify_env(stack) -> dict[str, str]:
    return {
        **stack.env,
        "ENERGY_DAGSTER_URL": stack.url("dagster"),
        "ENERGY_MLFLOW_URL": stack.url("mlflow"),
        "ENERGY_PREFECT_URL": stack.url("prefect"),
        "ENERGY_API_URL": stack.url("api"),
        "ENERGY_DASHBOARD_URL": stack.url("dashboard"),
    }


def test_make_verify_passes_on_the_running_stack(stack, api, dashboard):
    done = _verify(_verify_env(stack))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", s] for s in ("dagster", "daemon", "mlflow", "prefect", "api", "dashboard")
    ]
    assert "energy-usage-estimator v" in lines[-2]


def test_make_verify_fails_when_a_service_is_down(stack, api, dashboard):
    api.stop()
    done = _verify(_verify_env(stack))
    assert done.returncode == 1
    status = {line.split()[1]: line.split()[0] for line in done.stdout.strip().splitlines()}
    assert status == {
        "dagster": "ok",
        "daemon": "ok",
        "mlflow": "ok",
        "prefect": "ok",
        "api": "FAIL",
        "dashboard": "ok",
    }


def test_two_partitions_materialize_concurrently_on_postgres(stack, pipeline_run, tmp_path):
    """Two processes each run ingest_month for another month at the same moment, on one PostgreSQL instance."""
    months = ("2018-03", "2018-07")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    script = str(PROJECT_ROOT / "tests" / "postgres" / "materialize_month.py")
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda m: run_python([script, m, str(barrier), "2"], stack.env, timeout=300), months))
    for month, process in zip(months, done, strict=True):
        assert process.returncode == 0, f"{month}:\n{process.stderr[-4000:]}"
    results = [json.loads(p.stdout.strip().splitlines()[-1]) for p in done]
    assert all(r["success"] for r in results), results
    db = stack.databases
    rows = db.query(
        "dagster",
        "SELECT run_id, status, start_time, end_time FROM runs WHERE run_id IN %s ORDER BY start_time",
        (tuple(r["run_id"] for r in results),),
    )
    assert [status for _, status, _, _ in rows] == ["SUCCESS", "SUCCESS"]
    (_, _, _, first_end), (_, _, second_start, _) = rows
    assert second_start < first_end, "the two runs did not overlap in time"
    for result in results:
        (count,) = db.query(
            "dagster",
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION' "
            "AND asset_key = %s AND partition = %s",
            (result["run_id"], json.dumps(["clean_readings"]), result["month"]),
        )[0]
        assert count == 1, result


def _daemon_log_once_it_reports_the_launch(daemon: BackgroundService, timeout_s: float = 120.0) -> str:
    """The daemon's log, read again until it reports a launch (or the bounded wait ends).

    The queued-run daemon logs "Launched N runs." only after the tick that dequeued them has been
    driven to its end, which on a loaded machine can come after the launched run itself finished.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        text = daemon.log_path.read_text(errors="replace")
        if re.search(r"Launched \d+ runs", text) or time.monotonic() > deadline:
            return text
        time.sleep(1.0)


def test_a_run_submitted_to_the_webserver_is_queued_and_launched_by_the_daemon(stack, pipeline_run):
    """The team path: a flow submits through the webserver, the daemon dequeues and launches the run."""
    script = (
        "from energy_assets.flows import dagster_runs; "
        "print(dagster_runs.launch('ingest_month', "
        f"{{'ops': {{'raw_readings': {{'config': {{'path': {stack.env['ENERGY_RAW_CSV']!r}}}}}}}}}, "
        "{'dagster/partition': '2018-05'}))"
    )
    done = run_python(["-c", script], {**stack.env, "ENERGY_DAGSTER_URL": stack.url("dagster")}, timeout=300)
    assert done.returncode == 0, (
        f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}\n{stack.services['dagster-daemon'].log_tail()}"
    )
    run_id = done.stdout.strip().splitlines()[-1]
    db = stack.databases
    ((job, status),) = db.query("dagster", "SELECT pipeline_name, status FROM runs WHERE run_id = %s", (run_id,))
    assert (job, status) == ("ingest_month", "SUCCESS")
    events = [
        e
        for (e,) in db.query(
            "dagster", "SELECT dagster_event_type FROM event_logs WHERE run_id = %s ORDER BY id", (run_id,)
        )
    ]
    assert "PIPELINE_ENQUEUED" in events, sorted(set(events))
    assert events.index("PIPELINE_ENQUEUED") < events.index("PIPELINE_STARTING") < events.index("PIPELINE_START")
    daemon_log = _daemon_log_once_it_reports_the_launch(stack.services["dagster-daemon"])
    assert "QueuedRunCoordinatorDaemon" in daemon_log and re.search(r"Launched \d+ runs", daemon_log), daemon_log[
        -3000:
    ]
    assert run_id in daemon_log, "the run executed in a process the daemon launched"
    partitions = db.query(
        "dagster",
        (
            "SELECT partition FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION' "
            "AND asset_key = %s"
        ),
        (run_id, json.dumps(["clean_readings"])),
    )
    assert partitions == [("2018-05",)]
