"""Serial evaluator frames: exact bytes (the package docstring examples) and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.evaluator import (
    AckFrame,
    Command,
    CommandFrame,
    EvaluatorProtocolError,
    Frame,
    FrameDecoder,
    NakFrame,
    PressFrame,
    ReceiptFrame,
    decode_frame,
    encode_frame,
)
from kiosk.devices.evaluator.codec import MAX_FRAME

TABLE: list[tuple[Frame, str]] = [
    (CommandFrame(Command.ARM), "02 41 03 42"),
    (CommandFrame(Command.DISARM), "02 44 03 47"),
    (CommandFrame(Command.PING), "02 50 03 53"),
    (ReceiptFrame(0x0A), "02 52 30 41 03 20"),
    (ReceiptFrame(0xFF), "02 52 46 46 03 51"),
    (AckFrame(Command.ARM, armed=True), "02 4B 41 31 03 38"),
    (AckFrame(Command.PING, armed=False), "02 4B 50 30 03 28"),
    (NakFrame("?"), "02 4E 3F 03 72"),
    (PressFrame(2, 0x0A), "02 45 32 30 41 03 05"),
    (PressFrame(1, 0x00), "02 45 31 30 30 03 77"),
    (PressFrame(5, 0xFF), "02 45 35 46 46 03 73"),
]


@pytest.mark.parametrize(("frame", "wire"), TABLE)
def test_exact_bytes(frame: Frame, wire: str) -> None:
    data = bytes.fromhex(wire)
    assert encode_frame(frame) == data
    assert decode_frame(data) == frame


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ("02 41 03 43", "bad BCC"),
        ("02 41 03", "not a frame"),
        ("41 03 42", "not a frame"),
        ("02 58 03 5B", "bad frame type"),
        ("02 45 36 30 41 03 01", "bad frame type"),  # level 6
        ("02 45 32 30 61 03 25", "bad seq"),  # lower-case hex
        ("02 4B 41 32 03 3B", "bad frame type"),  # armed flag '2'
        ("02 41 80 03 C2", "non-ASCII"),
        ("02 45 32 30 41 41 03 44", "not a frame"),  # too long
    ],
)
def test_invalid_frames(wire: str, message: str) -> None:
    with pytest.raises(EvaluatorProtocolError, match=message):
        decode_frame(bytes.fromhex(wire))


@pytest.mark.parametrize(
    "frame", [PressFrame(0, 1), PressFrame(6, 1), PressFrame(1, 256), ReceiptFrame(-1), NakFrame("X")]
)
def test_encode_rejects_out_of_range(frame: Frame) -> None:
    with pytest.raises(EvaluatorProtocolError):
        encode_frame(frame)


def test_decoder_resyncs_after_noise_and_broken_frames() -> None:
    press = encode_frame(PressFrame(3, 7))
    ack = encode_frame(AckFrame(Command.ARM, True))
    stream = b"\xff\x00" + press[:3] + ack + b"\x02\x41\x42\x43\x44\x45\x46" + press
    out = FrameDecoder().feed(stream)
    frames = [item for item in out if not isinstance(item, EvaluatorProtocolError)]
    errors = [str(item) for item in out if isinstance(item, EvaluatorProtocolError)]
    assert frames == [AckFrame(Command.ARM, True), PressFrame(3, 7)]
    assert [e.split(":")[0] for e in errors] == [
        "skipped 2 stray bytes",
        "broken frame",
        "broken frame",
        "skipped 6 stray bytes",
    ]


def test_decoder_waits_for_rest_of_frame() -> None:
    decoder = FrameDecoder()
    data = encode_frame(PressFrame(4, 0x42))
    assert decoder.feed(data[:4]) == []
    assert decoder.pending == 4
    assert decoder.feed(data[4:]) == [PressFrame(4, 0x42)]


def test_bcc_equal_to_stx_is_fine() -> None:
    # The BCC byte may be 0x02 (STX); it is read by position, not taken as a new frame.
    frame = next(
        f
        for f in (PressFrame(level, seq) for level in range(1, 6) for seq in range(256))
        if encode_frame(f)[-1] == 0x02
    )
    assert FrameDecoder().feed(encode_frame(frame) * 2) == [frame, frame]


frames = st.one_of(
    st.builds(CommandFrame, st.sampled_from(Command)),
    st.builds(ReceiptFrame, st.integers(0, 255)),
    st.builds(AckFrame, st.sampled_from(Command), st.booleans()),
    st.builds(NakFrame, st.sampled_from(["A", "D", "P", "?"])),
    st.builds(PressFrame, st.integers(1, 5), st.integers(0, 255)),
)


@given(st.lists(frames, max_size=10), st.lists(st.integers(1, 9), max_size=20))
def test_roundtrip_any_chunking(items: list[Frame], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(f) for f in items)
    decoder = FrameDecoder()
    out: list[Frame | EvaluatorProtocolError] = []
    pos = 0
    for cut in cuts:
        out += decoder.feed(stream[pos : pos + cut])
        pos += cut
    out += decoder.feed(stream[pos:])
    assert out == items
    assert decoder.pending == 0


@given(st.binary(max_size=64))
def test_random_bytes_give_frames_or_typed_errors(data: bytes) -> None:
    decoder = FrameDecoder()
    out = decoder.feed(data)
    assert all(
        isinstance(
            item, EvaluatorProtocolError | CommandFrame | ReceiptFrame | AckFrame | NakFrame | PressFrame
        )
        for item in out
    )
    assert decoder.pending < MAX_FRAME


@given(frames, st.integers(0, 6), st.integers(1, 255))
def test_corrupted_frame_never_decodes_to_something_else_silently(
    frame: Frame, index: int, flip: int
) -> None:
    data = bytearray(encode_frame(frame))
    data[index % len(data)] ^= flip
    out = FrameDecoder().feed(bytes(data) + encode_frame(frame))
    # A single corrupted byte is always caught (BCC or framing); the next frame still decodes.
    assert out[-1] == frame
    assert any(isinstance(item, EvaluatorProtocolError) for item in out[:-1])
    assert frame not in out[:-1]


@given(frames, st.integers(0, 6))
def test_truncated_frame_then_next_frame(frame: Frame, cut: int) -> None:
    data = encode_frame(frame)
    out = FrameDecoder().feed(data[: cut % len(data)] + data)
    assert out[-1] == frame
