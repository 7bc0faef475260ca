"""Turning the core's EmailMessage into an RFC 5322 message, the same way for every adapter."""

from __future__ import annotations

import email.message
import email.policy
import hashlib
from email.utils import formatdate, parseaddr

from tailtracker_core.ports import EmailMessage

__all__ = ["message_id_for", "to_mime"]


def message_id_for(idempotency_key: str, sender: str) -> str:
    """A Message-ID that depends only on the idempotency key (and the sender's domain), so a
    message sent twice carries the same id and receivers can drop the copy."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tailtracker.invalid"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _one_line(value: str) -> str:
    # A line break in a header value would start a new header (header injection).
    return " ".join(value.splitlines()).strip()


def to_mime(message: EmailMessage, sender: str, *, for_reading: bool = False) -> email.message.EmailMessage:
    """`for_reading`: a file a developer opens, so links stay whole (8bit) where RFC 5322's
    998-character line limit allows; on the wire quoted-printable is safe for any server."""
    mime = email.message.EmailMessage(policy=email.policy.SMTP)
    mime["From"] = _one_line(sender)
    mime["To"] = _one_line(message.to)
    mime["Subject"] = _one_line(message.subject)
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = message_id_for(message.idempotency_key, sender)
    mime["X-TailTracker-Idempotency-Key"] = _one_line(message.idempotency_key)
    short_lines = all(len(line.encode()) <= 998 for line in message.text.splitlines())
    cte = "8bit" if for_reading and short_lines else "quoted-printable"
    mime.set_content(message.text, charset="utf-8", cte=cte)
    return mime
