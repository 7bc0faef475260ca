"""The EmailSender contract: what every email adapter must do, as a pytest base class.

Subclass it in a test module and provide the fixtures:

- `email_sender`: the adapter under test;
- `delivered`: a callable returning every message delivered so far, parsed as
  `email.message.EmailMessage` (read back from wherever the adapter put them);
- optionally `unreachable_sender` (the same adapter pointed at a server that is down);
- senders with a far end that can refuse recipients subclass `RemoteEmailSenderContract`
  instead and also provide `refused_recipient` (5xx) and `deferred_recipient` (4xx);
- the class attributes `permanent_error` and `transient_error`: the adapter's exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage as MimeMessage
from typing import ClassVar

import pytest

from tailtracker_core.ports import EmailMessage, EmailSender

__all__ = ["EmailSenderContract", "RemoteEmailSenderContract"]

Delivered = Callable[[], list[MimeMessage]]

_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")


def _text(message: MimeMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "no text/plain part"
    content = body.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def _message(
    key: str, *, to: str = "ada@example.org", subject: str = "Hello", text: str = "Hi.\n"
) -> EmailMessage:
    return EmailMessage(to=to, subject=subject, text=text, idempotency_key=key)


class EmailSenderContract:
    permanent_error: ClassVar[type[BaseException]] = Exception
    transient_error: ClassVar[type[BaseException]] = Exception

    @pytest.fixture
    def unreachable_sender(self) -> EmailSender | None:
        return None

    def test_delivers_recipient_subject_and_body(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        email_sender.send(
            _message("k-basic", to="ada@example.org", subject="Your pets", text="Line 1\nLine 2\n")
        )
        [message] = delivered()
        assert message["To"] == "ada@example.org"
        assert message["Subject"] == "Your pets"
        assert message["From"]
        assert message["Date"]
        assert _text(message) == "Line 1\nLine 2\n"

    def test_german_umlauts_survive_in_subject_and_body(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        subject = "Grüße von Jörg: Bello hat Fieber (äöüß ÄÖÜ)"
        text = "Hallo Jürgen,\n\nbitte bestätige die Einladung für Möhre bis Donnerstag.\n\nGrüße\n"
        email_sender.send(_message("k-umlauts", subject=subject, text=text))
        [message] = delivered()
        assert message["Subject"] == subject
        assert _text(message) == text

    def test_body_lines_that_mean_something_to_the_transport_stay_intact(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        text = "first\n.\n..two dots\nFrom the start of a line\n" + "x" * 1200 + "\nlast\n"
        email_sender.send(_message("k-transport", text=text))
        [message] = delivered()
        assert _text(message) == text

    def test_message_id_is_derived_from_the_idempotency_key(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        email_sender.send(_message("invitation-1"))
        email_sender.send(_message("invitation-2"))
        email_sender.send(_message("invitation-1"))  # a redelivery
        ids: dict[str, set[str]] = {}
        for message in delivered():
            key = str(message["X-TailTracker-Idempotency-Key"] or "")
            ids.setdefault(key, set()).add(str(message["Message-ID"]))
        first, second = ids.get("invitation-1", set()), ids.get("invitation-2", set())
        assert len(first) == 1, "every copy of one key carries the same Message-ID"
        assert len(second) == 1
        assert first != second
        assert all(_MESSAGE_ID.fullmatch(mid) for mid in first | second)

    def test_message_id_is_the_same_from_another_sender_instance_later(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        """A worker that crashed after sending and a second worker that retries produce the
        same Message-ID, so the receiving side can drop the duplicate."""
        email_sender.send(_message("k-again", subject="one"))
        email_sender.send(_message("k-again", subject="one"))
        messages = delivered()
        assert 1 <= len(messages) <= 2
        assert len({str(m["Message-ID"]) for m in messages}) == 1

    def test_a_line_break_in_the_subject_cannot_add_a_header(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        email_sender.send(_message("k-inject", subject="Hi\r\nBcc: victim@example.org\nX-Evil: 1"))
        [message] = delivered()
        assert message["Bcc"] is None
        assert message["X-Evil"] is None
        assert "Hi" in str(message["Subject"])

    def test_a_server_that_is_down_raises_the_transient_error(
        self, unreachable_sender: EmailSender | None
    ) -> None:
        if unreachable_sender is None:
            pytest.skip("this adapter has no server that can be down")
        with pytest.raises(self.transient_error):
            unreachable_sender.send(_message("k-down"))

    def test_send_many_delivers_each_message_and_says_so_in_order(
        self, email_sender: EmailSender, delivered: Delivered
    ) -> None:
        batch = [
            _message(f"k-many-{i}", to=f"n{i}@example.org", subject=f"Nr. {i} für Jörg") for i in range(3)
        ]
        assert email_sender.send_many(batch) == [None, None, None]
        assert email_sender.send_many([]) == []
        got = {str(m["To"]): str(m["Subject"]) for m in delivered()}
        assert got == {f"n{i}@example.org": f"Nr. {i} für Jörg" for i in range(3)}

    def test_send_many_to_a_server_that_is_down_reports_each_as_transient(
        self, unreachable_sender: EmailSender | None
    ) -> None:
        if unreachable_sender is None:
            pytest.skip("this adapter has no server that can be down")
        outcomes = unreachable_sender.send_many([_message("k-down-1"), _message("k-down-2")])
        assert len(outcomes) == 2
        assert all(isinstance(o, self.transient_error) for o in outcomes)


class RemoteEmailSenderContract(EmailSenderContract):
    """For senders with a far end (an SMTP server, an HTTP API) that can refuse or defer a
    recipient. Needs the fixtures `refused_recipient` and `deferred_recipient`: addresses the
    test server answers with a permanent (5xx) and a transient (4xx) refusal."""

    def test_a_recipient_refused_for_good_raises_the_permanent_error(
        self, email_sender: EmailSender, delivered: Delivered, refused_recipient: str
    ) -> None:
        with pytest.raises(self.permanent_error):
            email_sender.send(_message("k-refused", to=refused_recipient))
        assert delivered() == []

    def test_a_recipient_deferred_for_now_raises_the_transient_error(
        self, email_sender: EmailSender, delivered: Delivered, deferred_recipient: str
    ) -> None:
        with pytest.raises(self.transient_error):
            email_sender.send(_message("k-deferred", to=deferred_recipient))
        assert delivered() == []

    def test_send_many_reports_a_refusal_at_its_place_and_delivers_the_others(
        self,
        email_sender: EmailSender,
        delivered: Delivered,
        refused_recipient: str,
        deferred_recipient: str,
    ) -> None:
        batch = [
            _message("k-m1", to="one@example.org"),
            _message("k-m2", to=refused_recipient),
            _message("k-m3", to="three@example.org"),
            _message("k-m4", to=deferred_recipient),
            _message("k-m5", to="five@example.org"),
        ]
        outcomes = email_sender.send_many(batch)
        assert [type(o) for o in outcomes] == [
            type(None),
            self.permanent_error,
            type(None),
            self.transient_error,
            type(None),
        ]
        assert sorted(str(m["To"]) for m in delivered()) == [
            "five@example.org",
            "one@example.org",
            "three@example.org",
        ]
