"""Where no PostgreSQL answers, the suite skips with the reason; under CI=true it fails instead.

Not marked `postgres`: it needs no server, it points the suite at a port where none listens.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.postgres.conftest import PROJECT_ROOT, free_port

TARGET = "tests/postgres/test_stack.py::test_databases_are_fresh_and_only_this_module_s"


def _run_suite_without_server(ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["ENERGY_TEST_POSTGRES_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}"
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", TARGET, "-q", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("ci", [None, "false"])
def test_skips_with_the_reason_without_a_server(ci):
    done = _run_suite_without_server(ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "no PostgreSQL reachable at postgresql://postgres@127.0.0.1:" in done.stdout


def test_fails_without_a_server_under_ci():
    done = _run_suite_without_server("true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CI=true requires the PostgreSQL tests to run" in done.stdout
    assert "1 error" in done.stdout
