"""Kiosk settings: one TOML file plus HALL_KIOSK_* environment overrides, validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import load_settings
from kiosk.devices.printer.commands import normalize_encoding

SIMULATED = "sim"
DEMO_IDENTITIES = Path(__file__).parent / "screens" / "demo_identities.json"


class KioskSettings(BaseSettings):
    """Settings of the ticket kiosk. A device URL of ``sim`` starts a simulator in-process."""

    model_config = SettingsConfigDict(env_prefix="HALL_KIOSK_", extra="forbid")

    server_url: str = "http://127.0.0.1:8600"
    device_id: str = "kiosk-1"
    device_key: SecretStr = SecretStr("")
    ca_file: Path | None = None
    hall_name: str = "政务服务中心"
    timezone: str = "Asia/Shanghai"
    data_dir: Path = Path("var/kiosk")
    printer_url: str = SIMULATED
    printer_baud: int = 9600
    printer_encoding: str = "gb18030"
    printer_check_s: float = Field(default=2.0, gt=0)
    idcard_url: str = SIMULATED
    idcard_baud: int = 115200
    # The card serial lane, used only when idcard_url is "" (no SAM reader): "" = none; "sim" = a
    # virtual card on pcscd's vpcd reader; else a PC/SC reader name or a pattern of it.
    card_serial_reader: str = ""
    card_serial_sim_port: int = Field(default=35963, ge=1, le=65535)  # vpcd's port of "Virtual PCD 00 00"
    sim_identities: Path = DEMO_IDENTITIES
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8700, ge=0, le=65535)
    priority_age: int = Field(default=70, ge=0)
    reissue_minutes: int = Field(default=30, ge=0)
    idle_timeout_s: float = Field(default=60.0, gt=0)
    ticket_screen_s: float = Field(default=20.0, gt=0)
    failure_screen_s: float = Field(default=30.0, gt=0)
    unprinted_cancel_after_s: float = Field(default=900.0, gt=0)
    items_refresh_s: float = Field(default=30.0, gt=0)
    server_timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("printer_encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return normalize_encoding(value)

    @model_validator(mode="after")
    def _require_key(self) -> KioskSettings:
        if not self.device_key.get_secret_value():
            raise ValueError(
                "device_key is required: create one with `hall admin device add kiosk-1 --kind kiosk`"
            )
        self.server_url = self.server_url.rstrip("/")
        return self

    @property
    def card_lane(self) -> str:
        """How the card lane reads ID cards: "sam" (full identity), "serial" (UID only) or "" (none)."""
        if self.idcard_url:
            return "sam"
        return "serial" if self.card_serial_reader else ""

    @property
    def journal_path(self) -> Path:
        """Where tickets not yet printed (or not yet reported) are kept across restarts."""
        return self.data_dir / f"unprinted-{self.device_id}.json"


def get_kiosk_settings(config_path: Path | str | None = None, **overrides: object) -> KioskSettings:
    """Load the kiosk settings from a TOML file, the environment and explicit overrides."""
    return load_settings(KioskSettings, config_path, **overrides)
