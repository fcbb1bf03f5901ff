"""Keyed hashes and masked forms that recognise a citizen without keeping the ID number or card serial."""

from __future__ import annotations

import hashlib
import hmac


def citizen_hash(secret: str, id_number: str) -> str:
    """Keyed hash of an ID number, so the same citizen is recognised without storing the number.

    Tickets, appointments and cases (the applicant) hash alike, so one citizen has one hash everywhere.
    """
    return hmac.new(secret.encode(), id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    """An ID number with all but the first 3 and last 4 characters hidden: ``110***********1234``.

    Anything of 7 characters or fewer is hidden whole.
    """
    value = id_number.strip().upper()
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


# Prefixed to a card serial before hashing: an ID number never contains it, so a serial's hash can
# never equal an ID number's (the same citizen_hash column holds both).
CARD_SERIAL_DOMAIN = "card-serial\x00"


def card_serial_hash(secret: str, serial: str) -> str:
    """Keyed hash of an ID card's physical serial, in a domain of its own."""
    message = CARD_SERIAL_DOMAIN + serial.strip().upper()
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def mask_card_serial(serial: str) -> str:
    """A card serial as screens and tickets show it: only its last 4 hex digits."""
    return "****" + serial.strip().upper()[-4:]
