"""Identifiers made at the edge: time-ordered UUIDs (version 7, RFC 9562).

Event ids, service ids and request references become keys of unique indexes on the server. A random
(version 4) UUID lands on a random page of such an index, so a batch of 100 events dirties about a
hundred pages of each of those indexes, and every dirty page is written to the database log at
commit. A version 7 UUID starts with its creation time in milliseconds: the ids made at the edge follow
one another, and a batch adds to the last pages of each index.

They stay unique without coordination (74 random bits per millisecond), and the server accepts any
UUID version, so older edge software goes on working. The time is the clock's own: unlike generators
that add a millisecond for each id made in the same millisecond, a burst of ids never runs ahead of
it; ids of one millisecond are in random order among themselves.
"""

from __future__ import annotations

import secrets
import time
from uuid import UUID

_MS_BITS = 48
_RAND_BITS = 74  # 12 bits of rand_a and 62 of rand_b


def uuid7_from(unix_ms: int, rand: int) -> UUID:
    """The UUIDv7 of a Unix time in milliseconds and 74 random bits (RFC 9562, section 5.7)."""
    if not 0 <= unix_ms < 1 << _MS_BITS or not 0 <= rand < 1 << _RAND_BITS:
        raise ValueError("unix_ms takes 48 bits and rand 74")
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    return UUID(int=unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def new_id() -> UUID:
    """A fresh UUIDv7 for now; ids made in a later millisecond are larger."""
    return uuid7_from(time.time_ns() // 1_000_000, secrets.randbits(_RAND_BITS))
