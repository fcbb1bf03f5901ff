"""Device keys: made at random, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_SEPARATOR = ":"


def new_device_key(device_id: str) -> str:
    """A fresh key for ``device_id``, in the form ``<device_id>:<secret>``."""
    return f"{device_id}{KEY_SEPARATOR}{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    """SHA-256 of a key; keys carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with the stored hash."""
    return hmac.compare_digest(hash_key(key), stored_hash)


def device_id_of_key(key: str) -> str:
    """The device id a key claims to belong to (empty when malformed)."""
    device_id, sep, secret = key.rpartition(KEY_SEPARATOR)
    return device_id if sep and secret else ""
