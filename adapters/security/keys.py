"""Signing secrets: make one, and read the `kid:secret,kid:secret` list from settings."""

from __future__ import annotations

import re
import secrets

__all__ = ["MIN_SECRET_LENGTH", "generate_key", "parse_keys"]

MIN_SECRET_LENGTH = 32
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def generate_key() -> str:
    """A new random HS256 secret: 48 random bytes, URL-safe base64 (64 characters)."""
    return secrets.token_urlsafe(48)


def parse_keys(spec: str) -> dict[str, str]:
    """Parse `"kid1:secret1,kid2:secret2"` into {kid: secret}, refusing anything doubtful.

    Error messages name the entry by position or kid, never the secret.
    """
    keys: dict[str, str] = {}
    entries = spec.split(",")
    for position, raw in enumerate(entries, start=1):
        entry = raw.strip()
        if not entry:
            raise ValueError(f"signing keys: entry {position} is empty (expected 'kid:secret,kid:secret')")
        kid, sep, secret = entry.partition(":")
        kid, secret = kid.strip(), secret.strip()
        if not sep:
            raise ValueError(f"signing keys: entry {position} has no ':' (expected 'kid:secret')")
        if not _KID.fullmatch(kid):
            raise ValueError(f"signing keys: entry {position} has a bad kid (1-64 of A-Z a-z 0-9 . _ -)")
        if kid in keys:
            raise ValueError(f"signing keys: kid {kid!r} appears twice")
        check_secret(kid, secret)
        keys[kid] = secret
    return keys


def check_secret(kid: str, secret: str) -> None:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"signing keys: the secret of kid {kid!r} is shorter than {MIN_SECRET_LENGTH} characters;"
            " make one with generate_key()"
        )
