"""Every ENERGY_* environment variable: its default, what it means, and the one way the code reads it.

`VARIABLES` is the table; `env()` reads a variable by name and refuses a name missing from it, so
the table cannot fall behind the code. `docs/configuration.md` is generated from it
(`python -m energy_assets.config_vars --write`) and a test fails when the doc, or a name used
anywhere in the code, the Dockerfiles, docker-compose.yml or the Makefile, is not in the table.
Reading only: nothing here writes the environment or a file (bar the doc, on request).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class Var:
    name: str
    default: str | None  # the value used when the variable is unset (None: none, or derived as `shown` says)
    meaning: str
    area: str
    shown: str = ""  # the default as documented, when it is derived rather than a literal

    @property
    def documented_default(self) -> str:
        if self.shown:
            return self.shown
        return f"`{self.default}`" if self.default not in (None, "") else "unset"


VARIABLES: tuple[Var, ...] = (
    # where state lives (energy_assets/settings.py)
    Var("ENERGY_PROFILE", "local", "`local` (SQLite and files under ENERGY_HOME) or `postgres`.", "state"),
    Var(
        "ENERGY_HOME",
        None,
        "Folder of all local state: Dagster instance, MLflow store and artifacts, Parquet assets, Prefect database.",
        "state",
        shown="`.energy/` in the project",
    ),
    Var(
        "ENERGY_RAW_CSV",
        None,
        "CSV export, or folder of exports, that `raw_readings` ingests; its folder is the raw area the sensor watches.",
        "state",
        shown="`data/raw/` (the DVC-tracked raw area)",
    ),
    Var(
        "ENERGY_SOURCE_MAP",
        "",
        "YAML source map describing an export's shape (docs/data.md).",
        "state",
        shown="the UCI export's shape",
    ),
    Var(
        "ENERGY_POSTGRES_URL",
        None,
        "PostgreSQL server (`postgresql://user:pass@host:5432`, no database) of the `postgres` profile.",
        "state",
    ),
    Var("ENERGY_DAGSTER_DB", "dagster", "Database of the Dagster instance (`postgres` profile).", "state"),
    Var("ENERGY_MLFLOW_DB", "mlflow", "Database of the MLflow store (`postgres` profile).", "state"),
    Var("ENERGY_PREFECT_DB", "prefect", "Database of the Prefect server (`postgres` profile).", "state"),
    Var(
        "ENERGY_DAGSTER_INSTANCE_EXTRA",
        None,
        "YAML file of dagster.yaml sections (e.g. `run_launcher`) replacing the generated ones (docs/deployment.md).",
        "state",
    ),
    Var(
        "ENERGY_TARIFF",
        None,
        "Tariff file (YAML) the copilot prices with.",
        "state",
        shown="the bundled KEPCO 2018 tariff",
    ),
    # where steps and flows execute
    Var("ENERGY_EXECUTOR", "in_process", "`in_process` or `celery`: where a Dagster run's steps execute.", "engines"),
    Var(
        "ENERGY_CELERY_BROKER",
        "amqp://guest:guest@127.0.0.1:5672//",
        "Celery broker of the `celery` executor.",
        "engines",
    ),
    Var(
        "ENERGY_CELERY_BACKEND",
        "redis://127.0.0.1:6379/0",
        "Celery result backend of the `celery` executor.",
        "engines",
    ),
    Var("ENERGY_CELERY_QUEUE", "dagster", "Celery queue the steps are sent to and the workers listen on.", "engines"),
    Var("ENERGY_CELERY_WORKERS", "2", "Workers `make workers` starts.", "engines"),
    Var(
        "ENERGY_PREFECT_WORK_POOL",
        None,
        "Prefect process work pool: flows are deployed to it and run by `prefect worker` (unset: `serve`).",
        "engines",
    ),
    Var(
        "ENERGY_DAGSTER_URL",
        None,
        "Dagster webserver the flows submit runs through (unset: runs execute in the flow's process).",
        "engines",
    ),
    Var(
        "ENERGY_DAGSTER_UI_URL",
        None,
        "Dagster UI address in the flows' run links.",
        "engines",
        shown="ENERGY_DAGSTER_URL, else `http://127.0.0.1:3000`",
    ),
    Var("ENERGY_DAGSTER_RUN_TIMEOUT", "3600", "Seconds a flow waits for a submitted Dagster run to end.", "engines"),
    Var("ENERGY_FLOW_RETRY_DELAY", "10", "Seconds between a flow's retries of an unreachable webserver.", "engines"),
    Var("ENERGY_ALERT_WEBHOOK", None, "URL a failed flow POSTs a JSON notice to.", "engines"),
    # serving
    Var("ENERGY_MODEL_POLL_SECONDS", "30", "Seconds between the API's look-ups of new champion versions.", "serving"),
    Var(
        "ENERGY_API_TOKEN",
        None,
        "Bearer token of the API's admin reload (`POST /model/reload`; unset: reload disabled).",
        "serving",
    ),
    Var(
        "ENERGY_API_STARTUP_WAIT_SECONDS",
        "60",
        "Seconds the API's start-up waits for the registry before serving degraded.",
        "serving",
    ),
    Var(
        "ENERGY_MCP_ALLOWED_HOSTS",
        "",
        "Comma-separated host names (host:port, `*` for any port) besides loopback the MCP endpoint answers under.",
        "serving",
    ),
    Var(
        "ENERGY_API_URL",
        "http://127.0.0.1:8000",
        "The API, for the dashboard and `make verify` (the dashboard image reads it without this module).",
        "serving",
    ),
    # checks and the compose stack
    Var("ENERGY_MLFLOW_URL", "http://127.0.0.1:5000", "MLflow UI `make verify` checks.", "stack"),
    Var("ENERGY_PREFECT_URL", "http://127.0.0.1:4200", "Prefect server `make verify` checks.", "stack"),
    Var("ENERGY_DASHBOARD_URL", "http://127.0.0.1:8501", "Dashboard `make verify` checks.", "stack"),
    Var("ENERGY_IMAGE_TAG", "latest", "Tag of the images docker-compose.yml runs.", "stack"),
    Var(
        "ENERGY_COMPOSE_PORT_OFFSET",
        "20000",
        "Added to every port of the compose stack `make compose-test` starts on loopback.",
        "stack",
    ),
)
BY_NAME = {var.name: var for var in VARIABLES}
AREAS = {
    "state": "Where state lives",
    "engines": "Where steps and flows run",
    "serving": "API and dashboard",
    "stack": "Checks and the compose stack",
}


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; unset: `default`, else the table's default. A name not in the table is a bug."""
    try:
        var = BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name} is not listed in energy_assets/config_vars.py VARIABLES") from None
    return os.environ.get(name, default if default is not None else var.default)


