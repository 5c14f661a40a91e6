"""Imports point down: flows -> defs -> domain packages; nothing imports upward.

Read from the sources (every `import` and `from ... import`, module level or inside a function),
so a lazy import cannot slip past: the domain packages import neither `defs`, `flows`,
`definitions`, `api` nor `dashboard`, and no Dagster or Prefect; `defs` (and `definitions`)
import no flow and nothing of `api`; `api` imports no Dagster wiring, no flow and no orchestrator
(it serves from the registry and the stored files alone); the dashboard talks to the API over
HTTP and imports nothing of the project's packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "energy_assets"
DOMAIN = (
    "ingest",
    "features",
    "training",
    "gating",
    "monitoring",
    "copilot",
    "sites",
    "schema",
    "settings",
    "config_vars",
    "startup",
    "lineage",
)
UPPER = ("energy_assets.defs", "energy_assets.flows", "energy_assets.definitions", "api", "dashboard")
ORCHESTRATORS = ("dagster", "dagster_mlflow", "dagster_graphql", "prefect")
# what each layer must not import (module prefixes)
FORBIDDEN = {
    "domain": UPPER + ORCHESTRATORS,
    "defs": ("energy_assets.flows", "api", "dashboard"),
    "api": ("energy_assets.defs", "energy_assets.flows", "energy_assets.definitions", "dashboard", *ORCHESTRATORS),
    "dashboard": ("energy_assets", "api"),
}


def imported_modules(source: str, module: str) -> set[str]:
    """Every module a source imports, `from a import b` counted as both `a` and `a.b`."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(source: str, module: str, layer: str) -> list[str]:
    forbidden = FORBIDDEN[layer]
    return sorted(
        name
        for name in imported_modules(source, module)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def layer_of(path: Path) -> str | None:
    top = path.relative_to(PROJECT_ROOT).parts[0]
    if top in ("api", "dashboard"):
        return top
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[0] in DOMAIN:
        return "domain"
    if parts[0] in ("defs", "definitions"):
        return "defs"
    return None  # flows/ and the make targets' entry points (pipeline, services, verify) may import anything


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted(
    p
    for p in [
        *PACKAGE.rglob("*.py"),
        *(PROJECT_ROOT / "api").rglob("*.py"),
        *(PROJECT_ROOT / "dashboard").rglob("*.py"),
    ]
    if layer_of(p)
)


def test_the_layers_hold_the_modules_they_should():
    layers = {module_name(p): layer_of(p) for p in SOURCES}
    assert layers["energy_assets.monitoring.drift"] == "domain"
    assert layers["energy_assets.monitoring.shifts"] == "domain"
    assert layers["energy_assets.defs.assets.monitoring_assets"] == "defs"
    assert layers["energy_assets.definitions"] == "defs"
    assert layers["energy_assets.defs.jobs"] == "defs"
    assert layers["energy_assets.startup"] == layers["energy_assets.config_vars"] == "domain"
    assert layers["api.app"] == layers["api.routers.predict"] == "api"
    assert layers["dashboard.client"] == "dashboard"
    # the flows' jobs live with the others: one module of jobs
    assert not (PACKAGE / "defs" / "flow_jobs.py").exists()
    assert not (PACKAGE / "flows" / "drift.py").exists() and not (PACKAGE / "flows" / "shifts.py").exists()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_upward_import(path: Path):
    layer = layer_of(path)
    found = violations(path.read_text(encoding="utf-8"), module_name(path), layer)
    assert not found, (
        f"{path.relative_to(PROJECT_ROOT)} ({layer}) imports {found}: imports must point flows -> defs -> domain"
    )


@pytest.mark.parametrize(
    ("source", "module", "layer", "expected"),
    [
        (
            "from energy_assets.flows import drift",
            "energy_assets.monitoring.x",
            "domain",
            ["energy_assets.flows", "energy_assets.flows.drift"],
        ),
        ("from energy_assets import defs", "energy_assets.training.x", "domain", ["energy_assets.defs"]),
        ("def f():\n    import dagster as dg", "energy_assets.gating.x", "domain", ["dagster"]),
        (
            "from ..flows.tasks import publish",
            "energy_assets.defs.jobs",
            "defs",
            ["energy_assets.flows.tasks", "energy_assets.flows.tasks.publish"],
        ),
        (
            "from energy_assets.defs.flow_jobs import x\nfrom energy_assets.flows import tasks",
            "energy_assets.defs.jobs",
            "defs",
            ["energy_assets.flows", "energy_assets.flows.tasks"],
        ),
        ("from energy_assets.monitoring import drift\nimport pandas", "energy_assets.defs.assets.m", "defs", []),
        ("import api.app", "energy_assets.schema", "domain", ["api.app"]),
        (
            "from energy_assets.defs.resources import ModelRegistry",
            "api.registry",
            "api",
            ["energy_assets.defs.resources", "energy_assets.defs.resources.ModelRegistry"],
        ),
        ("def f():\n    from prefect import flow", "api.routers.models", "api", ["prefect", "prefect.flow"]),
        ("import dagster as dg", "api.app", "api", ["dagster"]),
        (
            "from energy_assets.flows import tasks",
            "api.app",
            "api",
            ["energy_assets.flows", "energy_assets.flows.tasks"],
        ),
        ("from energy_assets.settings import masked\nimport mlflow", "api.registry", "api", []),
        (
            "from energy_assets import schema",
            "dashboard.client",
            "dashboard",
            ["energy_assets", "energy_assets.schema"],
        ),
    ],
)
def test_the_check_catches_upward_imports(source, module, layer, expected):
    assert violations(source, module, layer) == expected


def test_settings_only_read():
    """settings.py reads the environment; writing it, or any file, is startup.py's (the bootstrap)."""
    source = (PACKAGE / "settings.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    writes = [
        f"line {node.lineno}: {ast.unparse(node)[:60]}"
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("setdefault", "update", "write_text", "write_bytes", "mkdir", "set_tracking_uri")
        )
        or (isinstance(node, (ast.Assign, ast.AugAssign)) and "environ" in ast.unparse(node).split("=")[0])
    ]
    assert not writes, f"energy_assets/settings.py must only read: {writes}"
    assert "__main__" not in source, "the command line is energy_assets.startup's"
