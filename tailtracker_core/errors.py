"""One error hierarchy for the core. Entrypoints map each class to a status and a `code`."""

from __future__ import annotations

from attrs import frozen

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DomainError",
    "FieldError",
    "FileRejected",
    "FileTooLarge",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "Throttled",
    "TierLimitExceeded",
    "UnsupportedFileType",
    "ValidationFailed",
]


@frozen
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code = "domain_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(DomainError):
    code = "validation_error"

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls(FieldError(field, message))


class AuthenticationFailed(DomainError):
    code = "unauthorized"


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class PreconditionFailed(DomainError):
    """The caller's version of a resource is stale (If-Match)."""

    code = "precondition_failed"


class TierLimitExceeded(Forbidden):
    code = "tier_limit_exceeded"

    def __init__(self, limit: str, allowed: int, tier: str) -> None:
        super().__init__(f"the {tier} tier allows {allowed} {limit}; upgrade to add more")
        self.limit = limit
        self.allowed = allowed
        self.tier = tier


class Throttled(DomainError):
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# --- uploads (docs/files.md) -------------------------------------------------------------------


class FileTooLarge(DomainError):
    """An upload over its kind's size limit (HTTP 413)."""

    code = "file_too_large"

    def __init__(self, detail: str, limit_bytes: int) -> None:
        super().__init__(detail)
        self.limit_bytes = limit_bytes


class UnsupportedFileType(DomainError):
    """The content (its magic bytes, whatever its name says) is not a type this kind accepts (415)."""

    code = "unsupported_file_type"


class FileRejected(ValidationFailed):
    """An upload of an accepted type that is unsafe or unusable: corrupt, truncated, a
    decompression bomb, a polyglot, a PDF with active content (422, `errors` names `file`)."""

    code = "invalid_file"

    def __init__(self, message: str) -> None:
        super().__init__(FieldError("file", message))
