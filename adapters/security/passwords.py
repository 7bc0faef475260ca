"""Password hashing with argon2id (OWASP parameters by default)."""

from __future__ import annotations

from argon2 import Parameters, Type, extract_parameters
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import Argon2Error
from argon2.low_level import ARGON2_VERSION

__all__ = ["Argon2Hasher"]


class Argon2Hasher:
    """argon2id; the defaults are the OWASP minimum (19 MiB, 2 passes, 1 lane).

    Raise the parameters for production hardware; lower them only in tests.
    """

    def __init__(self, time_cost: int = 2, memory_cost_kib: int = 19456, parallelism: int = 1) -> None:
        self._wanted = Parameters(
            type=Type.ID,
            version=ARGON2_VERSION,
            salt_len=16,
            hash_len=32,
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
        )
        self._argon2 = _Argon2.from_parameters(self._wanted)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True on a match; False on a mismatch or on a hash that is not a valid argon2 hash."""
        try:
            return self._argon2.verify(password_hash, password)
        except (Argon2Error, ValueError, TypeError):  # mismatch, invalid hash, unencodable text
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash is weaker than the configured parameters (or not argon2id at all).

        A hash made with stronger parameters is kept: lowering the settings never downgrades
        stored hashes.
        """
        try:
            found = extract_parameters(password_hash)
        except (ValueError, TypeError):
            return True
        wanted = self._wanted
        return (
            found.type is not Type.ID
            or found.version < wanted.version
            or found.time_cost < wanted.time_cost
            or found.memory_cost < wanted.memory_cost
            or found.hash_len < wanted.hash_len
            or found.salt_len < wanted.salt_len
        )
