"""Exact-byte and property tests of the fingerprint codec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.fingerprint import codec
from kiosk.devices.fingerprint.codec import Ack, Packet, PacketDecoder, PacketType, SystemParameters
from kiosk.devices.fingerprint.errors import (
    CODE_ERRORS,
    BadHeaderError,
    ChecksumError,
    ConfirmationError,
    EnrollMismatchError,
    FingerNotFoundError,
    FingerprintError,
    FingerprintProtocolError,
    NoFingerError,
    PageOutOfRangeError,
    PasswordRequiredError,
    PoorImageError,
    WrongPasswordError,
    error_for_code,
)

H = "EF01FFFFFFFF"

# The example packets of PROTOCOLS.md section 1, byte for byte.
DOC_EXAMPLES = [
    (codec.gen_img(), H + "01 0003 01 0005"),
    (codec.img2tz(1), H + "01 0004 02 01 0008"),
    (codec.search(1, 0, 0x00A3), H + "01 0008 04 01 0000 00A3 00B1"),
    (codec.reg_model(), H + "01 0003 05 0009"),
    (codec.store(1, 1), H + "01 0006 06 01 0001 000F"),
    (codec.template_num(), H + "01 0003 1D 0021"),
    (codec.vfy_pwd(0), H + "01 0007 13 00000000 001B"),
    (codec.encode_ack(0x00), H + "07 0003 00 000A"),
    (codec.encode_ack(0x02), H + "07 0003 02 000C"),
]

# The remaining builders, checksums worked out by hand from the rule in PROTOCOLS.md.
OTHER_COMMANDS = [
    (codec.img2tz(2), H + "01 0004 02 02 0009"),
    (codec.match(), H + "01 0003 03 0007"),
    (codec.delete_char(5, 1), H + "01 0007 0C 0005 0001 001A"),
    (codec.empty(), H + "01 0003 0D 0011"),
    (codec.set_sys_para(5, 3), H + "01 0005 0E 05 03 001C"),
    (codec.read_sys_para(), H + "01 0003 0F 0013"),
    (codec.read_index_table(0), H + "01 0004 1F 00 0024"),
    (codec.vfy_pwd(0x01020304), H + "01 0007 13 01020304 0025"),
    (codec.gen_img(address=0x12345678), "EF01 12345678 01 0003 01 0005"),
    (codec.encode_packet(PacketType.DATA, b"\xff\xff"), H + "02 0004 FFFF 0204"),
]


def hexb(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize(("encoded", "expected"), DOC_EXAMPLES + OTHER_COMMANDS)
def test_exact_bytes(encoded: bytes, expected: str) -> None:
    assert encoded == hexb(expected)


@pytest.mark.parametrize(("encoded", "expected"), DOC_EXAMPLES + OTHER_COMMANDS)
def test_decoder_reads_every_example_back(encoded: bytes, expected: str) -> None:
    packets = PacketDecoder().feed(hexb(expected))
    assert [p.encode() for p in packets] == [encoded]


def test_ack_examples_parse() -> None:
    (ok,) = PacketDecoder().feed(hexb(H + "07 0003 00 000A"))
    (no_finger,) = PacketDecoder().feed(hexb(H + "07 0003 02 000C"))
    assert codec.parse_ack(ok) == Ack(0x00)
    assert codec.parse_ack(ok).ok
    with pytest.raises(NoFingerError) as info:
        codec.parse_ack(no_finger).raise_for_code()
    assert info.value.code == 0x02


def test_parse_ack_rejects_a_command_packet() -> None:
    (packet,) = PacketDecoder().feed(codec.gen_img())
    with pytest.raises(FingerprintProtocolError):
        codec.parse_ack(packet)


CODE_CLASSES = {
    0x02: NoFingerError,
    0x06: PoorImageError,
    0x07: PoorImageError,
    0x09: FingerNotFoundError,
    0x0A: EnrollMismatchError,
    0x0B: PageOutOfRangeError,
    0x13: WrongPasswordError,
    0x21: PasswordRequiredError,
}

ALL_CODES = [0x01, 0x02, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F]
ALL_CODES += [0x10, 0x11, 0x13, 0x15, 0x18, 0x1A, 0x20, 0x21]


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_documented_code_has_a_typed_error(code: int) -> None:
    assert code in CODE_ERRORS
    err = error_for_code(code)
    assert type(err) is not ConfirmationError
    assert isinstance(err, FingerprintError)
    assert err.code == code
    assert err.message_zh
    assert codec.describe_code(code) in str(err)
    if code in CODE_CLASSES:
        assert type(err) is CODE_CLASSES[code]


def test_unknown_code_gives_the_base_confirmation_error() -> None:
    err = error_for_code(0x77)
    assert type(err) is ConfirmationError
    assert err.code == 0x77
    assert codec.describe_code(0) == "ok"


def test_reply_data_parsers() -> None:
    assert Ack(0, hexb("0003 0064")).match() == codec.Match(page=3, score=100)
    assert Ack(0, hexb("00C8")).word(0) == 200
    with pytest.raises(FingerprintProtocolError):
        Ack(0, b"\x01").word(0)


def test_system_parameters_round_trip() -> None:
    data = hexb("0000 0009 00C8 0003 FFFFFFFF 0002 0006")
    params = SystemParameters.decode(data)
    assert params == SystemParameters(0, 9, 200, 3, 0xFFFFFFFF, 128, 57600)
    assert params.encode() == data
    with pytest.raises(FingerprintProtocolError):
        SystemParameters.decode(data[:10])


def test_index_table_bits_are_lsb_first() -> None:
    bitmap = codec.encode_index_table({0, 9, 255, 256, 300}, 0)
    assert bitmap[:2] == b"\x01\x02"
    assert bitmap[31] == 0x80
    assert Ack(0, bitmap).index_pages(0) == {0, 9, 255}
    assert Ack(0, codec.encode_index_table({256, 300}, 1)).index_pages(1) == {256, 300}


def test_encode_rejects_impossible_packets() -> None:
    with pytest.raises(ValueError):
        codec.encode_packet(PacketType.DATA, bytes(257))
    with pytest.raises(ValueError):
        codec.encode_packet(PacketType.COMMAND, b"\x01", address=1 << 32)


# -- decoder behaviour ---------------------------------------------------------------------------


def test_partial_reads_byte_by_byte() -> None:
    decoder = PacketDecoder()
    frame = codec.read_sys_para()
    out: list[Packet] = []
    for byte in frame:
        out += decoder.feed(bytes([byte]))
    assert [p.encode() for p in out] == [frame]
    assert decoder.pending() == 0


def test_garbage_before_and_between_is_skipped() -> None:
    decoder = PacketDecoder()
    stream = b"\x00\x13\xef" + codec.gen_img() + b"garbage" + codec.empty()
    assert [p.encode() for p in decoder.feed(stream)] == [codec.gen_img(), codec.empty()]
    assert decoder.skipped_bytes == 3 + 7
    assert decoder.take_errors() == []


def test_split_start_code_is_kept() -> None:
    decoder = PacketDecoder()
    frame = codec.template_num()
    assert decoder.feed(b"\x00" + frame[:1]) == []
    assert [p.encode() for p in decoder.feed(frame[1:])] == [frame]


def test_bad_checksum_is_reported_and_the_next_packet_still_decodes() -> None:
    decoder = PacketDecoder()
    bad = bytearray(codec.encode_ack(0))
    bad[-1] ^= 0xFF
    assert [p.encode() for p in decoder.feed(bytes(bad) + codec.encode_ack(2))] == [codec.encode_ack(2)]
    errors = decoder.take_errors()
    assert len(errors) == 1
    assert isinstance(errors[0], ChecksumError)
    assert decoder.take_errors() == []


@pytest.mark.parametrize("header", [H + "05 0003", H + "07 0000", H + "07 0001", H + "02 0103"])
def test_bad_header_resynchronises(header: str) -> None:
    decoder = PacketDecoder()
    packets = decoder.feed(hexb(header) + codec.encode_ack(0))
    assert [p.encode() for p in packets] == [codec.encode_ack(0)]
    assert any(isinstance(e, BadHeaderError) for e in decoder.take_errors())


def test_bytes_wanted_tracks_the_packet_in_progress() -> None:
    decoder = PacketDecoder()
    frame = codec.encode_ack(0, bytes(16))
    assert decoder.bytes_wanted() == 12
    decoder.feed(frame[:10])
    assert decoder.bytes_wanted() == len(frame) - 10


# -- properties ----------------------------------------------------------------------------------

packets_st = st.builds(
    Packet,
    pid=st.sampled_from(list(PacketType)),
    content=st.binary(min_size=1, max_size=64),
    address=st.integers(0, 0xFFFFFFFF),
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_give_only_valid_packets_or_typed_errors(data: bytes) -> None:
    decoder = PacketDecoder()
    for packet in decoder.feed(data):
        assert codec.encode_packet(packet.pid, packet.content, packet.address) in data
    assert all(isinstance(e, FingerprintProtocolError) for e in decoder.take_errors())
    assert decoder.pending() <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(packets_st, min_size=1, max_size=5), st.data())
def test_any_chunking_gives_the_same_packets(packets: list[Packet], data: st.DataObject) -> None:
    stream = b"".join(p.encode() for p in packets)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = PacketDecoder()
    out: list[Packet] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += decoder.feed(stream[start:end])
    assert out == packets
    assert decoder.take_errors() == []


@settings(max_examples=200, deadline=None)
@given(packets_st, st.integers(0, 1000), st.integers(1, 255), st.integers(0, 1000))
def test_corrupted_or_truncated_packet_never_crashes(packet: Packet, pos: int, flip: int, cut: int) -> None:
    frame = bytearray(packet.encode())
    frame[pos % len(frame)] ^= flip
    truncated = bytes(frame[: len(frame) - cut % len(frame)])
    decoder = PacketDecoder()
    for decoded in decoder.feed(bytes(frame)) + PacketDecoder().feed(truncated):
        assert decoded.encode() in bytes(frame)
    # Good packets are recovered at the latest once a corrupt length's worth of bytes has arrived.
    follow = codec.encode_ack(0)
    assert decoder.feed(follow * 25)[-1].encode() == follow
    assert all(isinstance(e, FingerprintProtocolError) for e in decoder.take_errors())
