"""Server settings: TOML file + HALL_* environment, validated at start."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import load_settings

WEAK_SECRETS = frozenset({"", "changeme", "change-me", "secret", "demo"})


class ServerSettings(BaseSettings):
    """Settings of the central server process."""

    model_config = SettingsConfigDict(env_prefix="HALL_", extra="forbid")

    database_url: str = "sqlite:///var/hall.db"
    demo: bool = False
    secret_key: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = 8600
    workers: int = 1
    timezone: str = "Asia/Shanghai"
    hall_name: str = "政务服务中心"
    max_body_bytes: int = Field(default=4_000_000, gt=0)
    public_base_url: str = ""

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> ServerSettings:
        secret = self.secret_key.get_secret_value()
        if not self.demo and (secret.lower() in WEAK_SECRETS or len(secret) < 16):
            raise ValueError(
                "secret_key must be set to a random value of at least 16 characters "
                "(HALL_SECRET_KEY or secret_key in the TOML file); only demo mode may run without one"
            )
        return self

    @property
    def base_url(self) -> str:
        """The URL citizens' phones and the pages use to reach this server."""
        return self.public_base_url or f"http://{self.host}:{self.port}"


def get_settings(config_path: Path | str | None = None) -> ServerSettings:
    """Load the server settings from ``config_path`` or ``$HALL_CONFIG``."""
    path = config_path or os.environ.get("HALL_CONFIG") or None
    return load_settings(ServerSettings, path)
