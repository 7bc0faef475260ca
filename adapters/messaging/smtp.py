"""Email over SMTP (smtplib): one connection per message (`send`) or per batch (`send_many`),
errors sorted into retry or give up."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.policy import SMTP
from email.utils import parseaddr

from adapters.messaging.errors import EmailDeliveryError, PermanentEmailError, TransientEmailError
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

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transmit(self, smtp: smtplib.SMTP, message: EmailMessage) -> None:
        mime = to_mime(message, self.sender)
        # sendmail with our own bytes: send_message would turn "From " lines into ">From ".
        smtp.sendmail(parseaddr(self.sender)[1], [message.to], mime.as_bytes(policy=SMTP))
        _log.info("email %s sent to %s via %s:%s", message.idempotency_key, message.to, self.host, self.port)

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                self._transmit(smtp, message)
        except (smtplib.SMTPException, OSError) as error:
            raise self._classified(error) from error

    def send_many(self, messages: Sequence[EmailMessage]) -> list[EmailDeliveryError | None]:
        """One connection for all of them. A refusal of one message (recipient or content)
        leaves the connection usable (smtplib resets the transaction); a broken connection is
        opened again once, and what cannot be sent after that is a transient failure."""
        outcomes: list[EmailDeliveryError | None] = []
        smtp: smtplib.SMTP | None = None
        down: EmailDeliveryError | None = None  # connecting failed: the rest is not tried
        reconnects = 1
        try:
            for message in messages:
                error: EmailDeliveryError | None = down
                while down is None:
                    if smtp is None:
                        try:
                            smtp = self._connect()
                        except (smtplib.SMTPException, OSError) as unreachable:
                            error = down = self._classified(unreachable)
                            break
                    try:
                        self._transmit(smtp, message)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as refused:
                        error = self._classified(refused)
                    except (smtplib.SMTPException, OSError) as broken:
                        error = self._classified(broken)
                        smtp.close()
                        smtp = None
                        if reconnects > 0:  # the connection broke: one fresh try
                            reconnects -= 1
                            continue
                        down = error  # broken twice: the rest waits for a retry
                    else:
                        error = None
                    break
                if error is not None:
                    _log.info("email %s to %s failed: %s", message.idempotency_key, message.to, error)
                outcomes.append(error)
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        return outcomes

    def _classified(self, error: Exception) -> TransientEmailError | PermanentEmailError:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            code, reply = next(iter(error.recipients.values()))
            return _by_code(code, f"recipient refused: {code} {reply.decode(errors='replace')}")
        if isinstance(error, smtplib.SMTPDataError):
            # The server refused this very content: sending it again cannot help when it says 5xx.
            return _by_code(error.smtp_code, f"message refused: {error}")
        # Connection trouble, and also sender/auth refusals: those are our configuration, not
        # the recipient's fault, so they must not disable the address. Retry and alert.
        reply_code: int | None = getattr(error, "smtp_code", None)
        return TransientEmailError(f"SMTP {self.host}:{self.port} failed: {error!r}", reply_code)


def _by_code(code: int, reason: str) -> TransientEmailError | PermanentEmailError:
    if 500 <= code < 600:
        return PermanentEmailError(reason, code)
    return TransientEmailError(reason, code)
