"""JWT access and refresh tokens: HS256 only, key ids for rotation, every defect refused."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from uuid import UUID

import jwt
from jwt.types import Options

from adapters.security.keys import check_secret
from adapters.system import SystemClock
from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import AccessClaims, Clock, RefreshClaims

__all__ = ["JwtSigner"]

_ALGORITHMS: Final = ["HS256"]
_MAX_TOKEN_LENGTH: Final = 4096  # ours are ~400 characters; bigger is junk, refused before parsing
_COMMON_CLAIMS: Final = ["iss", "aud", "exp", "nbf", "iat", "sub", "sid", "typ"]
_ACCESS: Final = "access"
_REFRESH: Final = "refresh"

_MESSAGES: Final[list[tuple[type[jwt.PyJWTError], str]]] = [
    (jwt.InvalidSignatureError, "the token signature is invalid"),
    (jwt.InvalidAlgorithmError, "the token uses an algorithm that is not allowed"),
    (jwt.InvalidAudienceError, "the token is not meant for this service"),
    (jwt.InvalidIssuerError, "the token was not issued by this service"),
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
]


class JwtSigner:
    """Implements TokenSigner. The active kid signs; every kid in `keys` verifies (rotation)."""

    def __init__(
        self,
        keys: Mapping[str, str],
        active_kid: str,
        *,
        issuer: str = "tailtracker",
        audience: str = "tailtracker-api",
        access_ttl_seconds: int = 900,
        refresh_ttl_seconds: int = 2_592_000,
        clock: Clock | None = None,
        leeway_seconds: int = 0,
    ) -> None:
        if not keys:
            raise ValueError("JwtSigner needs at least one signing key")
        if active_kid not in keys:
            raise ValueError(f"the active kid {active_kid!r} is not among the signing keys")
        for kid, secret in keys.items():
            check_secret(kid, secret)
        if access_ttl_seconds <= 0 or refresh_ttl_seconds <= 0 or leeway_seconds < 0:
            raise ValueError("token lifetimes must be positive and the leeway not negative")
        # Keys as bytes once, so the hot path does no per-call conversion.
        self._keys = {kid: secret.encode() for kid, secret in keys.items()}
        self._active_kid = active_kid
        self._issuer = issuer
        self._audience = audience
        self.access_ttl_seconds = access_ttl_seconds
        self.refresh_ttl_seconds = refresh_ttl_seconds
        self._clock: Clock = clock or SystemClock()
        self._leeway = leeway_seconds
        # Options merged once, here: nothing is rebuilt per request.
        self._decoder = jwt.PyJWT(_options(_COMMON_CLAIMS))

    # --- issuing ---------------------------------------------------------------------------

    def issue_access(self, user_id: UUID, session_id: UUID, tier: Tier, now: datetime) -> str:
        claims = self._base(_ACCESS, user_id, session_id, now, self.access_ttl_seconds)
        claims["tier"] = tier.value
        return self._sign(claims)

    def issue_refresh(self, user_id: UUID, session_id: UUID, token_id: UUID, now: datetime) -> str:
        claims = self._base(_REFRESH, user_id, session_id, now, self.refresh_ttl_seconds)
        claims["jti"] = str(token_id)
        return self._sign(claims)

    def _base(self, typ: str, user_id: UUID, session_id: UUID, now: datetime, ttl: int) -> dict[str, Any]:
        issued = int(now.timestamp())
        return {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "typ": typ,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
        }

    def _sign(self, claims: dict[str, Any]) -> str:
        kid = self._active_kid
        return jwt.encode(claims, self._keys[kid], algorithm="HS256", headers={"kid": kid})

    # --- decoding --------------------------------------------------------------------------

    def decode_access(self, token: str) -> AccessClaims:
        claims = self._decode(token, _ACCESS)
        return AccessClaims(
            user_id=_uuid(claims, "sub"),
            session_id=_uuid(claims, "sid"),
            tier=_tier(claims),
            expires_at=_expiry(claims),
        )

    def decode_refresh(self, token: str) -> RefreshClaims:
        claims = self._decode(token, _REFRESH)
        return RefreshClaims(
            user_id=_uuid(claims, "sub"),
            session_id=_uuid(claims, "sid"),
            token_id=_uuid(claims, "jti"),
            expires_at=_expiry(claims),
        )

    def _decode(self, token: str, typ: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
            raise AuthenticationFailed("the token is malformed")
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if kid is None:
                raise AuthenticationFailed("the token has no key id")
            key = self._keys.get(kid)
            if key is None:
                raise AuthenticationFailed("the token was signed with an unknown key")
            claims: dict[str, Any] = self._decoder.decode(
                token, key, algorithms=_ALGORITHMS, audience=self._audience, issuer=self._issuer
            )
        except jwt.MissingRequiredClaimError as e:
            raise AuthenticationFailed(f"the token lacks the {e.claim!r} claim") from None
        except jwt.PyJWTError as e:
            raise AuthenticationFailed(_message(e)) from None
        except (ValueError, TypeError, KeyError, RecursionError):
            raise AuthenticationFailed("the token is malformed") from None
        if claims["typ"] != typ:
            other = _REFRESH if typ == _ACCESS else _ACCESS
            if claims["typ"] == other:
                raise AuthenticationFailed(f"this is {_article(other)} token, not {_article(typ)} token")
            raise AuthenticationFailed("the token has an unknown type")
        extra = "tier" if typ == _ACCESS else "jti"
        if extra not in claims:
            raise AuthenticationFailed(f"the token lacks the {extra!r} claim")
        self._check_times(claims)
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
        _number(claims, "iat")
        now = self._clock.now().timestamp()
        if now >= exp + self._leeway:
            raise AuthenticationFailed("the token has expired")
        if now < nbf - self._leeway:
            raise AuthenticationFailed("the token is not valid yet")


def _options(required: list[str]) -> Options:
    # Times are checked against the injected clock (JwtSigner._check_times), not PyJWT's.
    return {
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": True,
        "strict_aud": True,
        "verify_iss": True,
        "verify_sub": True,
        "verify_jti": True,
        "enforce_minimum_key_length": True,
        "require": required,
    }


def _message(error: jwt.PyJWTError) -> str:
    for kind, message in _MESSAGES:
        if isinstance(error, kind):
            return message
    return "the token is malformed"


def _article(typ: str) -> str:
    return f"an {typ}" if typ == _ACCESS else f"a {typ}"


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthenticationFailed(f"the token's {name!r} claim is not a number")
    return float(value)


def _uuid(claims: Mapping[str, Any], name: str) -> UUID:
    value = claims[name]
    try:
        if isinstance(value, str) and len(value) == 36:
            return UUID(value)
    except ValueError:
        pass
    raise AuthenticationFailed(f"the token's {name!r} claim is not a valid id")


def _tier(claims: Mapping[str, Any]) -> Tier:
    value = claims["tier"]
    if isinstance(value, str):
        try:
            return Tier(value)
        except ValueError:
            pass
    raise AuthenticationFailed("the token names an unknown tier")


def _expiry(claims: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(0, UTC) + timedelta(seconds=float(claims["exp"]))
    except OverflowError:
        raise AuthenticationFailed("the token's 'exp' claim is out of range") from None
