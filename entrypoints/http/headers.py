"""Headers every response carries: security headers and a cache policy.

A `before_send` hook, so it also covers the answers Litestar gives before any route runs
(unknown path, wrong method) and the gate's 429.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.types import Message, Scope

__all__ = ["security_headers"]

_STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
# The schema UI pages load their script and styles from public CDNs.
_SCHEMA_UI_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com "
    "https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
_HSTS = "max-age=63072000; includeSubDomains"


def security_headers(
    *, production: bool, schema_path: str = "/schema"
) -> Callable[[Message, Scope], Awaitable[None]]:
    always = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if production:
        always.append((b"strict-transport-security", _HSTS.encode()))
    strict = [*always, (b"content-security-policy", _STRICT_CSP.encode())]
    schema_ui = [*always, (b"content-security-policy", _SCHEMA_UI_CSP.encode())]
    ours = {name for name, _ in strict}

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path: str = scope.get("path", "")
        is_schema_page = path.startswith(schema_path) and not path.endswith((".json", ".yaml", ".yml"))
        # One pass over the response's headers (a list of byte pairs): ours replace any of the
        # same name; the cache policy only where the handler set none.
        headers = []
        cached = False
        for name, value in message.get("headers") or ():
            lowered = name.lower()
            if lowered in ours:
                continue
            cached = cached or lowered == b"cache-control"
            headers.append((name, value))
        headers.extend(schema_ui if is_schema_page else strict)
        if not cached:
            headers.append((b"cache-control", _cache_policy(scope, path, message["status"]).encode()))
        message["headers"] = headers

    return before_send


def _cache_policy(scope: Scope, path: str, status: int) -> str:
    """Tokens and personal data are never stored by shared caches; authenticated reads may be
    kept privately but must be revalidated (with the ETag) before each use."""
    if not path.startswith("/v1/") or path.startswith("/v1/auth/"):
        return "no-store"
    authenticated = any(name == b"authorization" for name, _ in scope.get("headers", ()))
    if scope.get("method") == "GET" and authenticated and status in (200, 304):
        return "private, no-cache"
    return "no-store"
