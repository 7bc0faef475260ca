"""Email adapters: .eml files for the embedded default, SMTP for production."""

from adapters.messaging.errors import EmailDeliveryError, PermanentEmailError, TransientEmailError
from adapters.messaging.file import FileEmailSender
from adapters.messaging.message import message_id_for
from adapters.messaging.smtp import SmtpEmailSender
from adapters.messaging.url import email_sender_from_url

__all__ = [
    "EmailDeliveryError",
    "FileEmailSender",
    "PermanentEmailError",
    "SmtpEmailSender",
    "TransientEmailError",
    "email_sender_from_url",
    "message_id_for",
]
