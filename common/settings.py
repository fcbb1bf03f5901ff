"""Settings loading: a TOML file plus ``HALL_*`` environment overrides, validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

S = TypeVar("S", bound=BaseSettings)


def load_settings(settings_cls: type[S], config_path: Path | str | None = None, **overrides: object) -> S:
    """Build ``settings_cls`` from ``config_path`` (TOML), then environment, then explicit overrides."""
    path = Path(config_path) if config_path else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"configuration file not found: {path}")

    class _Loaded(settings_cls):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    _Loaded.__name__ = settings_cls.__name__
    return _Loaded(**overrides)
