"""Every EmailSender adapter passes the same contract (tailtracker_core.testing.email_contract)."""

from __future__ import annotations

import os
from collections.abc import Callable
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from adapters.messaging import (
    FileEmailSender,
    PermanentEmailError,
    SmtpEmailSender,
    TransientEmailError,
    email_sender_from_url,
)
from tailtracker_core.ports import EmailMessage
from tailtracker_core.testing.email_contract import EmailSenderContract, RemoteEmailSenderContract
from tests.fixtures.messaging import SmtpServer, free_port


def _read(path: Path) -> MimeMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, MimeMessage)
    return message


class TestFileEmailSender(EmailSenderContract):
    permanent_error = PermanentEmailError
    transient_error = TransientEmailError

    @pytest.fixture
    def email_sender(self, tmp_path: Path) -> FileEmailSender:
        return FileEmailSender(tmp_path / "outbox")

    @pytest.fixture
    def delivered(self, tmp_path: Path) -> Callable[[], list[MimeMessage]]:
        return lambda: [_read(p) for p in sorted((tmp_path / "outbox").glob("*.eml"))]

    @pytest.fixture
    def unreachable_sender(self, tmp_path: Path) -> FileEmailSender:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the outbox directory should be")
        return FileEmailSender(blocker / "outbox")

    def test_one_file_per_idempotency_key(self, email_sender: FileEmailSender, tmp_path: Path) -> None:
        for _ in range(3):
            email_sender.send(EmailMessage("a@example.org", "S", "T\n", "invitation-42"))
        assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["invitation-42.eml"]

    def test_keys_with_odd_characters_make_safe_distinct_names(
        self, email_sender: FileEmailSender, tmp_path: Path
    ) -> None:
        email_sender.send(EmailMessage("a@example.org", "S", "T\n", "../../etc/passwd"))
        email_sender.send(EmailMessage("a@example.org", "S", "T\n", "..//..//etc/passwd"))
        names = [p.name for p in (tmp_path / "outbox").iterdir()]
        assert len(names) == 2
        assert all("/" not in n and not n.startswith(".") for n in names)

    def test_a_half_written_message_is_never_listed_as_an_email(
        self, email_sender: FileEmailSender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A reader that lists `*.eml` while a message is being written must not see the part
        # file (CI once failed on exactly that race in the embedded-worker test).
        seen_mid_write: list[list[str]] = []
        replace = os.replace

        def looking_replace(src: str, dst: Path) -> None:
            seen_mid_write.append([p.name for p in (tmp_path / "outbox").glob("*.eml")])
            replace(src, dst)

        monkeypatch.setattr("adapters.messaging.file.os.replace", looking_replace)
        email_sender.send(EmailMessage("a@example.org", "S", "T\n", "k-part"))
        assert seen_mid_write == [[]]
        assert [p.name for p in (tmp_path / "outbox").glob("*.eml")] == ["k-part.eml"]

    def test_logs_one_line_per_message(
        self, email_sender: FileEmailSender, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level("INFO", logger="tailtracker.email"):
            email_sender.send(EmailMessage("a@example.org", "Subject", "T\n", "k-log"))
        assert [r.name for r in caplog.records] == ["tailtracker.email"]
        assert "k-log" in caplog.records[0].getMessage()


class TestSmtpEmailSender(RemoteEmailSenderContract):
    permanent_error = PermanentEmailError
    transient_error = TransientEmailError

    @pytest.fixture
    def email_sender(self, smtp_server: SmtpServer) -> SmtpEmailSender:
        return SmtpEmailSender(
            smtp_server.host, smtp_server.port, "TailTracker <noreply@tailtracker.example>"
        )

    @pytest.fixture
    def delivered(self, smtp_server: SmtpServer) -> Callable[[], list[MimeMessage]]:
        return lambda: smtp_server.messages

    @pytest.fixture
    def refused_recipient(self, smtp_server: SmtpServer) -> str:
        return smtp_server.refused_recipient

    @pytest.fixture
    def deferred_recipient(self, smtp_server: SmtpServer) -> str:
        return smtp_server.deferred_recipient

    @pytest.fixture
    def unreachable_sender(self) -> SmtpEmailSender:
        return SmtpEmailSender("127.0.0.1", free_port(), "noreply@tailtracker.example", timeout=2)

    def test_permanent_error_carries_the_smtp_code(
        self, email_sender: SmtpEmailSender, smtp_server: SmtpServer
    ):
        with pytest.raises(PermanentEmailError) as raised:
            email_sender.send(EmailMessage(smtp_server.refused_recipient, "S", "T\n", "k-code"))
        assert raised.value.code == 550

    def test_message_id_uses_the_sender_domain(self, email_sender: SmtpEmailSender, smtp_server: SmtpServer):
        email_sender.send(EmailMessage("a@example.org", "S", "T\n", "k-domain"))
        [message] = smtp_server.messages
        assert str(message["Message-ID"]).endswith("@tailtracker.example>")

    def test_send_many_uses_one_connection_even_after_a_refusal(
        self, email_sender: SmtpEmailSender, smtp_server: SmtpServer
    ) -> None:
        batch = [EmailMessage(f"n{i}@example.org", "S", "T\n", f"k-conn-{i}") for i in range(4)]
        batch.insert(2, EmailMessage(smtp_server.refused_recipient, "S", "T\n", "k-conn-refused"))
        outcomes = email_sender.send_many(batch)
        assert [o is None for o in outcomes] == [True, True, False, True, True]
        assert len(smtp_server.messages) == 4
        assert len(set(smtp_server.handler.peers)) == 1


class TestEmailSenderFromUrl:
    def test_file_url_absolute(self, tmp_path: Path) -> None:
        sender = email_sender_from_url(f"file://{tmp_path}/outbox")
        assert isinstance(sender, FileEmailSender)
        assert sender.directory == tmp_path / "outbox"

    def test_file_url_relative(self) -> None:
        sender = email_sender_from_url("file://./var/outbox")
        assert isinstance(sender, FileEmailSender)
        assert sender.directory == Path("var/outbox")

    def test_smtp_url_with_credentials_and_starttls(self) -> None:
        sender = email_sender_from_url(
            "smtp://mailer:p%40ss@mail.example.org:587?from=noreply@x.org&starttls=1"
        )
        assert isinstance(sender, SmtpEmailSender)
        assert (sender.host, sender.port, sender.sender) == ("mail.example.org", 587, "noreply@x.org")
        assert (sender.username, sender.password, sender.starttls) == ("mailer", "p@ss", True)

    def test_smtp_url_needs_a_sender(self) -> None:
        with pytest.raises(ValueError, match="from="):
            email_sender_from_url("smtp://mail.example.org:25")

    def test_smtp_url_sends_to_a_real_server(self, smtp_server: SmtpServer) -> None:
        sender = email_sender_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}?from=noreply@x.org")
        sender.send(EmailMessage("a@example.org", "Über", "Grüße\n", "k-url"))
        [message] = smtp_server.messages
        assert message["Subject"] == "Über"

    def test_other_schemes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="scheme"):
            email_sender_from_url("sendgrid://key@api")
