"""Email over SMTP (smtplib): one connection per message, errors sorted into retry or give up."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.policy import SMTP
from email.utils import parseaddr

from adapters.messaging.errors import PermanentEmailError, TransientEmailError
from adapters.messaging.message import to_mime
from tailtracker_core.ports import EmailMessage

__all__ = ["SmtpEmailSender"]

_log = logging.getLogger("tailtracker.email")


class SmtpEmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        mime = to_mime(message, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                # sendmail with our own bytes: send_message would turn "From " lines into ">From ".
                smtp.sendmail(parseaddr(self.sender)[1], [message.to], mime.as_bytes(policy=SMTP))
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _by_code(code, f"recipient refused: {code} {reply.decode(errors='replace')}") from error
        except smtplib.SMTPDataError as error:
            # The server refused this very content: sending it again cannot help when it says 5xx.
            raise _by_code(error.smtp_code, f"message refused: {error}") from error
        except (smtplib.SMTPException, OSError) as error:
            # Connection trouble, and also sender/auth refusals: those are our configuration,
            # not the recipient's fault, so they must not disable the address. Retry and alert.
            reply_code: int | None = getattr(error, "smtp_code", None)
            raise TransientEmailError(
                f"SMTP {self.host}:{self.port} failed: {error!r}", reply_code
            ) from error
        _log.info("email %s sent to %s via %s:%s", message.idempotency_key, message.to, self.host, self.port)


def _by_code(code: int, reason: str) -> TransientEmailError | PermanentEmailError:
    if 500 <= code < 600:
        return PermanentEmailError(reason, code)
    return TransientEmailError(reason, code)
