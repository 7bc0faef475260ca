"""Every error leaves as RFC 9457 problem details, from the one exception mapper below.

Domain errors map by class; Litestar's own errors (unknown route, wrong method, bad body,
body too large) map by status; anything else is a 500 whose detail is generic and whose
traceback goes to the log only.
"""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from tailtracker_core.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    FieldError,
    FileTooLarge,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Throttled,
    TierLimitExceeded,
    UnsupportedFileType,
    ValidationFailed,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "FieldProblem",
    "Problem",
    "handle_exception",
    "problem_response",
    "problem_responses",
    "require_json_body",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://tailtracker.example/problems/"
log = logging.getLogger("tailtracker.http")


class FieldProblem(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details plus a stable `code` (and `errors` for validation)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

# Most specific first: TierLimitExceeded is a Forbidden.
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (ValidationFailed, 422),
    (AuthenticationFailed, 401),
    (TierLimitExceeded, 403),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (Throttled, 429),
    (FileTooLarge, 413),
    (UnsupportedFileType, 415),
)


class ApiError(Exception):
    """An HTTP-layer refusal with its own code (e.g. `idempotency_key_reused`)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}


def problem_response(
    status: int,
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    problem = Problem(
        type=TYPE_BASE + code,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        errors=[FieldProblem(e.field, e.message) for e in errors] if errors is not None else None,
    )
    return Response(problem, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_bytes(status: int, code: str, detail: str) -> bytes:
    """The body of a problem, for the ASGI middleware that answers before Litestar does."""
    return msgspec.json.encode(Problem(TYPE_BASE + code, _TITLES.get(status, "Error"), status, detail, code))


UNAVAILABLE_RETRY_AFTER = 5
UNAVAILABLE_DETAIL = "a service we depend on is unavailable; retry shortly"


def _unavailable_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "a backing service is down or unreachable", by driver."""
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module, names in (
        ("redis.exceptions", ("ConnectionError", "TimeoutError", "BusyLoadingError")),
        ("sqlalchemy.exc", ("OperationalError", "TimeoutError")),
        ("psycopg", ("OperationalError",)),
        (
            "asyncpg.exceptions",
            ("CannotConnectNowError", "ConnectionDoesNotExistError", "TooManyConnectionsError"),
        ),
    ):
        try:
            loaded = importlib.import_module(module)
        except ImportError:
            continue
        found.extend(getattr(loaded, name) for name in names if hasattr(loaded, name))
    return tuple(found)


_UNAVAILABLE = _unavailable_types()


def is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, _UNAVAILABLE)


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The one exception mapper of the app."""
    if is_unavailable(exc):
        log.warning("service unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            503,
            "service_unavailable",
            UNAVAILABLE_DETAIL,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        )
    if isinstance(exc, DomainError):
        return _domain(exc)
    if isinstance(exc, ApiError):
        return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers)
    if isinstance(exc, ValidationException):
        return _validation(exc)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return _http(exc)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "something went wrong on our side; it has been logged",
    )


def _domain(exc: DomainError) -> Response[Problem]:
    status = next(s for cls, s in _DOMAIN_STATUS if isinstance(exc, cls)) if _known(exc) else 400
    headers: dict[str, str] = {}
    errors = exc.errors if isinstance(exc, ValidationFailed) else None
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="tailtracker"'
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(max(1, exc.retry_after))
    return problem_response(status, exc.code, exc.detail, errors, headers)


def _known(exc: DomainError) -> bool:
    return any(isinstance(exc, cls) for cls, _ in _DOMAIN_STATUS)


def _http(exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    code = _STATUS_CODES.get(status, "bad_request")
    detail = exc.detail if exc.detail and exc.detail != _default_detail(status) else _DETAILS.get(status, "")
    if status == 400 and _is_malformed_body(exc):
        detail = f"the request body is not valid JSON ({exc.detail})"
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="tailtracker"')
    return problem_response(status, code, detail or _TITLES.get(status, "Error"), headers=headers)


_DETAILS = {
    404: "no such resource",
    405: "this method is not allowed on this resource",
    413: "the request body is too large",
    415: "send the body as application/json",
}


def _default_detail(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _is_malformed_body(exc: HTTPException) -> bool:
    """Litestar raises a 400 caused by a SerializationException when the body does not decode."""
    return isinstance(exc.__cause__, SerializationException) or "json" in str(exc.detail).lower()


# --- validation ------------------------------------------------------------------------------

_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _validation(exc: ValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(e) for e in extra if isinstance(e, dict)]
    if not errors:
        if _is_malformed_body(exc):
            return problem_response(400, "bad_request", "the request body is not valid JSON")
        errors = [FieldError("body", str(exc.detail))]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return problem_response(422, "validation_error", detail, errors)


def _field_error(item: dict[str, Any]) -> FieldError:
    """Name the field a Litestar/msgspec message is about, as the client wrote it."""
    message = str(item.get("message") or "invalid value")
    key = str(item.get("key") or "")
    if item.get("source") == "header":  # the header as sent, not the Python parameter
        return FieldError("-".join(part.capitalize() for part in key.split("_")), message)
    parent = "" if key == "data" else key  # "data" is the body as a whole
    if named := _NAMED_FIELD.search(message):  # the message names the field (missing, unknown)
        return FieldError(".".join(p for p in (parent, named.group(1)) if p), message)
    if key == "data" and message == "'data'":
        return FieldError("body", "a JSON body is required")
    return FieldError(parent or "body", message)


_JSON_TYPES = ("application/json", "application/problem+json", "application/merge-patch+json")


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """A body in any other media type is refused with 415 before it is parsed (a `before_request`
    hook; a handler that takes uploads overrides it on its own layer). Async although it does
    no I/O: Litestar runs a sync hook in a worker thread, a hop on every request."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    if content_type.split(";", 1)[0].strip().lower() not in _JSON_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")


def problem_responses(*statuses: int, public: bool = False) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem responses a handler may give (400, 422, 429 and
    503 always; 401 unless `public`)."""
    base = (400, 422, 429, 503) if public else (400, 401, 422, 429, 503)
    return {
        s: ResponseSpec(
            data_container=Problem,
            description=_TITLES.get(s, "Error") + " (problem details)",
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for s in sorted({*base, *statuses})
    }
