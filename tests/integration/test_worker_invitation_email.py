"""The invitation email, end to end: outbox → relay → real broker (RabbitMQ, Redis) → Dramatiq
worker → real SMTP server. Exactly one email, even when the broker delivers twice. Also the
embedded mode (stub broker, worker and relay in process) and how the handler treats topics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any
from uuid import uuid4

import dramatiq
import pytest
from dramatiq.middleware import Middleware

from adapters.memory.uow import MemoryStore
from adapters.messaging import FileEmailSender, PermanentEmailError, SmtpEmailSender
from adapters.queue import DramatiqPublisher, broker_from_url
from adapters.system import Uuid7Generator
from entrypoints.tasks import EventHandlers, register_actors, start_embedded_worker
from entrypoints.worker import main, run_relay_forever, run_worker
from tailtracker_core.events import InvitationCreated, PetCreated, event_to_json
from tailtracker_core.ports import EmailMessage, OutboxMessage
from tailtracker_core.usecases.outbox import relay_once
from tests.fixtures.messaging import SmtpServer

ACCEPT_URL_BASE = "https://app.tailtracker.example/v1/invitations"


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class DictCache:
    """The Cache port in a dict (no TTLs): enough for the sent marks in these tests."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self.data[key] = value

    def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        with self.lock:
            if key in self.data:
                return False
            self.data[key] = value
            return True

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


class ProcessedCounter(Middleware):
    """Counts messages a worker has finished with (successfully or not)."""

    def __init__(self) -> None:
        self.done = 0
        self.failed = 0

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        self.done += 1
        if exception is not None:
            self.failed += 1

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.done += 1


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _invitation(email: str = "jorg@example.org", locale: str = "de-DE") -> InvitationCreated:
    return InvitationCreated(
        invitation_id=uuid4(),
        family_id=uuid4(),
        family_name="Familie Müller",
        email=email,
        role="member",
        inviter_name="Jörg Müller",
        inviter_locale=locale,
        token="tok-" + uuid4().hex,
        expires_at=datetime(2026, 3, 8, 12, 0, tzinfo=UTC),
    )


def _commit(store: MemoryStore, *events: Any) -> list[OutboxMessage]:
    with store.uow_factory(None) as uow:
        for event in events:
            uow.record(event)
        uow.commit()
    pending = store.outbox().claim(100)
    return pending


@pytest.fixture
def running_worker() -> Iterator[Callable[[dramatiq.Broker], ProcessedCounter]]:
    """Start a Dramatiq worker on a broker (after the actors are registered)."""
    started: list[tuple[dramatiq.Worker, dramatiq.Broker]] = []

    def start(broker: dramatiq.Broker) -> ProcessedCounter:
        counter = ProcessedCounter()
        broker.add_middleware(counter)
        worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
        worker.start()
        started.append((worker, broker))
        return counter

    yield start
    for worker, broker in started:
        worker.stop(timeout=5000)
        broker.close()


def _one_invitation_email_through(
    broker: dramatiq.Broker,
    queue_name: str,
    smtp_server: SmtpServer,
    start_worker: Callable[[dramatiq.Broker], ProcessedCounter],
) -> None:
    handlers = EventHandlers(
        email=SmtpEmailSender(
            smtp_server.host, smtp_server.port, "TailTracker <noreply@tailtracker.example>"
        ),
        sent_marks=DictCache(),
        accept_url_base=ACCEPT_URL_BASE,
    )
    register_actors(broker, handlers, queue_name=queue_name, min_backoff_ms=100, max_backoff_ms=500)
    publisher = DramatiqPublisher(broker, queue_name=queue_name)
    store = MemoryStore(Uuid7Generator(), FixedClock())
    event = _invitation()
    [outbox_row] = _commit(store, event)

    assert relay_once(store.outbox(), publisher, FixedClock()) == 1
    counter = start_worker(broker)
    _wait_for(lambda: counter.done >= 1)

    [email] = smtp_server.messages
    assert email["To"] == event.email
    assert "Jörg Müller" in str(email["Subject"])
    body = _text(email)
    assert f"{ACCEPT_URL_BASE}/{event.token}" in body
    assert "Familie Müller" in body

    # The relay crashed before marking, or the broker redelivered: the same row again.
    publisher.publish(outbox_row)
    _wait_for(lambda: counter.done >= 2)
    assert counter.failed == 0
    assert len(smtp_server.messages) == 1


