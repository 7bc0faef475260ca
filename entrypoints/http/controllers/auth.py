"""Register, sign in, rotate tokens, sign out."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, post
from litestar.params import JSONBody

from tailtracker_core.usecases import accounts

from ..identity import BEARER
from ..params import (
    Claims,
    DepsDep,
)
from ..problems import problem_responses
from ..schemas.accounts import AuthOut, LoginIn, RefreshIn, RegisterIn

__all__ = ["AuthController"]


class AuthController(Controller):
    path = "/v1/auth"
    tags: ClassVar[list[str]] = ["Auth"]

    @post(
        "/register",
        summary="Create an account",
        description="Creates the account, its personal family and the essential consent; signs in.",
        status_code=201,
        responses=problem_responses(409, public=True),
        sync_to_thread=True,
    )
    def register(self, data: JSONBody[RegisterIn], deps: DepsDep) -> AuthOut:
        result = accounts.register(
            deps, data.email, data.password, data.display_name, data.locale, data.timezone
        )
        return AuthOut.from_result(result)

    @post(
        "/login",
        summary="Sign in",
        description="Failed attempts are throttled per account and per client address (429).",
        status_code=200,
        responses=problem_responses(401, public=True),
        sync_to_thread=True,
    )
    def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], deps: DepsDep) -> AuthOut:
        address = request.client.host if request.client else "unknown"
        return AuthOut.from_result(accounts.login(deps, data.email, data.password, address))

    @post(
        "/refresh",
        summary="Rotate the token pair",
        description="Each refresh token works once; presenting a used one revokes the whole session.",
        status_code=200,
        responses=problem_responses(401, public=True),
        sync_to_thread=True,
    )
    def refresh(self, data: JSONBody[RefreshIn], deps: DepsDep) -> AuthOut:
        return AuthOut.from_result(accounts.refresh(deps, data.refresh_token))

    @post(
        "/logout",
        summary="Sign out (revoke this session)",
        status_code=204,
        security=BEARER,
        responses=problem_responses(),
        sync_to_thread=True,
    )
    def logout(self, claims: Claims, deps: DepsDep) -> None:
        accounts.logout(deps, claims)
