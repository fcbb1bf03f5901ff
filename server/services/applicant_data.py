"""An applicant's personal data on a case: the resident ID number's check and the masked name."""

from __future__ import annotations

import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def is_valid_id_number(number: str) -> bool:
    """True for an 18-character resident ID number with the right GB 11643 check character."""
    number = number.upper()
    if _ID_SHAPE.fullmatch(number) is None:
        return False
    return _ID_CHECK[sum(int(d) * w for d, w in zip(number, _ID_WEIGHTS, strict=False)) % 11] == number[17]


def mask_name(name: str) -> str:
    """Keep the surname's first character: 王芳 -> 王*."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1)