def _text(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.rabbitmq
def test_rabbitmq_one_invitation_email_with_the_accept_link_even_when_delivered_twice(
    amqp_url: str, rabbitmq_queue: str, smtp_server: SmtpServer, running_worker: Any
) -> None:
    broker = broker_from_url(amqp_url)
    _one_invitation_email_through(broker, rabbitmq_queue, smtp_server, running_worker)


@pytest.mark.redis
def test_redis_one_invitation_email_with_the_accept_link_even_when_delivered_twice(
    redis_url: str, redis_queue: str, smtp_server: SmtpServer, running_worker: Any
) -> None:
    broker = broker_from_url(redis_url)
    _one_invitation_email_through(broker, redis_queue, smtp_server, running_worker)


@pytest.mark.rabbitmq
def test_a_transient_smtp_failure_is_retried_until_the_email_goes_out(
    amqp_url: str, rabbitmq_queue: str, smtp_server: SmtpServer, running_worker: Any
) -> None:
    class FailsFirst:
        def __init__(self) -> None:
            self.calls = 0
            self.real = SmtpEmailSender(smtp_server.host, smtp_server.port, "noreply@tailtracker.example")

        def send(self, message: EmailMessage) -> None:
            self.calls += 1
            if self.calls == 1:  # the server is down for the first attempt
                SmtpEmailSender("127.0.0.1", 1, "noreply@tailtracker.example", timeout=1).send(message)
            self.real.send(message)

    sender = FailsFirst()
    broker = broker_from_url(amqp_url, min_backoff_ms=50, max_backoff_ms=200)
    register_actors(broker, EventHandlers(sender, DictCache(), ACCEPT_URL_BASE), queue_name=rabbitmq_queue)
    store = MemoryStore(Uuid7Generator(), FixedClock())
    _commit(store, _invitation())
    relay_once(store.outbox(), DramatiqPublisher(broker, queue_name=rabbitmq_queue), FixedClock())
    counter = running_worker(broker)

    _wait_for(lambda: counter.done >= 2)
    assert sender.calls == 2
    assert len(smtp_server.messages) == 1


@pytest.mark.rabbitmq
def test_run_worker_with_its_relay_delivers_and_stops_when_asked(
    amqp_url: str, rabbitmq_queue: str, smtp_server: SmtpServer
) -> None:
    """The worker process as the CLI runs it (`tailtracker worker --with-relay`)."""
    broker = broker_from_url(amqp_url)
    handlers = EventHandlers(
        SmtpEmailSender(smtp_server.host, smtp_server.port, "noreply@tailtracker.example"),
        DictCache(),
        ACCEPT_URL_BASE,
    )
    # As bootstrap does; run_worker registers again, which must replace, not fail. (Our own
    # queue, not "events": the worker consumes every queue the broker knows.)
    register_actors(broker, handlers, queue_name=rabbitmq_queue)
    store = MemoryStore(Uuid7Generator(), FixedClock())
    publisher = DramatiqPublisher(broker, queue_name=rabbitmq_queue)
    stop = threading.Event()
    relay = (store.outbox(), publisher, FixedClock())
    thread = threading.Thread(
        target=run_worker,
        args=(broker, handlers),
        kwargs={"threads": 2, "relay": relay, "stop": stop, "queue_name": rabbitmq_queue},
    )
    thread.start()
    try:
        event = _invitation()
        _commit(store, event)
        _wait_for(lambda: len(smtp_server.messages) == 1)
        assert event.token in _text(smtp_server.messages[0])
    finally:
        stop.set()
        thread.join(timeout=15)
        broker.close()
    assert not thread.is_alive()


def test_run_relay_forever_returns_when_stopped() -> None:
    broker = broker_from_url("stub://")
    store = MemoryStore(Uuid7Generator(), FixedClock())
    stop = threading.Event()
    thread = threading.Thread(
        target=run_relay_forever, args=(store.outbox(), DramatiqPublisher(broker), FixedClock(), stop)
    )
    thread.start()
    _commit(store, _invitation())
    _wait_for(lambda: broker.queues["events"].qsize() == 1)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_worker_process_refuses_the_in_process_stub_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAILTRACKER_BROKER_URL", "stub://")
    assert main(["--threads", "1"]) == 2


def test_embedded_mode_sends_the_email_from_inside_the_process(tmp_path: Path) -> None:
    broker = broker_from_url("stub://")
    outbox_dir = tmp_path / "outbox"
    register_actors(broker, EventHandlers(FileEmailSender(outbox_dir), DictCache(), ACCEPT_URL_BASE))
    store = MemoryStore(Uuid7Generator(), FixedClock())
    stop = start_embedded_worker(broker, store.outbox(), DramatiqPublisher(broker), FixedClock())
    try:
        event = _invitation(locale="en-GB")
        _commit(store, event)
        _wait_for(lambda: len(list(outbox_dir.glob("*.eml"))) == 1)
        [path] = outbox_dir.glob("*.eml")
        assert path.name == f"invitation-{event.invitation_id}.eml"
        assert event.token in path.read_text()
        _wait_for(lambda: store.outbox().claim(10) == [])
    finally:
        stop()
        stop()  # stopping twice is harmless
    broker.close()


# --- how the handler treats topics (no broker needed) ------------------------------------


class RecordingSender:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.error = error

    def send(self, message: EmailMessage) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message)


