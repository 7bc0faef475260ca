"""How an email adapter says why a message did not go out."""

from __future__ import annotations

__all__ = ["EmailDeliveryError", "PermanentEmailError", "TransientEmailError"]


class EmailDeliveryError(Exception):
    """The message was not delivered; `code` is the SMTP reply code when there was one."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class TransientEmailError(EmailDeliveryError):
    """Worth retrying later: the server is down, busy (4xx) or the connection broke."""


class PermanentEmailError(EmailDeliveryError):
    """Retrying the same message cannot help: the server refused it for good (5xx)."""
