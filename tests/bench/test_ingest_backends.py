"""``BENCH_INGEST_BACKENDS`` picks the backends the ingestion benchmark measures."""

from __future__ import annotations

import pytest

from bench import ingest


def test_all_backends_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ingest.BACKENDS_ENV, raising=False)
    assert ingest.backends() == ingest.BACKENDS


def test_one_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ingest.BACKENDS_ENV, " sqlite ")
    assert ingest.backends() == ("sqlite",)
    monkeypatch.setenv(ingest.BACKENDS_ENV, "postgres,sqlite,postgres")
    assert ingest.backends() == ("postgres", "sqlite")


def test_unknown_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ingest.BACKENDS_ENV, "sqlite,oracle")
    with pytest.raises(ValueError, match="oracle"):
        ingest.backends()
