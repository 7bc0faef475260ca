"""The gate every request passes before routing: who is calling, and may they call now.

It decodes the bearer token once (signature, expiry, and the session still open, as
`accounts.authenticate` does) and leaves the outcome in the connection state, where the
`claims` dependency reads it. It then takes one token from the caller's bucket: per user with
the tier's numbers from the access token, per client address (free tier numbers) otherwise.
Over the limit it answers 429 itself; otherwise it adds the RateLimit-* headers.

It wraps Litestar's router rather than sitting in the route middleware stack so that
unknown routes (404/405) are counted and limited as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from attrs import frozen
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import AccessClaims, RateDecision
from tailtracker_core.usecases import accounts
from tailtracker_core.usecases.deps import Deps

from .problems import PROBLEM_MEDIA_TYPE, problem_bytes

__all__ = ["AUTH_STATE_KEY", "AuthOutcome", "Gate"]

AUTH_STATE_KEY = "tailtracker.auth"


@frozen
class AuthOutcome:
    """What the Authorization header said: claims, a refusal, or nothing at all."""

    claims: AccessClaims | None = None
    error: AuthenticationFailed | None = None


_ANONYMOUS = AuthOutcome()


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


class Gate:
    """ASGI middleware around the router: authentication outcome and rate limiting."""

    def __init__(
        self,
        app: ASGIApp,
        deps: Deps,
        *,
        rate_limits: bool,
        offload: bool,
        exempt: Callable[[str], bool],
    ) -> None:
        self.app, self.deps = app, deps
        self.rate_limits, self.offload, self.exempt = rate_limits, offload, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        token = bearer_token(scope)
        # In-process adapters answer in microseconds; network ones must not block the loop.
        if self.offload:
            outcome, decision = await anyio.to_thread.run_sync(self._check, token, address)
        else:
            outcome, decision = self._check(token, address)
        scope.setdefault("state", {})[AUTH_STATE_KEY] = outcome
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await _refuse(send, decision)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                _limit_headers(MutableScopeHeaders.from_message(message), decision)
            await send(message)

        await self.app(scope, receive, send_with_limits)

    def _check(self, token: str | None, address: str) -> tuple[AuthOutcome, RateDecision | None]:
        outcome = _ANONYMOUS
        if token is not None:
            try:
                outcome = AuthOutcome(claims=accounts.authenticate(self.deps, token))
            except AuthenticationFailed as e:
                outcome = AuthOutcome(error=e)
        if not self.rate_limits:
            return outcome, None
        if outcome.claims is not None:
            key, tier = f"rl:user:{outcome.claims.user_id}", outcome.claims.tier
        else:
            key, tier = f"rl:addr:{address}", Tier.FREE
        limits = self.deps.config.tiers[tier]
        return outcome, self.deps.limiter.hit(key, limits.requests_per_minute, limits.burst)


def _limit_headers(headers: MutableScopeHeaders, decision: RateDecision) -> None:
    headers["RateLimit-Limit"] = str(decision.limit)
    headers["RateLimit-Remaining"] = str(max(0, decision.remaining))
    headers["RateLimit-Reset"] = str(max(0, decision.reset_seconds))


async def _refuse(send: Send, decision: RateDecision) -> None:
    body = problem_bytes(429, "rate_limited", f"too many requests; retry in {decision.retry_after} s")
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(max(1, decision.retry_after)).encode()),
    ]
    start: Any = {"type": "http.response.start", "status": 429, "headers": headers}
    _limit_headers(MutableScopeHeaders.from_message(start), decision)
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
