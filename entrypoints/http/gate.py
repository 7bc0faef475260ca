"""The gate every request passes before routing: who is calling, and may they call now.

It decodes the bearer token once (signature, expiry, and the session still open, as
`accounts.authenticate` does) and leaves the outcome in the connection state, where the
`claims` dependency reads it. That runs on the event loop with no thread hop: the token is
checked inline (tens of microseconds) and the session with the async `SessionReader`.

It then takes one token from the caller's bucket: per user with the tier's numbers from the
access token, per client address (free tier numbers) otherwise. Over the limit it answers 429
itself; otherwise it adds the RateLimit-* headers. A network limiter (Redis) runs in a thread.

It wraps Litestar's router rather than sitting in the route middleware stack so that
unknown routes (404/405) are counted and limited as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from attrs import frozen
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import AccessClaims, RateDecision, SessionReader
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.pet_queries import authenticate_async

from .problems import (
    PROBLEM_MEDIA_TYPE,
    UNAVAILABLE_DETAIL,
    UNAVAILABLE_RETRY_AFTER,
    is_unavailable,
    problem_bytes,
)

log = logging.getLogger("tailtracker.http")

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
        sessions: SessionReader,
        *,
        rate_limits: bool,
        offload: bool,
        exempt: Callable[[str], bool],
    ) -> None:
        self.app, self.deps, self.sessions = app, deps, sessions
        self.rate_limits, self.offload, self.exempt = rate_limits, offload, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            outcome = await self._authenticate(bearer_token(scope))
            decision: RateDecision | None = None
            if self.rate_limits:
                # In-process limiters answer in microseconds; network ones must not block the loop.
                if self.offload:
                    decision = await anyio.to_thread.run_sync(self._limit, outcome, address)
                else:
                    decision = self._limit(outcome, address)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # The session store or the limiter is down: say so, do not fail with a bare 500.
            log.warning("service unavailable in the gate on %s: %r", scope["path"], exc)
            await _send_problem(send, 503, "service_unavailable", UNAVAILABLE_DETAIL, UNAVAILABLE_RETRY_AFTER)
            return
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

    async def _authenticate(self, token: str | None) -> AuthOutcome:
        if token is None:
            return _ANONYMOUS
        try:
            return AuthOutcome(claims=await authenticate_async(self.deps.signer, self.sessions, token))
        except AuthenticationFailed as e:
            return AuthOutcome(error=e)

    def _limit(self, outcome: AuthOutcome, address: str) -> RateDecision:
        if outcome.claims is not None:
            key, tier = f"rl:user:{outcome.claims.user_id}", outcome.claims.tier
        else:
            key, tier = f"rl:addr:{address}", Tier.FREE
        limits = self.deps.config.tiers[tier]
        return self.deps.limiter.hit(key, limits.requests_per_minute, limits.burst)


def _limit_headers(headers: MutableScopeHeaders, decision: RateDecision) -> None:
    headers["RateLimit-Limit"] = str(decision.limit)
    headers["RateLimit-Remaining"] = str(max(0, decision.remaining))
    headers["RateLimit-Reset"] = str(max(0, decision.reset_seconds))


async def _refuse(send: Send, decision: RateDecision) -> None:
    detail = f"too many requests; retry in {decision.retry_after} s"
    await _send_problem(send, 429, "rate_limited", detail, max(1, decision.retry_after), decision)


async def _send_problem(
    send: Send, status: int, code: str, detail: str, retry_after: int, decision: RateDecision | None = None
) -> None:
    body = problem_bytes(status, code, detail)
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    if decision is not None:
        _limit_headers(MutableScopeHeaders.from_message(start), decision)
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
