"""The API's own settings, on top of `energy_assets.settings` (which says where MLflow and the data live)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from energy_assets import settings as energy_settings
from energy_assets.config_vars import BY_NAME, env, env_seconds

DEFAULT_POLL_SECONDS = float(BY_NAME["ENERGY_MODEL_POLL_SECONDS"].default or 0)
# How long start-up waits for the first registry look-up before serving degraded (it goes on behind).
DEFAULT_STARTUP_WAIT_SECONDS = float(BY_NAME["ENERGY_API_STARTUP_WAIT_SECONDS"].default or 0)


@dataclass(frozen=True)
class ApiConfig:
    tracking_uri: str
    clean_readings_dir: Path
    poll_seconds: float = DEFAULT_POLL_SECONDS
    api_token: str | None = None
    startup_wait_seconds: float = DEFAULT_STARTUP_WAIT_SECONDS
    # Host names (host:port, * for any port) besides loopback under which the MCP endpoint may be reached.
    mcp_allowed_hosts: tuple[str, ...] = ()

    @property
    def asset_dir(self) -> Path:
        """ENERGY_HOME/assets: the folder of clean_readings and of the other stored assets (drift_report)."""
        return self.clean_readings_dir.parent


def from_environment() -> ApiConfig:
    """ENERGY_HOME / MLFLOW_TRACKING_URI via energy_assets.settings, plus ENERGY_MODEL_POLL_SECONDS, ENERGY_API_TOKEN,
    ENERGY_API_STARTUP_WAIT_SECONDS and ENERGY_MCP_ALLOWED_HOSTS (comma-separated)."""
    current = energy_settings.get_settings()
    return ApiConfig(
        tracking_uri=current.mlflow_tracking_uri,
        clean_readings_dir=current.asset_dir / "clean_readings",
        poll_seconds=env_seconds("ENERGY_MODEL_POLL_SECONDS"),
        api_token=env("ENERGY_API_TOKEN") or None,
        startup_wait_seconds=env_seconds("ENERGY_API_STARTUP_WAIT_SECONDS"),
        mcp_allowed_hosts=tuple(h.strip() for h in (env("ENERGY_MCP_ALLOWED_HOSTS") or "").split(",") if h.strip()),
    )
