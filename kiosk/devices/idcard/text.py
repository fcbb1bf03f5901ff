"""The 256-byte UCS-2LE text block of a resident ID card (GA/T 490 layout)."""

from __future__ import annotations

from datetime import date

from kiosk.devices.idcard.codec import TEXT_SIZE
from kiosk.devices.idcard.errors import IdentityFieldError, TextBlockError, UnsupportedCardError
from kiosk.devices.idcard.identity import Identity
from kiosk.devices.idcard.tables import gender_code, gender_name, nation_code, nation_name

ENCODING = "utf-16-le"
PAD = " ".encode(ENCODING)
LONG_TERM = "长期"

# Byte ranges (start, end) of each field.
NAME = (0, 30)
GENDER = (30, 32)
NATION = (32, 36)
BIRTH_DATE = (36, 52)
ADDRESS = (52, 122)
ID_NUMBER = (122, 158)
ISSUING_AUTHORITY = (158, 188)
VALID_FROM = (188, 204)
VALID_TO = (204, 220)
RESERVED = (220, 256)
#: A foreigner's permanent-residence card carries "I" here and uses another layout.
FOREIGNER_MARK_AT = 248
FOREIGNER_MARK = "I".encode(ENCODING)


def is_foreigner_card(block: bytes) -> bool:
    """True for the foreigner's permanent-residence card layout."""
    return block[FOREIGNER_MARK_AT : FOREIGNER_MARK_AT + 2] == FOREIGNER_MARK


def _field(block: bytes, span: tuple[int, int]) -> str:
    try:
        text = block[span[0] : span[1]].decode(ENCODING)
    except UnicodeDecodeError as err:
        raise TextBlockError(f"bytes {span[0]}..{span[1]} are not UCS-2LE") from err
    # Cards pad with spaces; some readers leave NULs instead.
    return text.rstrip(" \x00")


def _date(text: str, what: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise TextBlockError(f"{what} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as err:
        raise TextBlockError(f"{what} is not a calendar date") from err


def decode_text_block(block: bytes, photo_wlt: bytes = b"") -> Identity:
    """Identity from a text block; the check digit is not verified here."""
    if len(block) != TEXT_SIZE:
        raise TextBlockError(f"text block has {len(block)} bytes, expected {TEXT_SIZE}")
    if is_foreigner_card(block):
        raise UnsupportedCardError("foreigner's permanent-residence card layout is not supported")
    gender = gender_name(_field(block, GENDER))
    nation = nation_name(_field(block, NATION))
    if gender is None or nation is None:
        raise TextBlockError("unknown gender or nation code")
    id_number = _field(block, ID_NUMBER)
    if len(id_number) != 18 or not id_number.isascii() or not id_number.isalnum():
        raise TextBlockError("ID number field is not 18 ASCII characters")
    valid_to_text = _field(block, VALID_TO)
    return Identity(
        name=_field(block, NAME),
        gender=gender,
        nation=nation,
        birth_date=_date(_field(block, BIRTH_DATE), "birth date"),
        address=_field(block, ADDRESS),
        id_number=id_number,
        issuing_authority=_field(block, ISSUING_AUTHORITY),
        valid_from=_date(_field(block, VALID_FROM), "valid-from date"),
        valid_to=None if valid_to_text == LONG_TERM else _date(valid_to_text, "valid-to date"),
        photo_wlt=photo_wlt,
    )


def _yyyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _put(text: str, span: tuple[int, int], what: str) -> bytes:
    try:
        raw = text.encode(ENCODING)
    except UnicodeEncodeError as err:
        raise IdentityFieldError(f"{what} cannot be encoded as UCS-2LE") from err
    size = span[1] - span[0]
    if len(raw) > size:
        raise IdentityFieldError(f"{what} is longer than {size // 2} characters")
    return raw + PAD * ((size - len(raw)) // 2)


def encode_text_block(identity: Identity) -> bytes:
    """The text block for an identity (the reader-side inverse of ``decode_text_block``)."""
    gender = gender_code(identity.gender)
    nation = nation_code(identity.nation)
    if gender is None or nation is None:
        raise IdentityFieldError(f"unknown gender {identity.gender!r} or nation {identity.nation!r}")
    valid_to = LONG_TERM if identity.valid_to is None else _yyyymmdd(identity.valid_to)
    parts = [
        _put(identity.name, NAME, "name"),
        _put(gender, GENDER, "gender"),
        _put(nation, NATION, "nation"),
        _put(_yyyymmdd(identity.birth_date), BIRTH_DATE, "birth date"),
        _put(identity.address, ADDRESS, "address"),
        _put(identity.id_number, ID_NUMBER, "ID number"),
        _put(identity.issuing_authority, ISSUING_AUTHORITY, "issuing authority"),
        _put(_yyyymmdd(identity.valid_from), VALID_FROM, "valid-from date"),
        _put(valid_to, VALID_TO, "valid-to date"),
        PAD * ((RESERVED[1] - RESERVED[0]) // 2),
    ]
    return b"".join(parts)
