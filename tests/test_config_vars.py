"""One table of ENERGY_* variables: the doc is generated from it, and every name the code uses is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from energy_assets import config_vars
from energy_assets.config_vars import SettingsError, env, env_choice, env_seconds
from tests.conftest import PROJECT_ROOT

NAME = re.compile(r"\bENERGY_[A-Z_]*[A-Z]\b")
# Where the platform reads or sets its variables (the tests' own ENERGY_TEST_* switches are not configuration).
SCANNED = [
    *(PROJECT_ROOT / "energy_assets").rglob("*.py"),
    *(PROJECT_ROOT / "api").rglob("*.py"),
    *(PROJECT_ROOT / "dashboard").rglob("*.py"),
    *(PROJECT_ROOT / "docker").rglob("*"),
    PROJECT_ROOT / "docker-compose.yml",
    PROJECT_ROOT / "Makefile",
]


def names_in(path: Path) -> set[str]:
    return set(NAME.findall(path.read_text(encoding="utf-8", errors="replace")))


def test_the_generated_doc_is_up_to_date():
    assert config_vars.DOC == PROJECT_ROOT / "docs" / "configuration.md"
    assert config_vars.DOC.read_text() == config_vars.markdown(), (
        "docs/configuration.md is out of date: run `python -m energy_assets.config_vars --write`"
    )
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "(docs/configuration.md)" in readme, "README.md links the configuration table"


def test_every_variable_the_code_uses_is_in_the_table():
    used: dict[str, list[str]] = {}
    for path in SCANNED:
        if path.is_file():
            for name in names_in(path):
                used.setdefault(name, []).append(str(path.relative_to(PROJECT_ROOT)))
    assert "ENERGY_HOME" in used and "ENERGY_IMAGE_TAG" in used  # the scan reads code, compose and the Dockerfile
    missing = {name: files for name, files in used.items() if name not in config_vars.BY_NAME}
    assert not missing, f"ENERGY_* variables used but not listed in energy_assets/config_vars.py: {missing}"


def test_every_variable_in_the_table_is_used_and_listed_once():
    names = [var.name for var in config_vars.VARIABLES]
    assert len(names) == len(set(names))
    used = set().union(*(names_in(p) for p in SCANNED if p.is_file()))
    assert set(names) <= used, f"listed but used nowhere: {sorted(set(names) - used)}"
    assert {var.area for var in config_vars.VARIABLES} <= set(config_vars.AREAS)


def test_the_scan_would_catch_a_new_name(tmp_path):
    source = tmp_path / "x.py"
    source.write_text('os.environ.get("ENERGY_NOT_LISTED_YET")  # ENERGY_HOME too\n')
    assert names_in(source) == {"ENERGY_NOT_LISTED_YET", "ENERGY_HOME"}
    assert "ENERGY_NOT_LISTED_YET" not in config_vars.BY_NAME


def test_env_reads_at_call_time_with_the_table_default(monkeypatch):
    monkeypatch.delenv("ENERGY_CELERY_QUEUE", raising=False)
    assert env("ENERGY_CELERY_QUEUE") == "dagster"
    monkeypatch.setenv("ENERGY_CELERY_QUEUE", "steps")
    assert env("ENERGY_CELERY_QUEUE") == "steps"
    monkeypatch.delenv("ENERGY_POSTGRES_URL", raising=False)
    assert env("ENERGY_POSTGRES_URL") is None
    assert env("ENERGY_POSTGRES_URL", "postgresql://h") == "postgresql://h"


def test_env_refuses_a_name_missing_from_the_table():
    with pytest.raises(KeyError, match=r"ENERGY_NOT_LISTED.*config_vars\.py"):
        env("ENERGY_NOT_LISTED")


def test_bad_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("ENERGY_MODEL_POLL_SECONDS", "soon")
    with pytest.raises(SettingsError, match="ENERGY_MODEL_POLL_SECONDS='soon' is not a number"):
        env_seconds("ENERGY_MODEL_POLL_SECONDS")
    monkeypatch.setenv("ENERGY_MODEL_POLL_SECONDS", "-1")
    with pytest.raises(SettingsError, match="must be a positive"):
        env_seconds("ENERGY_MODEL_POLL_SECONDS")
    monkeypatch.setenv("ENERGY_MODEL_POLL_SECONDS", " ")
    assert env_seconds("ENERGY_MODEL_POLL_SECONDS") == 30.0
    monkeypatch.setenv("ENERGY_EXECUTOR", "threads")
    with pytest.raises(SettingsError, match=r"ENERGY_EXECUTOR='threads' is not one of \['in_process', 'celery'\]"):
        env_choice("ENERGY_EXECUTOR", ("in_process", "celery"))


def test_the_flows_read_their_variables_per_call(monkeypatch):
    from energy_assets.flows import dagster_runs

    monkeypatch.setenv("ENERGY_DAGSTER_RUN_TIMEOUT", "12")
    assert dagster_runs.run_timeout_seconds() == 12.0
    monkeypatch.setenv("ENERGY_DAGSTER_RUN_TIMEOUT", "later")
    with pytest.raises(SettingsError, match="ENERGY_DAGSTER_RUN_TIMEOUT"):
        dagster_runs.run_timeout_seconds()
