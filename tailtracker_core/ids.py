"""UUIDv7 (RFC 9562) as a pure function: 48 bits of Unix milliseconds, then 74 random bits.

Ids sort in creation order, which keyset pagination relies on. Where the time and the
randomness come from is the caller's business (`adapters.system.Uuid7Generator` in production,
`tailtracker_core.testing.ids.TestIds` in the contract kits).
"""

from __future__ import annotations

from uuid import UUID

__all__ = ["RAND_BITS", "uuid7"]

RAND_BITS = 74


def uuid7(unix_ms: int, rand: int) -> UUID:
    """The UUIDv7 for this millisecond and these 74 random bits (version and variant set)."""
    rand_a, rand_b = rand >> 62 & 0xFFF, rand & ((1 << 62) - 1)
    return UUID(int=(unix_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b)
