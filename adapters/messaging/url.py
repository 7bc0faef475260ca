"""Choosing the email adapter from a settings URL."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from adapters.messaging.file import DEFAULT_SENDER, FileEmailSender
from adapters.messaging.smtp import SmtpEmailSender
from tailtracker_core.ports import EmailSender

__all__ = ["email_sender_from_url"]

_TRUE = {"1", "true", "yes", "on"}


def email_sender_from_url(url: str) -> EmailSender:
    """`file:///abs/dir`, `file://./relative/dir` or
    `smtp://[user:pass@]host[:port]?from=noreply@example.org&starttls=1&timeout=10`."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "file":
        directory = parts.path if parts.netloc in ("", "localhost") else parts.netloc + parts.path
        if not directory:
            raise ValueError(f"email URL {url!r} names no directory")
        return FileEmailSender(unquote(directory), sender=query.get("from", DEFAULT_SENDER))
    if parts.scheme == "smtp":
        if not parts.hostname:
            raise ValueError(f"email URL {url!r} names no host")
        sender = query.get("from")
        if not sender:
            raise ValueError(f"email URL {url!r} needs ?from=<sender address>")
        return SmtpEmailSender(
            parts.hostname,
            parts.port or 25,
            sender,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            starttls=query.get("starttls", "").lower() in _TRUE,
            timeout=float(query.get("timeout", "10")),
        )
    raise ValueError(f"unsupported email URL scheme {parts.scheme!r} (use file:// or smtp://)")
