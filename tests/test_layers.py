"""Layers point one way: checked on the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level packages it must never import
FORBIDDEN = {
    "kiosk/devices": {
        "server",
        "counter_agent",
        "hall",
        "sqlmodel",
        "sqlalchemy",
        "fastapi",
        "starlette",
        "uvicorn",
    },
    "server": {"kiosk", "counter_agent", "hall", "serial", "evdev", "smartcard", "escpos"},
    "counter_agent": {"server", "hall", "sqlmodel", "sqlalchemy"},
    "common": {"server", "counter_agent", "kiosk", "hall", "sqlmodel", "sqlalchemy", "fastapi"},
}
# The pure ID-number check is shared by the server's case rules: a pure function, no I/O.
ALLOWED = {("server", "kiosk.devices.idcard.identity")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    offending = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[package] and (package, name) not in ALLOWED:
                offending.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offending == []


def test_kiosk_app_does_not_import_the_server() -> None:
    kiosk = ROOT / "kiosk"
    offending = [
        f"{p.relative_to(ROOT)} imports {n}"
        for p in kiosk.rglob("*.py")
        for n in _imports(p)
        if n.split(".")[0] in {"server", "counter_agent"}
    ]
    assert offending == []
