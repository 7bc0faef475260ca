"""The embedded default: each email becomes an .eml file under a directory, plus a log line."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from adapters.messaging.errors import EmailDeliveryError, TransientEmailError
from adapters.messaging.message import to_mime
from tailtracker_core.ports import EmailMessage

__all__ = ["DEFAULT_SENDER", "FileEmailSender"]

DEFAULT_SENDER = "TailTracker <noreply@tailtracker.localhost>"

_log = logging.getLogger("tailtracker.email")
_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")


def _file_name(idempotency_key: str) -> str:
    if _SAFE_KEY.fullmatch(idempotency_key):
        return f"{idempotency_key}.eml"
    # Keys with other characters keep a readable prefix and a hash that keeps them apart.
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", idempotency_key)[:80].strip("._") or "message"
    return f"{slug}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]}.eml"


class FileEmailSender:
    """Writes `<idempotency key>.eml` under `directory`; the first write of a key wins, so a
    redelivered message leaves exactly one file."""

    def __init__(self, directory: str | Path, sender: str = DEFAULT_SENDER) -> None:
        self.directory = Path(directory)
        self.sender = sender

    def path_for(self, idempotency_key: str) -> Path:
        return self.directory / _file_name(idempotency_key)

    def send_many(self, messages: Sequence[EmailMessage]) -> list[EmailDeliveryError | None]:
        outcomes: list[EmailDeliveryError | None] = []
        for message in messages:
            try:
                self.send(message)
            except EmailDeliveryError as error:
                outcomes.append(error)
            else:
                outcomes.append(None)
        return outcomes

    def send(self, message: EmailMessage) -> None:
        target = self.path_for(message.idempotency_key)
        if target.exists():
            _log.info("email %s already written to %s", message.idempotency_key, target)
            return
        data = to_mime(message, self.sender, for_reading=True).as_bytes()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write aside, then rename: a reader never sees half a message. The part file's
            # name does not end in .eml, so a reader listing `*.eml` never picks it up.
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml.part")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TransientEmailError(f"cannot write {target}: {error}") from error
        _log.info(
            "email %s to %s %r written to %s", message.idempotency_key, message.to, message.subject, target
        )
