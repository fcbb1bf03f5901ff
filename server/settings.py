"""Server settings: TOML file + HALL_* environment, validated at start."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import load_settings

WEAK_SECRETS = frozenset({"", "changeme", "change-me", "secret", "demo"})


class AssessmentRule(BaseModel):
    """Thresholds of the monthly officer assessment (优秀 / 称职 / 不称职) on ratings and attendance."""

    min_rated: int = Field(default=20, ge=0)  # fewer rated services: no 优秀, at most 称职
    excellent_rate: float = Field(default=0.98, ge=0, le=1)
    excellent_max_bad: int = Field(default=0, ge=0)
    competent_rate: float = Field(default=0.90, ge=0, le=1)
    incompetent_bad: int = Field(default=5, ge=1)  # this many bad reviews is 不称职 whatever the rate
    # Attendance: "marks" are late arrivals, early leaves and missed punches of the month.
    excellent_max_absent_days: float = Field(default=0, ge=0)
    excellent_max_marks: int = Field(default=1, ge=0)
    incompetent_absent_days: float = Field(default=2, gt=0)  # this many days of 旷工 is 不称职
    incompetent_marks: int = Field(default=6, ge=1)  # this many marks is 不称职


class ServerSettings(BaseSettings):
    """Settings of the central server process."""

    model_config = SettingsConfigDict(env_prefix="HALL_", extra="forbid")

    database_url: str = "sqlite:///var/hall.db"
    # SQLite only: how long a request waits for another's write transaction before it is refused (503).
    sqlite_busy_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # Requests of one server process that may do database work at once (``server.api.deps.db_turn``);
    # the rest wait on the event loop. Below anyio's 40 worker threads. Unset: 8
    # (``server.api.deps.DB_REQUESTS_DEFAULT``, docs/performance.md).
    db_requests_per_process: int | None = Field(default=None, ge=1, le=32)
    # The longest an agent's command long poll waits, whatever its wait_s (at most 30 s, the API's limit).
    command_wait_max_s: float = Field(default=30.0, ge=0, le=30)
    demo: bool = False
    secret_key: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = 8600
    workers: int = 1
    timezone: str = "Asia/Shanghai"
    hall_name: str = "政务服务中心"
    max_body_bytes: int = Field(default=4_000_000, gt=0)
    public_base_url: str = ""
    # Cases (办件): yellow warning when due within this many working days; hall calendar overrides.
    case_warning_days: int = Field(default=1, ge=0)
    workday_closed_days: list[date] = Field(default_factory=list)
    workday_extra_working_days: list[date] = Field(default_factory=list)
    workday_weekday_fallback: bool = False
    queue_last_ticket_time: str = Field(default="16:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    queue_closing_time: str = Field(default="17:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    queue_no_show_places_back: int = Field(default=3, ge=0, le=50)  # 过号: re-queued this far back
    # Appointment check-in at the kiosk: this many minutes before .. after the slot start.
    appointment_grace_early_min: int = Field(default=15, ge=0, le=240)
    appointment_grace_late_min: int = Field(default=15, ge=0, le=240)
    followup_verify_days: int = Field(default=1, ge=1, le=30)  # working days to verify a bad review
    followup_rectify_days: int = Field(default=15, ge=1, le=90)  # working days to rectify and call back
    assessment: AssessmentRule = Field(default_factory=AssessmentRule)

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
