"""Counter agent settings: one TOML file per window plus HALL_AGENT_* environment overrides."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import load_settings

SIMULATED = "sim"


class AgentSettings(BaseSettings):
    """Settings of one window's counter agent. A device URL of ``sim`` starts a simulator in-process."""

    model_config = SettingsConfigDict(env_prefix="HALL_AGENT_", extra="forbid")

    window: int = Field(ge=1)
    device_id: str = ""
    server_url: str = "http://127.0.0.1:8600"
    device_key: SecretStr = SecretStr("")
    ca_file: Path | None = None
    data_dir: Path = Path("var/agent")
    outbox_max_bytes: int | None = Field(default=None, gt=0)
    rating_keypad_url: str = ""
    caller_keypad_url: str = ""
    fingerprint_url: str = ""
    fingerprint_baud: int = 57600
    # "" = no badge reader; "sim" = a virtual card on pcscd's vpcd reader; else a reader name or pattern.
    badge_reader: str = ""
    badge_sim_port: int = Field(default=35963, ge=1, le=65535)  # vpcd's port of "Virtual PCD 00 00"
    printer_url: str = ""
    printer_baud: int = 9600
    printer_encoding: str = "gb18030"
    rating_keymap: dict[str, str] = Field(default_factory=dict)
    rating_keys_reversed: bool = False
    rating_timeout_s: float = Field(default=30.0, gt=0)
    punch_dedupe_s: float = Field(default=60.0, ge=0)
    heartbeat_s: float = Field(default=15.0, gt=0)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535)

    @model_validator(mode="after")
    def _defaults_and_key(self) -> AgentSettings:
        if not self.device_id:
            self.device_id = f"agent-w{self.window}"
        if not self.device_key.get_secret_value():
            raise ValueError(
                "device_key is required: create one with"
                " `hall admin device add agent-wN --kind agent --window N`"
            )
        return self

    @property
    def outbox_path(self) -> Path:
        """Where this window's outbox lives."""
        return self.data_dir / f"outbox-{self.device_id}.db"

    @property
    def simulated(self) -> bool:
        """True when any device is simulated in-process."""
        urls = (self.rating_keypad_url, self.caller_keypad_url, self.fingerprint_url)
        return SIMULATED in urls


def get_agent_settings(config_path: Path | str | None = None, **overrides: object) -> AgentSettings:
    """Load the agent settings from a TOML file, the environment and explicit overrides."""
    return load_settings(AgentSettings, config_path, **overrides)
