"""struct input_event codec: exact bytes and property tests."""

from __future__ import annotations

import pytest
from evdev import InputEvent
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.keypad import KeypadProtocolError
from kiosk.devices.keypad.codec import RECORD_SIZE, InputEventDecoder, decode_input_event, encode_input_event

KP1_PRESS = bytes.fromhex(
    "39 30 00 00 00 00 00 00"  # sec 12345
    "40 e2 01 00 00 00 00 00"  # usec 123456
    "01 00"  # EV_KEY
    "4f 00"  # KEY_KP1 = 79
    "01 00 00 00"  # press
)
SYN = bytes.fromhex("39 30 00 00 00 00 00 00 40 e2 01 00 00 00 00 00 00 00 00 00 00 00 00 00")
AUTO_REPEAT_KPENTER = bytes.fromhex("00000000000000000000000000000000 0100 6000 02000000")


def key(e: InputEvent) -> tuple[int, int, int, int, int]:
    return (e.sec, e.usec, e.type, e.code, e.value)


@pytest.mark.parametrize(
    ("event", "data"),
    [
        (InputEvent(12345, 123456, 1, 79, 1), KP1_PRESS),
        (InputEvent(12345, 123456, 0, 0, 0), SYN),
        (InputEvent(0, 0, 1, 96, 2), AUTO_REPEAT_KPENTER),
    ],
)
def test_exact_bytes(event: InputEvent, data: bytes) -> None:
    assert RECORD_SIZE == 24
    assert encode_input_event(event) == data
    assert key(decode_input_event(data)) == key(event)


def test_negative_value_roundtrip() -> None:
    event = InputEvent(1, 2, 2, 0, -1)  # EV_REL can be negative
    assert decode_input_event(encode_input_event(event)).value == -1


@pytest.mark.parametrize(
    "data",
    [
        KP1_PRESS[:23],
        KP1_PRESS + b"\x00",
        KP1_PRESS[:8] + (1_000_000).to_bytes(8, "little") + KP1_PRESS[16:],
        KP1_PRESS[:16] + (0x20).to_bytes(2, "little") + KP1_PRESS[18:],
        (-1).to_bytes(8, "little", signed=True) + KP1_PRESS[8:],
    ],
)
def test_invalid_records(data: bytes) -> None:
    with pytest.raises(KeypadProtocolError):
        decode_input_event(data)


def test_decoder_reassembles_split_records() -> None:
    decoder = InputEventDecoder()
    stream = KP1_PRESS + SYN
    out = decoder.feed(stream[:5]) + decoder.feed(stream[5:30]) + decoder.feed(stream[30:])
    assert [key(e) for e in out] == [(12345, 123456, 1, 79, 1), (12345, 123456, 0, 0, 0)]
    assert decoder.pending == 0


def test_decoder_skips_invalid_record() -> None:
    decoder = InputEventDecoder()
    bad = b"\xff" * 24
    out = decoder.feed(bad + KP1_PRESS)
    assert [e.code for e in out] == [79]
    assert decoder.invalid_count == 1


events = st.builds(
    InputEvent,
    st.integers(0, 2**40),
    st.integers(0, 999_999),
    st.integers(0, 0x1F),
    st.integers(0, 0xFFFF),
    st.integers(-(2**31), 2**31 - 1),
)


@given(st.lists(events, max_size=20), st.lists(st.integers(1, 30), max_size=30))
def test_roundtrip_any_chunking(evs: list[InputEvent], cuts: list[int]) -> None:
    stream = b"".join(encode_input_event(e) for e in evs)
    decoder = InputEventDecoder()
    out: list[InputEvent] = []
    pos = 0
    for cut in cuts:
        out += decoder.feed(stream[pos : pos + cut])
        pos += cut
    out += decoder.feed(stream[pos:])
    assert [key(e) for e in out] == [key(e) for e in evs]
    assert decoder.pending == 0


@given(st.binary(max_size=24 * 6))
def test_random_bytes_never_crash(data: bytes) -> None:
    decoder = InputEventDecoder()
    out = decoder.feed(data)
    assert len(out) + decoder.invalid_count == len(data) // RECORD_SIZE
    assert decoder.pending == len(data) % RECORD_SIZE
    for event in out:
        assert 0 <= event.usec < 1_000_000


@given(st.binary(min_size=24, max_size=24))
def test_decode_is_event_or_typed_error(record: bytes) -> None:
    try:
        event = decode_input_event(record)
    except KeypadProtocolError:
        return
    assert encode_input_event(event) == record
