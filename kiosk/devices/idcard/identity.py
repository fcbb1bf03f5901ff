"""The ``Identity`` read from a resident ID card and GB 11643 ID-number helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from kiosk.devices.idcard.errors import InvalidIdNumberError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidIdNumberError("ID number body must be 17 digits")
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_id_number(number: str) -> bool:
    """True for an 18-character ID number whose check character is right (``x`` accepted)."""
    number = number.upper()
    return _SHAPE.fullmatch(number) is not None and id_check_char(number[:17]) == number[17]


def check_id_number(number: str) -> None:
    """Raise ``InvalidIdNumberError`` (without the number) unless the number is valid."""
    if not is_valid_id_number(number):
        raise InvalidIdNumberError(f"ID number {mask_id_number(number)} fails the GB 11643 check")


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 4 characters: ``110***********1234``."""
    if len(number) <= 7:
        # Too short to show anything without revealing most of it.
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


@dataclass(frozen=True, repr=False)
class Identity:
    """The text fields of a resident ID card (photo kept as the raw WLT bytes)."""

    name: str
    gender: str
    nation: str
    birth_date: date
    address: str
    id_number: str
    issuing_authority: str
    valid_from: date
    valid_to: date | None  # None: 长期 (no expiry)
    photo_wlt: bytes = field(default=b"", compare=False)

    @property
    def masked_id_number(self) -> str:
        """The ID number as ``110***********1234``."""
        return mask_id_number(self.id_number)

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)

    def is_expired(self, on: date) -> bool:
        """True when the card is no longer valid on ``on`` (valid through ``valid_to``)."""
        return self.valid_to is not None and on > self.valid_to

    def __repr__(self) -> str:
        valid_to = "长期" if self.valid_to is None else self.valid_to.isoformat()
        return (
            f"Identity(name={self.name!r}, gender={self.gender!r}, nation={self.nation!r}, "
            f"id_number={self.masked_id_number!r}, birth_date=<hidden>, address=<hidden>, "
            f"issuing_authority={self.issuing_authority!r}, "
            f"valid={self.valid_from.isoformat()}..{valid_to})"
        )

    __str__ = __repr__
