"""Text block layout, code tables, ID-number check character and masking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.idcard.errors import (
    IdCardError,
    IdentityFieldError,
    InvalidIdNumberError,
    TextBlockError,
    UnsupportedCardError,
)
from kiosk.devices.idcard.identity import (
    Identity,
    check_id_number,
    id_check_char,
    is_valid_id_number,
    mask_id_number,
)
from kiosk.devices.idcard.simulator import load_identities
from kiosk.devices.idcard.tables import GENDERS, NATIONS, nation_code, nation_name
from kiosk.devices.idcard.text import decode_text_block, encode_text_block

DATA = Path(__file__).parent.parent / "data" / "identities.json"
VALID_EXAMPLES = ["11010519491231002X", "34052419800101001X", "370101190102039973"]

PERSON = Identity(
    name="王秀英",
    gender="女",
    nation="汉",
    birth_date=date(1949, 12, 31),
    address="北京市东城区景山前街4号",
    id_number="11010519491231002X",
    issuing_authority="北京市公安局东城分局",
    valid_from=date(2010, 3, 15),
    valid_to=None,
)


def test_layout_offsets() -> None:
    block = encode_text_block(PERSON)
    assert len(block) == 256
    assert block[0:6] == "王秀英".encode("utf-16-le")
    assert block[6:8] == b"\x20\x00"  # padding
    assert block[30:32] == "2".encode("utf-16-le")
    assert block[32:36] == "01".encode("utf-16-le")
    assert block[36:52] == "19491231".encode("utf-16-le")
    assert block[122:158] == "11010519491231002X".encode("utf-16-le")
    assert block[188:204] == "20100315".encode("utf-16-le")
    assert block[204:220] == "长期".encode("utf-16-le") + b"\x20\x00" * 6
    assert block[220:256] == b"\x20\x00" * 18


def test_round_trip_test_data() -> None:
    people = load_identities(DATA)
    assert len(people) == 4
    for person in people:
        assert decode_text_block(encode_text_block(person)) == person
        assert is_valid_id_number(person.id_number)


def test_test_data_covers_elderly_and_expired() -> None:
    today = date(2025, 1, 1)
    people = load_identities(DATA)
    assert any(p.age_on(today) > 70 for p in people)
    assert any(p.is_expired(today) for p in people)
    assert any(p.valid_to is None for p in people)


def test_nul_padding_is_accepted() -> None:
    block = bytearray(encode_text_block(PERSON))
    block[6:30] = bytes(24)
    assert decode_text_block(bytes(block)).name == "王秀英"


def test_foreigner_card_is_refused() -> None:
    block = bytearray(encode_text_block(PERSON))
    block[248:250] = "I".encode("utf-16-le")
    with pytest.raises(UnsupportedCardError) as info:
        decode_text_block(bytes(block))
    assert PERSON.id_number not in str(info.value)


@pytest.mark.parametrize(
    ("offset", "value"),
    [(30, "7"), (32, "99"), (36, "19491332"), (36, "abcdefgh"), (188, "2010031 "), (204, "永久")],
)
def test_bad_fields(offset: int, value: str) -> None:
    block = bytearray(encode_text_block(PERSON))
    raw = value.encode("utf-16-le")
    block[offset : offset + len(raw)] = raw
    with pytest.raises(TextBlockError):
        decode_text_block(bytes(block))


def test_wrong_size_and_bad_utf16() -> None:
    with pytest.raises(TextBlockError):
        decode_text_block(bytes(255))
    block = bytearray(encode_text_block(PERSON))
    block[0:2] = b"\x00\xd8"  # lone high surrogate
    with pytest.raises(TextBlockError):
        decode_text_block(bytes(block))


def test_encode_refuses_overlong_and_unknown() -> None:
    with pytest.raises(IdentityFieldError):
        encode_text_block(Identity(**{**PERSON.__dict__, "name": "名" * 16}))
    with pytest.raises(IdentityFieldError):
        encode_text_block(Identity(**{**PERSON.__dict__, "nation": "火星"}))


def test_tables() -> None:
    assert GENDERS["1"] == "男" and GENDERS["2"] == "女"
    assert len(NATIONS) == 58
    assert (
        nation_name("01") == "汉"
        and nation_name("56") == "基诺"
        and nation_name("98") == "外国血统中国籍人士"
    )
    assert nation_code("回") == "03"
    assert nation_name("57") is None


@pytest.mark.parametrize("number", VALID_EXAMPLES)
def test_valid_examples(number: str) -> None:
    assert is_valid_id_number(number)
    assert is_valid_id_number(number.lower())
    check_id_number(number)


@pytest.mark.parametrize("number", VALID_EXAMPLES)
def test_every_single_digit_corruption_is_caught(number: str) -> None:
    for index in range(18):
        for char in "0123456789X":
            if char == number[index] or (index < 17 and char == "X"):
                continue
            corrupted = number[:index] + char + number[index + 1 :]
            assert not is_valid_id_number(corrupted), corrupted


@pytest.mark.parametrize(
    "number", ["", "1101051949123100", "11010519491231002Y", "１１０１０５１９４９１２３１００２X"]
)
def test_malformed_numbers(number: str) -> None:
    assert not is_valid_id_number(number)
    with pytest.raises(InvalidIdNumberError) as info:
        check_id_number(number)
    assert number == "" or number not in str(info.value)


def test_check_char() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("37010119010203997") == "3"


def test_masking() -> None:
    assert mask_id_number("110105194912311234") == "110***********1234"
    assert mask_id_number("1234567") == "*******"
    assert PERSON.masked_id_number == "110***********002X"
    for text in (repr(PERSON), str(PERSON), repr([PERSON])):
        assert PERSON.id_number not in text
        assert PERSON.address not in text
        assert "110***********002X" in text


def test_age_and_expiry() -> None:
    assert PERSON.age_on(date(2019, 12, 30)) == 69
    assert PERSON.age_on(date(2019, 12, 31)) == 70
    assert not PERSON.is_expired(date(2100, 1, 1))
    card = Identity(**{**PERSON.__dict__, "valid_to": date(2021, 4, 1)})
    assert not card.is_expired(date(2021, 4, 1))
    assert card.is_expired(date(2021, 4, 2))


def test_identity_is_frozen() -> None:
    with pytest.raises(AttributeError):
        PERSON.name = "x"  # type: ignore[misc]


field_text = st.text(alphabet=st.characters(codec="utf-16", exclude_categories=["Cs"]), max_size=15).map(
    lambda s: s.rstrip(" \x00")
)
dates = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@settings(max_examples=200, deadline=None)
@given(
    name=field_text,
    gender=st.sampled_from(sorted(GENDERS.values())),
    nation=st.sampled_from(sorted(NATIONS.values())),
    birth_date=dates,
    address=field_text,
    number=st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
    authority=field_text,
    valid_from=dates,
    valid_to=st.none() | dates,
)
def test_round_trip_property(
    name: str,
    gender: str,
    nation: str,
    birth_date: date,
    address: str,
    number: str,
    authority: str,
    valid_from: date,
    valid_to: date | None,
) -> None:
    person = Identity(name, gender, nation, birth_date, address, number, authority, valid_from, valid_to)
    try:
        block = encode_text_block(person)
    except IdentityFieldError:
        return  # characters outside the BMP take two units and may overflow the field
    assert decode_text_block(block) == person


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_blocks_give_identity_or_typed_error(block: bytes) -> None:
    try:
        identity = decode_text_block(block)
    except IdCardError:
        return
    assert isinstance(identity, Identity)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_corrupted_and_truncated_blocks(data: st.DataObject) -> None:
    block = bytearray(encode_text_block(PERSON))
    for _ in range(data.draw(st.integers(1, 8))):
        block[data.draw(st.integers(0, 255))] = data.draw(st.integers(0, 255))
    block = block[: data.draw(st.integers(0, 256))]
    try:
        identity = decode_text_block(bytes(block))
    except IdCardError as err:
        assert PERSON.id_number not in str(err)
        return
    assert isinstance(identity, Identity)
