"""The udev rules file parses: every rule is a list of valid KEY=="..." / KEY="..." pairs."""

from __future__ import annotations

import re
from pathlib import Path

RULES = Path(__file__).resolve().parents[2] / "deploy" / "udev" / "99-service-hall.rules"
PAIR = re.compile(r'\s*([A-Z_]+(?:\{[A-Za-z0-9_]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')
MATCH_KEYS = {"SUBSYSTEM", "KERNEL", "ATTRS", "ATTR", "ENV", "DRIVERS", "KERNELS"}
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "ENV", "OWNER", "TAG"}


def parse(line: str) -> list[tuple[str, str, str]]:
    pairs, pos = [], 0
    while pos < len(line):
        match = PAIR.match(line, pos)
        assert match, f"cannot parse at {line[pos:]!r}"
        pairs.append(match.groups())
        pos = match.end()
    return pairs


def rules() -> list[list[tuple[str, str, str]]]:
    lines = [line.strip() for line in RULES.read_text(encoding="utf-8").splitlines()]
    return [parse(line) for line in lines if line and not line.startswith("#")]


def test_every_rule_parses_with_known_keys() -> None:
    parsed = rules()
    assert len(parsed) >= 6
    for pairs in parsed:
        for key, op, _ in pairs:
            base = key.split("{")[0]
            if op == "==":
                assert base in MATCH_KEYS, key
            else:
                assert base in ASSIGN_KEYS, key
        assigned = {key: value for key, op, value in pairs if op != "=="}
        assert assigned["GROUP"] == "hall"
        assert assigned["MODE"] == "0660"


def test_stable_names() -> None:
    names = {value for pairs in rules() for key, op, value in pairs if key == "SYMLINK" and op == "+="}
    assert names >= {
        "hall/keypad-rating",
        "hall/keypad-caller",
        "hall/fingerprint",
        "hall/idcard",
        "hall/printer",
        "hall/evaluator",
    }


def test_ids_are_marked_as_examples() -> None:
    text = RULES.read_text(encoding="utf-8")
    assert "EDIT ON SITE" in text
    for ids in ('"1a86", ATTRS{idProduct}=="7523"', '"10c4", ATTRS{idProduct}=="ea60"', '"067b"'):
        assert ids in text
    for pairs in rules():
        for key, _, value in pairs:
            if key.endswith(("{idVendor}", "{idProduct}")):
                assert re.fullmatch(r"[0-9a-f]{4}", value), value
