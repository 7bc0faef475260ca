"""Emails the core sends, rendered in the recipient's language."""

from __future__ import annotations

from tailtracker_core.events import InvitationCreated
from tailtracker_core.ports import Cache, EmailMessage, EmailSender

__all__ = ["invitation_email", "send_invitation_email"]

_TEMPLATES = {
    "en": (
        "{inviter} invited you to {family} on TailTracker",
        'Hello,\n\n{inviter} invited you to join the family "{family}" on TailTracker as {role}.\n\n'
        "Accept the invitation here (valid until {expires}):\n{link}\n\n"
        "If you did not expect this email you can ignore it.\n",
    ),
    "de": (
        "{inviter} hat dich zu {family} auf TailTracker eingeladen",
        'Hallo,\n\n{inviter} hat dich eingeladen, der Familie "{family}" auf TailTracker als {role} '
        "beizutreten.\n\nNimm die Einladung hier an (gültig bis {expires}):\n{link}\n\n"
        "Wenn du diese E-Mail nicht erwartet hast, kannst du sie ignorieren.\n",
    ),
}


def invitation_email(event: InvitationCreated, accept_url_base: str) -> EmailMessage:
    language = event.inviter_locale.split("-")[0].lower()
    subject, body = _TEMPLATES.get(language, _TEMPLATES["en"])
    values = {
        "inviter": event.inviter_name,
        "family": event.family_name,
        "role": event.role,
        "expires": event.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        "link": f"{accept_url_base.rstrip('/')}/{event.token}",
    }
    return EmailMessage(
        to=event.email,
        subject=subject.format(**values),
        text=body.format(**values),
        idempotency_key=f"invitation-{event.invitation_id}",
    )


def send_invitation_email(
    event: InvitationCreated, sender: EmailSender, sent_marks: Cache, accept_url_base: str
) -> bool:
    """Send once: a redelivered event whose email went out is skipped. Returns True if sent."""
    message = invitation_email(event, accept_url_base)
    mark = f"sent:{message.idempotency_key}"
    if sent_marks.get(mark) is not None:
        return False
    sender.send(message)
    sent_marks.set(mark, b"1", 30 * 24 * 3600)
    return True
