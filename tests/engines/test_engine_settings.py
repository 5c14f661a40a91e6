"""The engine variables: validated with the key named, and one source for the run's executor and the workers' YAML."""

from __future__ import annotations

import pytest
import yaml

from energy_assets import settings, startup


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("ENERGY_HOME", str(tmp_path))
    for key in (
        "ENERGY_EXECUTOR",
        "ENERGY_CELERY_BROKER",
        "ENERGY_CELERY_BACKEND",
        "ENERGY_CELERY_QUEUE",
        "ENERGY_PREFECT_WORK_POOL",
    ):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_the_default_stays_in_process(env):
    current = settings.get_settings()
    assert (current.executor, current.celery, current.prefect_work_pool) == ("in_process", None, None)
    from energy_assets.defs.execution import executor_def

    assert executor_def(current).name == "in_process"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ENERGY_EXECUTOR", "k8s", "ENERGY_EXECUTOR='k8s' is not one of"),
        ("ENERGY_CELERY_BROKER", "http://127.0.0.1:5672", "ENERGY_CELERY_BROKER="),
        ("ENERGY_CELERY_BACKEND", "memcached://x", "ENERGY_CELERY_BACKEND="),
        ("ENERGY_CELERY_QUEUE", "a queue", "ENERGY_CELERY_QUEUE="),
    ],
)
def test_a_wrong_value_names_its_variable(env, key, value, message):
    env.setenv("ENERGY_EXECUTOR", "celery")
    env.setenv(key, value)
    with pytest.raises(settings.SettingsError, match=message):
        settings.get_settings()


def test_the_workers_yaml_is_the_runs_executor_config(env):
    env.setenv("ENERGY_EXECUTOR", "celery")
    env.setenv("ENERGY_CELERY_BROKER", "amqp://u:secret@broker:5672//")
    env.setenv("ENERGY_CELERY_QUEUE", "team-a")
    current = settings.get_settings()
    written = yaml.safe_load(startup.celery_worker_config(current).read_text())
    assert written == {"execution": {"config": current.celery.executor_config()}}
    assert written["execution"]["config"]["config_source"]["task_default_queue"] == "team-a"
    from dagster_celery.cli import get_validated_config

    # dagster-celery's own validation of the file its workers start on.
    assert get_validated_config(str(startup.celery_worker_config(current)))["broker"] == "amqp://u:secret@broker:5672//"
    from energy_assets.defs.execution import executor_def

    assert executor_def(current).name == "celery"