def env_seconds(name: str) -> float:
    """A positive number of seconds; empty or unset: the table's default. SettingsError names the variable."""
    text = (env(name) or "").strip() or str(BY_NAME[name].default)
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a number of seconds") from None
    if not value > 0:
        raise SettingsError(f"{name}={text!r} must be a positive number of seconds")
    return value


def env_choice(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`; SettingsError names the variable and the choices."""
    value = env(name) or ""
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of {list(choices)}")
    return value


def markdown() -> str:
    """docs/configuration.md, from the table."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by `python -m energy_assets.config_vars --write` from energy_assets/config_vars.py;",
        "     tests/test_config_vars.py fails when this file or the table falls behind the code. -->",
        "",
        "Every `ENERGY_*` environment variable the platform reads. Values are read when used, never at",
        "import, so a changed variable takes effect on the next call. `python -m energy_assets.startup`",
        "prints what the current environment resolves to.",
    ]
    for area, title in AREAS.items():
        lines += ["", f"## {title}", "", "| Variable | Default | Meaning |", "| --- | --- | --- |"]
        lines += [
            f"| `{var.name}` | {var.documented_default} | {var.meaning} |" for var in VARIABLES if var.area == area
        ]
    return "\n".join(lines) + "\n"


DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def main(argv: list[str] | None = None) -> int:
    """`python -m energy_assets.config_vars [--write]`: print docs/configuration.md, or write it."""
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--write"]:
        DOC.write_text(markdown())
        print(DOC)
        return 0
    if argv:
        print(main.__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
