"""Notification delivery, end to end: enqueue -> outbox -> relay -> Dramatiq (stub broker, and
a real RabbitMQ) -> handle_event -> deliver_notification -> real SMTP server (aiosmtpd) or the
in-app store. Exactly once per key, in the user's language; transient failures are retried
with backoff, permanent ones fail the delivery and disable the address."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from typing import Any
from uuid import UUID

import dramatiq
import pytest
from dramatiq.middleware import Middleware

from adapters.messaging import SmtpEmailSender
from adapters.queue import DramatiqPublisher, broker_from_url
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from entrypoints.tasks import EventHandlers, register_actors
from tailtracker_core.model.accounts import User
from tailtracker_core.model.notifications import DeliveryRequest, DeliveryStatus, delivery_key
from tailtracker_core.model.reminders import Category, Channel
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.usecases.notifications import (
    Deliverer,
    DeliveryInFlight,
    DeliveryOutcome,
    deliver,
    enqueue,
)
from tailtracker_core.usecases.outbox import relay_once
from tests.fixtures.messaging import SmtpServer, delete_rabbitmq_queues
from tests.fixtures.sql import PostgresDatabase

SENDER = "TailTracker <noreply@tailtracker.example>"
PARAMS = {"pet_name": "Biscuit", "task_title": "Wurmkur", "due_local": "08:00"}


class Processed(Middleware):
    def __init__(self) -> None:
        self.done = 0
        self.failed = 0

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        self.done += 1
        self.failed += exception is not None


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _user(uow: UnitOfWorkFactory, email: str, locale: str = "en") -> User:
    ids = Uuid7Generator()
    user = User(ids.new_id(), email, "Alex", "hash", datetime.now(UTC), locale=locale)
    with uow(user.id) as u:
        u.users.add(user)
        u.commit()
    return user


def _request(user: User, subject: str, channel: Channel = Channel.EMAIL, **kw: Any) -> DeliveryRequest:
    return DeliveryRequest(
        delivery_key(subject, user.id, channel),
        user.id,
        kw.get("category", Category.CARE_REMINDER),
        channel,
        kw.get("template", "care_reminder.medication"),
        kw.get("params", PARAMS),
        subject,
        kw.get("at", datetime.now(UTC) - timedelta(seconds=1)),  # due by the time it is enqueued
    )


class World:
    """A database, a broker with the actors registered, a publisher and a worker."""

    def __init__(
        self,
        db: Database,
        broker: dramatiq.Broker,
        smtp: SmtpServer,
        queue: str,
        *,
        max_retries: int = 3,
        still_wanted: dict[Category, Any] | None = None,
    ) -> None:
        self.db, self.broker, self.smtp, self.queue = db, broker, smtp, queue
        self.notification_queue = f"{queue}-n"
        self.deliverer = Deliverer(
            uow=db.uow_factory,
            clock=SystemClock(),
            ids=Uuid7Generator(),
            email=SmtpEmailSender(smtp.host, smtp.port, SENDER),
            max_attempts=max_retries + 1,
            lease=timedelta(seconds=30),
            still_wanted=still_wanted or {},
        )
        handlers = EventHandlers(
            email=self.deliverer.email,
            sent_marks=None,  # type: ignore[arg-type]  # no invitation emails here
            accept_url_base="https://x.example",
            deliverer=self.deliverer,
            notification_min_backoff_ms=50,
            notification_max_backoff_ms=200,
        )
        register_actors(broker, handlers, queue_name=queue, notification_queue_name=self.notification_queue)
        self.publisher = DramatiqPublisher(broker, queue_name=queue)
        self.processed = Processed()
        broker.add_middleware(self.processed)
        self.worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
        self.worker.start()

    def enqueue(self, actor: UUID | None, *requests: DeliveryRequest) -> list[bool]:
        with self.db.uow_factory(actor) as uow:
            added = enqueue(uow, self.deliverer.ids, datetime.now(UTC), requests)
            uow.commit()
        return added

    def relay(self) -> int:
        return relay_once(self.db.outbox(), self.publisher, SystemClock())

    def delivery(self, user: User, subject: str, channel: Channel = Channel.EMAIL) -> Any:
        with self.db.uow_factory(user.id) as uow:
            return uow.deliveries.get_by_key(delivery_key(subject, user.id, channel))

    def settle(self, condition: Callable[[], bool]) -> None:
        _wait_for(condition)

    def stop(self) -> None:
        self.worker.stop(timeout=5000)


@pytest.fixture
def stub_world(sqlite_db: Database, smtp_server: SmtpServer) -> Iterator[Callable[..., World]]:
    worlds: list[World] = []

    def make(**kw: Any) -> World:
        world = World(sqlite_db, broker_from_url("stub://"), smtp_server, "events", **kw)
        worlds.append(world)
        return world

    yield make
    for w in worlds:
        w.stop()


def _text(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_an_email_reaches_the_user_once_in_their_language(stub_world: Any, smtp_server: SmtpServer) -> None:
    w: World = stub_world()
    jorg = _user(w.db.uow_factory, "jorg@example.org", locale="de-AT")
    assert w.enqueue(None, _request(jorg, "occ:1")) == [True]
    assert w.relay() == 1
    w.settle(lambda: w.delivery(jorg, "occ:1").status is DeliveryStatus.SENT)
    [email] = smtp_server.messages
    assert email["To"] == "jorg@example.org"
    assert str(email["Subject"]) == "Medikament für Biscuit: Wurmkur"
    assert "Es ist Zeit für das Medikament von Biscuit" in _text(email)
    d = w.delivery(jorg, "occ:1")
    assert (d.attempts, d.last_error, d.sent_at is not None) == (1, None, True)
    # The same request again, and the same message handed twice: still one email.
    assert w.enqueue(None, _request(jorg, "occ:1")) == [False]
    assert w.relay() == 0
    w.broker.get_actor("deliver_notification").send(str(d.id), str(jorg.id))
    w.settle(lambda: w.processed.done >= 3)
    assert len(smtp_server.messages) == 1
    assert w.delivery(jorg, "occ:1").attempts == 1


def test_english_is_the_fallback_language(stub_world: Any, smtp_server: SmtpServer) -> None:
    w: World = stub_world()
    ana = _user(w.db.uow_factory, "ana@example.org", locale="pt-BR")
    w.enqueue(ana.id, _request(ana, "occ:2"))
    w.relay()
    w.settle(lambda: len(smtp_server.messages) == 1)
    assert str(smtp_server.messages[0]["Subject"]) == "Medication for Biscuit: Wurmkur"


def test_the_message_id_comes_from_the_delivery_key(stub_world: Any, smtp_server: SmtpServer) -> None:
    from adapters.messaging import message_id_for

    w: World = stub_world()
    kim = _user(w.db.uow_factory, "kim@example.org")
    w.enqueue(None, _request(kim, "occ:mid"))
    w.relay()
    w.settle(lambda: len(smtp_server.messages) == 1)
    key = delivery_key("occ:mid", kim.id, Channel.EMAIL)
    assert smtp_server.messages[0]["Message-ID"] == message_id_for(key, SENDER)
    assert str(smtp_server.messages[0]["X-TailTracker-Idempotency-Key"]).strip() == key


def test_a_transient_failure_is_retried_with_backoff_and_ends_sent(
    stub_world: Any, smtp_server: SmtpServer
) -> None:
    w: World = stub_world(max_retries=3)
    sam = _user(w.db.uow_factory, "sam@example.org")
    smtp_server.handler.defer_next["sam@example.org"] = 2
    started = time.monotonic()
    w.enqueue(None, _request(sam, "occ:3"))
    w.relay()
    w.settle(lambda: w.delivery(sam, "occ:3").status is DeliveryStatus.SENT)
    assert time.monotonic() - started >= 0.05  # at least the first backoff passed
    d = w.delivery(sam, "occ:3")
    assert d.attempts == 3
    assert "451" in d.last_error  # the last failure stays on record
    assert len(smtp_server.messages) == 1


def test_a_permanent_failure_ends_failed_and_disables_the_address(
    stub_world: Any, smtp_server: SmtpServer
) -> None:
    w: World = stub_world()
    gone = _user(w.db.uow_factory, smtp_server.refused_recipient)
    w.enqueue(None, _request(gone, "occ:4"))
    w.relay()
    w.settle(lambda: w.delivery(gone, "occ:4").status is DeliveryStatus.FAILED)
    d = w.delivery(gone, "occ:4")
    assert d.attempts == 1
    assert "550" in d.last_error
    with w.db.uow_factory(gone.id) as uow:
        assert uow.email_suppressions.is_suppressed(smtp_server.refused_recipient)
    # The next email to that address is not even attempted.
    w.enqueue(None, _request(gone, "occ:5"))
    w.relay()
    w.settle(lambda: w.delivery(gone, "occ:5").status is DeliveryStatus.FAILED)
    d5 = w.delivery(gone, "occ:5")
    assert d5.attempts == 0
    assert "disabled" in d5.last_error
    assert smtp_server.messages == []


def test_after_the_last_retry_the_delivery_is_failed(stub_world: Any, smtp_server: SmtpServer) -> None:
    w: World = stub_world(max_retries=2)
    busy = _user(w.db.uow_factory, smtp_server.deferred_recipient)
    w.enqueue(None, _request(busy, "occ:6"))
    w.relay()
    w.settle(lambda: w.delivery(busy, "occ:6").status is DeliveryStatus.FAILED)
    d = w.delivery(busy, "occ:6")
    assert d.attempts == 3
    assert "gave up after 3 attempts" in d.last_error
    assert "451" in d.last_error


def test_in_app_notifications_are_stored_once(stub_world: Any) -> None:
    w: World = stub_world()
    lea = _user(w.db.uow_factory, "lea@example.org", locale="de")
    pet_id = "0190a0a0-0000-7000-8000-000000000001"
    req = _request(
        lea,
        "sighting:9",
        Channel.IN_APP,
        category=Category.SIGHTING,
        template="sighting",
        params={"pet_name": "Biscuit", "seen_at": "14:05", "link": "https://x.example/r/9", "pet_id": pet_id},
    )
    w.enqueue(None, req)
    w.relay()
    w.settle(lambda: w.delivery(lea, "sighting:9", Channel.IN_APP).status is DeliveryStatus.SENT)
    d = w.delivery(lea, "sighting:9", Channel.IN_APP)
    w.broker.get_actor("deliver_notification").send(str(d.id), str(lea.id))
    w.settle(lambda: w.processed.done >= 3)
    with w.db.uow_factory(lea.id) as uow:
        [n] = uow.notifications.list_for_user(lea.id, False, None, 10)
    assert n.title == "Biscuit wurde gesehen"
    assert n.category is Category.SIGHTING
    assert dict(n.data) == {"pet_id": pet_id, "link": "https://x.example/r/9", "subject": "sighting:9"}
    assert n.delivery_id == d.id


def test_a_reminder_no_longer_wanted_is_cancelled_not_sent(stub_world: Any, smtp_server: SmtpServer) -> None:
    asked: list[str] = []

    def still_wanted(uow: Any, delivery: Any) -> bool:
        asked.append(delivery.subject)
        return delivery.subject != "occ:done"

    w: World = stub_world(still_wanted={Category.CARE_REMINDER: still_wanted})
    max_ = _user(w.db.uow_factory, "max@example.org")
    w.enqueue(None, _request(max_, "occ:done"), _request(max_, "occ:open"))
    w.relay()
    w.settle(lambda: w.delivery(max_, "occ:open").status is DeliveryStatus.SENT)
    w.settle(lambda: w.delivery(max_, "occ:done").status is DeliveryStatus.CANCELLED)
    assert sorted(asked) == ["occ:done", "occ:open"]
    assert len(smtp_server.messages) == 1


def test_a_delivery_in_flight_elsewhere_is_not_sent_twice(
    sqlite_db: Database, smtp_server: SmtpServer
) -> None:
    deliverer = Deliverer(
        sqlite_db.uow_factory,
        SystemClock(),
        Uuid7Generator(),
        SmtpEmailSender(smtp_server.host, smtp_server.port, SENDER),
    )
    kai = _user(sqlite_db.uow_factory, "kai@example.org")
    with sqlite_db.uow_factory(None) as uow:
        enqueue(uow, deliverer.ids, datetime.now(UTC), [_request(kai, "occ:7")])
        uow.commit()
    with sqlite_db.uow_factory(kai.id) as uow:
        d = uow.deliveries.get_by_key(delivery_key("occ:7", kai.id, Channel.EMAIL))
        assert d is not None
        d.start_attempt(datetime.now(UTC), timedelta(minutes=5))  # another worker holds it
        uow.deliveries.save(d)
        uow.commit()
    with pytest.raises(DeliveryInFlight):
        deliver(deliverer, d.id, kai.id)
    assert smtp_server.messages == []


def test_a_scheduled_delivery_waits_for_dispatch(sqlite_db: Database, smtp_server: SmtpServer) -> None:
    from tailtracker_core.usecases.notifications import dispatch_due

    deliverer = Deliverer(
        sqlite_db.uow_factory,
        SystemClock(),
        Uuid7Generator(),
        SmtpEmailSender(smtp_server.host, smtp_server.port, SENDER),
    )
    ida = _user(sqlite_db.uow_factory, "ida@example.org")
    later = datetime.now(UTC) + timedelta(hours=1)
    with sqlite_db.uow_factory(None) as uow:
        enqueue(uow, deliverer.ids, datetime.now(UTC), [_request(ida, "occ:8", at=later)])
        uow.commit()
    with sqlite_db.uow_factory(ida.id) as uow:
        d = uow.deliveries.get_by_key(delivery_key("occ:8", ida.id, Channel.EMAIL))
    assert d is not None
    assert deliver(deliverer, d.id, ida.id) is DeliveryOutcome.NOT_DUE
    with sqlite_db.uow_factory(None) as uow:
        assert dispatch_due(uow, later, 10) == 1
    assert deliver(deliverer, d.id, ida.id) is DeliveryOutcome.SENT
    assert deliver(deliverer, d.id, ida.id) is DeliveryOutcome.ALREADY_DONE
    assert len(smtp_server.messages) == 1


@pytest.mark.postgres
def test_two_workers_racing_for_one_delivery_send_one_email(
    postgres_database: PostgresDatabase, postgres_db: Database, smtp_server: SmtpServer
) -> None:
    postgres_database.truncate()
    deliverer = Deliverer(
        postgres_db.uow_factory,
        SystemClock(),
        Uuid7Generator(),
        SmtpEmailSender(smtp_server.host, smtp_server.port, SENDER),
    )
    ole = _user(postgres_db.uow_factory, "ole@example.org")
    with postgres_db.uow_factory(None) as uow:
        enqueue(uow, deliverer.ids, datetime.now(UTC), [_request(ole, "occ:race")])
        uow.commit()
    with postgres_db.uow_factory(ole.id) as uow:
        d = uow.deliveries.get_by_key(delivery_key("occ:race", ole.id, Channel.EMAIL))
    assert d is not None
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(deliver(deliverer, d.id, ole.id))
        except DeliveryInFlight as error:
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(smtp_server.messages) == 1
    assert outcomes.count(DeliveryOutcome.SENT) == 1
    assert all(
        o is DeliveryOutcome.SENT or isinstance(o, DeliveryInFlight) or o is DeliveryOutcome.ALREADY_DONE
        for o in outcomes
    )


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_through_rabbitmq_and_postgres_one_email_in_the_users_language(
    amqp_url: str,
    rabbitmq_queue: str,
    postgres_database: PostgresDatabase,
    postgres_db: Database,
    smtp_server: SmtpServer,
) -> None:
    postgres_database.truncate()
    broker = broker_from_url(amqp_url)
    w = World(postgres_db, broker, smtp_server, rabbitmq_queue)
    try:
        mia = _user(postgres_db.uow_factory, "mia@example.org", locale="de-DE")
        bob = _user(postgres_db.uow_factory, "bob@example.org", locale="en-GB")
        smtp_server.handler.defer_next["bob@example.org"] = 1
        # Enqueued by a third party (a fan-out acting for nobody), delivered acting as each user.
        assert w.enqueue(None, _request(mia, "occ:r1"), _request(bob, "occ:r1")) == [True, True]
        assert w.relay() == 2
        w.settle(lambda: w.delivery(mia, "occ:r1").status is DeliveryStatus.SENT)
        w.settle(lambda: w.delivery(bob, "occ:r1").status is DeliveryStatus.SENT)
        by_to = {m["To"]: m for m in smtp_server.messages}
        assert len(smtp_server.messages) == 2
        assert str(by_to["mia@example.org"]["Subject"]).startswith("Medikament für Biscuit")
        assert str(by_to["bob@example.org"]["Subject"]).startswith("Medication for Biscuit")
        assert w.delivery(bob, "occ:r1").attempts == 2
        # The broker hands the same delivery again: nothing more is sent.
        d = w.delivery(mia, "occ:r1")
        done = w.processed.done
        broker.get_actor("deliver_notification").send(str(d.id), str(mia.id))
        w.settle(lambda: w.processed.done > done)
        assert len(smtp_server.messages) == 2
    finally:
        w.stop()
        broker.close()
        delete_rabbitmq_queues(amqp_url, w.notification_queue)


def test_an_attempt_cut_short_is_repeated_once_its_lease_runs_out(
    sqlite_db: Database, smtp_server: SmtpServer
) -> None:
    """A worker killed after taking the lease: the broker redelivers; once the lease is over
    the next attempt sends (same key, so the same Message-ID)."""
    deliverer = Deliverer(
        sqlite_db.uow_factory,
        SystemClock(),
        Uuid7Generator(),
        SmtpEmailSender(smtp_server.host, smtp_server.port, SENDER),
    )
    eva = _user(sqlite_db.uow_factory, "eva@example.org")
    with sqlite_db.uow_factory(None) as uow:
        enqueue(uow, deliverer.ids, datetime.now(UTC), [_request(eva, "occ:killed")])
        uow.commit()
    with sqlite_db.uow_factory(eva.id) as uow:
        d = uow.deliveries.get_by_key(delivery_key("occ:killed", eva.id, Channel.EMAIL))
        assert d is not None
        d.start_attempt(datetime.now(UTC) - timedelta(minutes=10), timedelta(minutes=5))  # the dead worker's
        uow.deliveries.save(d)
        uow.commit()
    assert deliver(deliverer, d.id, eva.id) is DeliveryOutcome.SENT
    assert len(smtp_server.messages) == 1
    with sqlite_db.uow_factory(eva.id) as uow:
        done = uow.deliveries.get(d.id)
    assert done is not None
    assert (done.status, done.attempts, done.lease_until) == (DeliveryStatus.SENT, 2, None)


def test_when_dramatiq_gives_up_the_delivery_is_failed(stub_world: Any, smtp_server: SmtpServer) -> None:
    """Retries exhausted for a reason other than SMTP (here: a lease that never ends, as if
    another worker hung): `on_retry_exhausted` marks the delivery failed."""
    w: World = stub_world(max_retries=1)
    zoe = _user(w.db.uow_factory, "zoe@example.org")
    w.enqueue(None, _request(zoe, "occ:stuck", at=datetime.now(UTC) + timedelta(hours=1)))
    with w.db.uow_factory(zoe.id) as uow:
        d = uow.deliveries.get_by_key(delivery_key("occ:stuck", zoe.id, Channel.EMAIL))
        assert d is not None
        d.status = DeliveryStatus.QUEUED
        d.start_attempt(datetime.now(UTC), timedelta(days=1))
        uow.deliveries.save(d)
        uow.commit()
    w.broker.get_actor("deliver_notification").send(str(d.id), str(zoe.id))
    w.settle(lambda: w.delivery(zoe, "occ:stuck").status is DeliveryStatus.FAILED)
    assert "retries exhausted" in w.delivery(zoe, "occ:stuck").last_error
    assert smtp_server.messages == []


def test_a_deferred_delivery_goes_out_when_its_time_comes(stub_world: Any, smtp_server: SmtpServer) -> None:
    """Quiet hours or a future reminder: stored `scheduled`, queued by the dispatcher that runs
    beside the relay, then delivered."""
    from entrypoints.tasks import run_dispatcher, run_relay

    w: World = stub_world()
    nia = _user(w.db.uow_factory, "nia@example.org")
    w.enqueue(None, _request(nia, "occ:soon", at=datetime.now(UTC) + timedelta(milliseconds=600)))
    assert w.delivery(nia, "occ:soon").status is DeliveryStatus.SCHEDULED
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_dispatcher, args=(w.db.uow_factory, SystemClock(), stop, 0.05)),
        threading.Thread(target=run_relay, args=(w.db.outbox(), w.publisher, SystemClock(), stop, 0.05)),
    ]
    for t in threads:
        t.start()
    try:
        w.settle(lambda: w.delivery(nia, "occ:soon").status is DeliveryStatus.SENT)
    finally:
        stop.set()
        for t in threads:
            t.join()
    sent = w.delivery(nia, "occ:soon")
    assert sent.sent_at >= sent.deliver_at
    assert len(smtp_server.messages) == 1
