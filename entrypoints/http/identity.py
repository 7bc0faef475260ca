"""The `claims` dependency: the caller's access claims, as the gate decoded them."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.openapi.spec import SecurityRequirement

from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.ports import AccessClaims
from tailtracker_core.usecases import accounts
from tailtracker_core.usecases.deps import Deps

from .gate import AUTH_STATE_KEY, AuthOutcome, bearer_token

__all__ = ["BEARER", "current_claims"]

BEARER: list[SecurityRequirement] = [{"bearer": []}]


def current_claims(request: Request[Any, Any, Any], deps: NamedDependency[Deps]) -> AccessClaims:
    """Raises AuthenticationFailed (401) when the token is missing, invalid or its session ended."""
    outcome = request.scope.get("state", {}).get(AUTH_STATE_KEY)
    if not isinstance(outcome, AuthOutcome):  # the gate did not run (not expected under /v1)
        token = bearer_token(request.scope)
        if token is None:
            raise AuthenticationFailed("sign in: send Authorization: Bearer <access token>")
        return accounts.authenticate(deps, token)
    if outcome.claims is not None:
        return outcome.claims
    if outcome.error is not None:
        raise outcome.error
    raise AuthenticationFailed("sign in: send Authorization: Bearer <access token>")
