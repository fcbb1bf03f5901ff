"""Exact-byte and property tests of the GA 467 frame codec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.idcard.codec import (
    PHOTO_SIZE,
    TEXT_SIZE,
    Command,
    Request,
    Response,
    Status,
    build_read_payload,
    decode_response,
    parse_read_payload,
    request_decoder,
    response_decoder,
    xor_checksum,
)
from kiosk.devices.idcard.errors import FrameChecksumError, FrameLengthError, IdCardProtocolError

H = bytes.fromhex

REQUESTS = [
    (Command.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (Command.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (Command.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (Command.RESET_SAM, "AA AA AA 96 69 00 03 10 FF EC"),
    (Command.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (Command.READ_SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
]

RESPONSES = [
    (Response(Status.CARD_FOUND, bytes(4)), "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"),
    (Response(Status.OK, bytes(8)), "AA AA AA 96 69 00 0C 00 00 90" + " 00" * 8 + " 9C"),
    (Response(Status.NO_CARD), "AA AA AA 96 69 00 04 00 00 80 84"),
    (Response(Status.OK), "AA AA AA 96 69 00 04 00 00 90 94"),
]


@pytest.mark.parametrize(("command", "frame"), REQUESTS)
def test_request_bytes(command: Command, frame: str) -> None:
    assert Request.of(command).encode() == H(frame)


@pytest.mark.parametrize(("command", "frame"), REQUESTS)
def test_request_decodes(command: Command, frame: str) -> None:
    decoder = request_decoder()
    decoder.feed(H(frame))
    request = decoder.next_frame()
    assert request is not None
    assert request.command is command
    assert request.data == b""


@pytest.mark.parametrize(("response", "frame"), RESPONSES)
def test_response_bytes(response: Response, frame: str) -> None:
    assert response.encode() == H(frame)
    assert decode_response(H(frame)) == response


def test_read_frame_header_and_size() -> None:
    payload = build_read_payload(bytes(TEXT_SIZE), bytes(PHOTO_SIZE))
    frame = Response(Status.OK, payload).encode()
    assert len(frame) == 1295
    assert frame[:14] == H("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")
    assert frame[-1] == xor_checksum(frame[5:-1])
    text, photo = parse_read_payload(decode_response(frame).data)
    assert (len(text), len(photo)) == (TEXT_SIZE, PHOTO_SIZE)


def test_status_flags() -> None:
    assert Response(Status.OK).ok
    assert Response(Status.CARD_FOUND).ok
    assert not Response(Status.NO_CARD).ok


def test_unknown_command_is_kept() -> None:
    request = Request(0x60, 0x04)
    assert request.command is None
    assert request.encode() == H("AA AA AA 96 69 00 03 60 04 67")


def test_partial_reads_and_garbage_resync() -> None:
    frame = H(RESPONSES[0][1])
    decoder = response_decoder()
    stream = H("00 FF AA AA 13 AA") + frame + frame
    got = []
    for byte in stream:
        decoder.feed(bytes([byte]))
        response = decoder.next_frame()
        if response is not None:
            got.append(response)
    assert got == [RESPONSES[0][0]] * 2
    assert decoder.discarded == 6
    assert decoder.buffered == 0


def test_wanted_counts_down_to_frame_end() -> None:
    frame = H(RESPONSES[1][1])
    decoder = response_decoder()
    assert decoder.wanted() == 7
    decoder.feed(frame[:3])
    assert decoder.wanted() == 4
    decoder.feed(frame[3:9])
    assert decoder.wanted() == len(frame) - 9


def test_bad_checksum_is_typed_and_skipped() -> None:
    good = H(RESPONSES[0][1])
    decoder = response_decoder()
    decoder.feed(good[:-1] + b"\x00" + good)
    with pytest.raises(FrameChecksumError):
        decoder.next_frame()
    assert decoder.next_frame() == RESPONSES[0][0]


@pytest.mark.parametrize("length", ["00 00", "00 03", "FF FF"])
def test_impossible_length_is_typed(length: str) -> None:
    decoder = response_decoder()
    decoder.feed(H("AA AA AA 96 69 " + length + " 00 00 90"))
    with pytest.raises(FrameLengthError):
        decoder.next_frame()


def test_decode_response_refuses_extra_bytes() -> None:
    with pytest.raises(IdCardProtocolError):
        decode_response(H(RESPONSES[0][1]) + b"\x00")


@pytest.mark.parametrize("payload", [b"", H("01 00 04 00") + bytes(10), H("00 02 00 00") + bytes(3)])
def test_bad_read_payload(payload: bytes) -> None:
    with pytest.raises(FrameLengthError):
        parse_read_payload(payload)


def _drain(decoder_stream: bytes, chunk_sizes: list[int]) -> list[object]:
    """Feed in chunks; collect frames and typed errors; a bounded loop, so never hangs."""
    decoder = response_decoder()
    out: list[object] = []
    pos = 0
    for size in [*chunk_sizes, len(decoder_stream)]:
        decoder.feed(decoder_stream[pos : pos + size])
        pos += size
        for _ in range(len(decoder_stream) + 2):
            try:
                frame = decoder.next_frame()
            except IdCardProtocolError as err:
                out.append(err)
                continue
            if frame is None:
                break
            out.append(frame)
        else:
            pytest.fail("decoder kept producing output without consuming input")
    return out


responses = st.builds(
    Response,
    sw3=st.integers(0, 255),
    data=st.binary(max_size=300),
    sw1=st.integers(0, 255),
    sw2=st.integers(0, 255),
)


@settings(max_examples=200, deadline=None)
@given(responses, st.binary(max_size=40).filter(lambda b: 0xAA not in b), st.lists(st.integers(1, 50)))
def test_round_trip_any_split_with_noise(response: Response, noise: bytes, chunks: list[int]) -> None:
    assert _drain(noise + response.encode(), chunks) == [response]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 64)))
def test_random_bytes_give_frames_or_typed_errors(stream: bytes, chunks: list[int]) -> None:
    for item in _drain(stream, chunks):
        assert isinstance(item, Response | IdCardProtocolError)


@settings(max_examples=300, deadline=None)
@given(responses, st.data())
def test_corrupted_or_truncated_frames(response: Response, data: st.DataObject) -> None:
    frame = bytearray(response.encode())
    cut = data.draw(st.integers(0, len(frame)))
    index = data.draw(st.integers(5, len(frame) - 1))
    frame[index] ^= data.draw(st.integers(1, 255))
    out = _drain(bytes(frame[:cut]), [])
    assert all(isinstance(item, Response | IdCardProtocolError) for item in out)
    # One flipped byte after the preamble never yields the original frame unnoticed.
    assert response not in out


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=100))
def test_request_round_trip(cmd: int, para: int, data: bytes) -> None:
    decoder = request_decoder()
    decoder.feed(Request(cmd, para, data).encode())
    assert decoder.next_frame() == Request(cmd, para, data)
