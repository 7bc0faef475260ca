"""Security adapters: argon2id password hashing and HS256 JWTs with key rotation."""

from adapters.security.keys import generate_key, parse_keys
from adapters.security.passwords import Argon2Hasher
from adapters.security.tokens import JwtSigner

__all__ = ["Argon2Hasher", "JwtSigner", "generate_key", "parse_keys"]
