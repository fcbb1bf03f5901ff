"""Key maps of the rating keypad and the caller keys."""

from __future__ import annotations

import pytest
from evdev import ecodes

from kiosk.devices.keypad import Key, KeyMap, KeypadConfigError

# Codes from PROTOCOLS.md section 4.
RATING_TABLE = [
    (79, Key.RATE_1),
    (80, Key.RATE_2),
    (81, Key.RATE_3),
    (75, Key.RATE_4),
    (76, Key.RATE_5),
    (2, Key.RATE_1),
    (3, Key.RATE_2),
    (4, Key.RATE_3),
    (5, Key.RATE_4),
    (6, Key.RATE_5),
    (107, Key.RATE_1),  # End (NumLock off)
    (108, Key.RATE_2),  # Down
    (109, Key.RATE_3),  # PageDown
    (105, Key.RATE_4),  # Left
]

CALLER_TABLE = [
    (96, Key.NEXT),
    (28, Key.NEXT),
    (78, Key.RECALL),
    (74, Key.NO_SHOW),
    (98, Key.TRANSFER),
    (55, Key.PAUSE),
    (83, Key.FINISH),
    (111, Key.FINISH),  # Delete (NumLock off)
]


@pytest.mark.parametrize(("code", "key"), RATING_TABLE)
def test_rating_defaults(code: int, key: Key) -> None:
    assert KeyMap.rating()[code] is key


@pytest.mark.parametrize(("code", "key"), CALLER_TABLE)
def test_caller_defaults(code: int, key: Key) -> None:
    assert KeyMap.caller()[code] is key


def test_maps_are_disjoint_and_complete() -> None:
    rating, caller = KeyMap.rating(), KeyMap.caller()
    assert not set(rating) & set(caller)
    assert {rating[c] for c in rating} == {Key.rating(level) for level in range(1, 6)}
    assert {caller[c] for c in caller} == {
        Key.NEXT,
        Key.RECALL,
        Key.NO_SHOW,
        Key.TRANSFER,
        Key.PAUSE,
        Key.FINISH,
    }


def test_reversed_order_swaps_levels() -> None:
    reversed_map = KeyMap.rating(reversed_order=True)
    assert reversed_map[ecodes.KEY_KP1] is Key.RATE_5
    assert reversed_map[ecodes.KEY_KP3] is Key.RATE_3
    assert reversed_map[ecodes.KEY_KP5] is Key.RATE_1


def test_code_for_gives_keypad_code_first() -> None:
    assert KeyMap.rating().code_for(Key.RATE_2) == ecodes.KEY_KP2
    assert KeyMap.caller().code_for(Key.NEXT) == ecodes.KEY_KPENTER
    with pytest.raises(KeypadConfigError):
        KeyMap.caller().code_for(Key.RATE_1)


def test_from_config() -> None:
    keymap = KeyMap.from_config({"KEY_F1": "RATE_1", "key_f2": "rate_2", "59": "NEXT"})
    assert dict(keymap) == {ecodes.KEY_F1: Key.NEXT, ecodes.KEY_F2: Key.RATE_2}
    reversed_map = KeyMap.from_config({"KEY_A": "RATE_2"}, reversed_order=True)
    assert reversed_map[ecodes.KEY_A] is Key.RATE_4


@pytest.mark.parametrize("config", [{"KEY_NOPE": "RATE_1"}, {"KEY_KP1": "GOOD"}, {"ABS_X": "RATE_1"}])
def test_from_config_rejects_unknown_names(config: dict[str, str]) -> None:
    with pytest.raises(KeypadConfigError):
        KeyMap.from_config(config)


def test_rating_level() -> None:
    assert [Key.rating(level).rating_level for level in range(1, 6)] == [1, 2, 3, 4, 5]
    assert Key.NEXT.rating_level is None
    with pytest.raises(KeypadConfigError):
        Key.rating(6)
