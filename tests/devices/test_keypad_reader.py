"""KeypadReader fed with evdev.InputEvent streams (no device needed)."""

from __future__ import annotations

from evdev import InputEvent, ecodes

from kiosk.devices.keypad import Key, KeyMap, KeypadReader


def ev(t_s: float, code: int, value: int, ev_type: int = ecodes.EV_KEY) -> InputEvent:
    sec = int(t_s)
    return InputEvent(sec, round((t_s - sec) * 1_000_000), ev_type, code, value)


def syn(t_s: float) -> InputEvent:
    return ev(t_s, ecodes.SYN_REPORT, 0, ecodes.EV_SYN)


def run(reader: KeypadReader, events: list[InputEvent]) -> list[tuple[Key, int]]:
    presses = [reader.feed(e) for e in events]
    return [(p.key, p.code) for p in presses if p is not None]


def test_press_release_gives_one_keypress() -> None:
    reader = KeypadReader(KeyMap.rating())
    events = [ev(100.0, 79, 1), syn(100.0), ev(100.08, 79, 0), syn(100.08)]
    presses = [reader.feed(e) for e in events]
    assert presses[1:] == [None, None, None]
    assert presses[0] is not None
    assert (presses[0].key, presses[0].code) == (Key.RATE_1, 79)
    assert abs(presses[0].time_s - 100.0) < 1e-6


def test_auto_repeat_ignored() -> None:
    reader = KeypadReader(KeyMap.rating())
    events = [ev(1.0, 80, 1), ev(1.5, 80, 2), ev(1.53, 80, 2), ev(1.56, 80, 2), ev(1.6, 80, 0)]
    assert run(reader, events) == [(Key.RATE_2, 80)]


def test_bounce_within_debounce_ignored() -> None:
    reader = KeypadReader(KeyMap.rating(), debounce_s=0.15)
    events = [ev(1.0, 81, 1), ev(1.01, 81, 0), ev(1.02, 81, 1), ev(1.03, 81, 0)]
    assert run(reader, events) == [(Key.RATE_3, 81)]
    assert reader.bounce_count == 1


def test_second_press_after_debounce_counts() -> None:
    reader = KeypadReader(KeyMap.rating(), debounce_s=0.15)
    events = [ev(1.0, 75, 1), ev(1.05, 75, 0), ev(1.4, 75, 1), ev(1.45, 75, 0)]
    assert run(reader, events) == [(Key.RATE_4, 75), (Key.RATE_4, 75)]


def test_different_keys_are_not_bounce() -> None:
    reader = KeypadReader(KeyMap.rating(), debounce_s=0.15)
    events = [ev(1.0, 79, 1), ev(1.01, 79, 0), ev(1.02, 76, 1), ev(1.03, 76, 0)]
    assert run(reader, events) == [(Key.RATE_1, 79), (Key.RATE_5, 76)]


def test_unknown_codes_counted() -> None:
    reader = KeypadReader(KeyMap.rating())
    events = [ev(1.0, ecodes.KEY_NUMLOCK, 1), ev(1.1, ecodes.KEY_NUMLOCK, 0), ev(2.0, 82, 1)]
    assert run(reader, events) == []
    assert reader.unknown_count == 2


def test_non_key_events_ignored() -> None:
    reader = KeypadReader(KeyMap.rating())
    events = [
        ev(1.0, ecodes.MSC_SCAN, 0x70059, ecodes.EV_MSC),
        syn(1.0),
        ev(1.0, ecodes.LED_NUML, 1, ecodes.EV_LED),
    ]
    assert run(reader, events) == []
    assert reader.unknown_count == 0


def test_clock_step_back_is_not_bounce() -> None:
    reader = KeypadReader(KeyMap.caller())
    events = [ev(50.0, 96, 1), ev(50.05, 96, 0), ev(49.0, 96, 1)]
    assert run(reader, events) == [(Key.NEXT, 96), (Key.NEXT, 96)]


def test_caller_keys() -> None:
    reader = KeypadReader(KeyMap.caller())
    codes = [96, 78, 74, 98, 55, 83]
    events = [ev(float(i), code, 1) for i, code in enumerate(codes)]
    assert [k for k, _ in run(reader, events)] == [
        Key.NEXT,
        Key.RECALL,
        Key.NO_SHOW,
        Key.TRANSFER,
        Key.PAUSE,
        Key.FINISH,
    ]