def test_a_redelivered_invitation_sends_no_second_email() -> None:
    sender = RecordingSender()
    handlers = EventHandlers(sender, DictCache(), ACCEPT_URL_BASE)
    event = _invitation()
    for _ in range(3):
        handlers.handle(event.topic, event_to_json(event))
    assert len(sender.sent) == 1
    assert sender.sent[0].idempotency_key == f"invitation-{event.invitation_id}"


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("no.such.topic", "{}"),
        ("invitation.created", "not json"),
        ("invitation.created", '{"invitation_id": "x"}'),
        (PetCreated.topic, event_to_json(PetCreated(pet_id=uuid4(), family_id=uuid4()))),
    ],
)
def test_topics_without_an_email_are_acknowledged_without_sending(topic: str, payload: str) -> None:
    sender = RecordingSender()
    EventHandlers(sender, DictCache(), ACCEPT_URL_BASE).handle(topic, payload)  # does not raise
    assert sender.sent == []


def test_a_refused_recipient_fails_the_message_without_retries(running_worker: Any) -> None:
    broker = broker_from_url("stub://", min_backoff_ms=10, max_backoff_ms=20)
    sender = RecordingSender(error=PermanentEmailError("550 no such user", 550))
    register_actors(broker, EventHandlers(sender, DictCache(), ACCEPT_URL_BASE))
    store = MemoryStore(Uuid7Generator(), FixedClock())
    _commit(store, _invitation())
    relay_once(store.outbox(), DramatiqPublisher(broker), FixedClock())
    counter = running_worker(broker)
    _wait_for(lambda: counter.done >= 1)
    time.sleep(0.2)
    assert counter.done == 1  # not retried
    assert counter.failed == 1
    assert sum(1 for _ in broker.dead_letters) == 1  # type: ignore[attr-defined]


def test_a_transient_failure_is_retried_with_backoff(running_worker: Any) -> None:
    broker = broker_from_url("stub://", min_backoff_ms=10, max_backoff_ms=20)

    class Flaky(RecordingSender):
        def send(self, message: EmailMessage) -> None:
            if len(attempts) < 2:
                attempts.append(time.monotonic())
                raise OSError("connection reset")
            super().send(message)

    attempts: list[float] = []
    sender = Flaky()
    register_actors(broker, EventHandlers(sender, DictCache(), ACCEPT_URL_BASE))
    store = MemoryStore(Uuid7Generator(), FixedClock())
    _commit(store, _invitation())
    relay_once(store.outbox(), DramatiqPublisher(broker), FixedClock())
    counter = running_worker(broker)
    _wait_for(lambda: len(sender.sent) == 1)
    assert counter.failed == 2
