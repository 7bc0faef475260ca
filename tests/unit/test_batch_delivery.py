"""`deliver_batch` (a chunk of deliveries of many users in three steps) on the in-memory store:
every delivery ends as `deliver` would end it, once, and what the batch cannot finish is
handed back (a failing address to retry alone, a leased row to the single path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.memory.uow import MemoryStore
from adapters.messaging import FileEmailSender, PermanentEmailError, TransientEmailError
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.model.notifications import Delivery, DeliveryRequest, DeliveryStatus, delivery_key
from tailtracker_core.model.reminders import Category, Channel
from tailtracker_core.ports import EmailDeliveryError, EmailMessage, UnitOfWork
from tailtracker_core.usecases.notifications import (
    Deliverer,
    DeliveryOutcome,
    deliver,
    deliver_batch,
    enqueue,
    give_up_batch,
)

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
PARAMS = {"pet_name": "Rex", "seen_at": "14:05", "link": "https://x/1"}


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class RefusingSender:
    """The file sender, except for the addresses it is told to refuse (as an SMTP server
    would answer them: 550 for good, 451 for now)."""

    def __init__(self, directory: Path) -> None:
        self.files = FileEmailSender(directory)
        self.refuse: dict[str, EmailDeliveryError] = {}
        self.batches: list[list[str]] = []

    def send(self, message: EmailMessage) -> None:
        if message.to in self.refuse:
            raise self.refuse[message.to]
        self.files.send(message)

    def send_many(self, messages: Sequence[EmailMessage]) -> list[EmailDeliveryError | None]:
        self.batches.append([m.to for m in messages])
        out: list[EmailDeliveryError | None] = []
        for m in messages:
            try:
                self.send(m)
            except EmailDeliveryError as error:
                out.append(error)
            else:
                out.append(None)
        return out


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(Uuid7Generator(), clock)


@pytest.fixture
def sender(tmp_path: Path) -> RefusingSender:
    return RefusingSender(tmp_path / "outbox")


def _deliverer(store: MemoryStore, clock: Clock, sender: RefusingSender, **kw: object) -> Deliverer:
    return Deliverer(store.uow_factory, clock, Uuid7Generator(), sender, **kw)  # type: ignore[arg-type]


def _user(store: MemoryStore, email: str) -> User:
    user = User(uuid4(), email, "Alex", "hash", T0)
    with store.uow_factory(user.id) as uow:
        uow.users.add(user)
        uow.commit()
    return user


def _enqueue(
    store: MemoryStore,
    users: Sequence[User],
    subject: str = "sighting:1",
    category: Category = Category.SIGHTING,
) -> list[Delivery]:
    reqs = [
        DeliveryRequest(delivery_key(subject, u.id, ch), u.id, category, ch, "sighting", PARAMS, subject, T0)
        for u in users
        for ch in (Channel.IN_APP, Channel.EMAIL)
    ]
    with store.uow_factory(None) as uow:
        enqueue(uow, Uuid7Generator(), T0, reqs, in_batches=True)
        uow.commit()
    with store.uow_factory(None) as uow:
        return _all(uow, reqs)


def _all(uow: UnitOfWork, reqs: Sequence[DeliveryRequest]) -> list[Delivery]:
    found = [uow.deliveries.get_by_key(r.key) for r in reqs]
    assert all(d is not None for d in found)
    return [d for d in found if d is not None]


def _stored(store: MemoryStore, delivery: Delivery) -> Delivery:
    with store.uow_factory(delivery.user_id) as uow:
        got = uow.deliveries.get(delivery.id)
    assert got is not None
    return got


def _emails(sender: RefusingSender) -> list[str]:
    return sorted(p.read_text() for p in sender.files.directory.glob("*.eml"))


def test_a_chunk_is_delivered_once_and_a_replay_sends_nothing(
    store: MemoryStore, clock: Clock, sender: RefusingSender
) -> None:
    users = [_user(store, f"u{i}@example.org") for i in range(3)]
    chunk = _enqueue(store, users)
    deliverer = _deliverer(store, clock, sender)
    result = deliver_batch(deliverer, [d.id for d in chunk])
    assert result.outcomes == {d.id: DeliveryOutcome.SENT for d in chunk}
    assert (result.retry, result.single) == ((), ())
    assert sender.batches == [[u.email for u in users]]  # one send_many for the chunk's emails
    for d in chunk:
        stored = _stored(store, d)
        assert (stored.status, stored.attempts, stored.sent_at, stored.lease_until) == (
            DeliveryStatus.SENT,
            1,
            T0,
            None,
        )
    emails = _emails(sender)
    assert len(emails) == 3
    for u in users:
        with store.uow_factory(u.id) as uow:
            [note] = uow.notifications.list_for_user(u.id, False, None, 10)
        assert "Rex" in note.title
        assert note.data["subject"] == "sighting:1"
    # The same message again (a redelivery): nothing is sent or stored twice.
    again = deliver_batch(deliverer, [d.id for d in chunk])
    assert again.outcomes == {d.id: DeliveryOutcome.ALREADY_DONE for d in chunk}
    assert len(sender.batches) == 1
    assert _emails(sender) == emails


def test_one_failing_address_is_retried_alone_and_a_refused_one_is_disabled(
    store: MemoryStore, clock: Clock, sender: RefusingSender
) -> None:
    ok, busy, gone = (_user(store, f"{n}@example.org") for n in ("ok", "busy", "gone"))
    chunk = _enqueue(store, [ok, busy, gone])
    email = {d.user_id: d for d in chunk if d.channel is Channel.EMAIL}
    sender.refuse = {
        busy.email: TransientEmailError("451 mailbox busy", 451),
        gone.email: PermanentEmailError("550 user unknown", 550),
    }
    deliverer = _deliverer(store, clock, sender, max_attempts=3)
    result = deliver_batch(deliverer, [d.id for d in chunk])
    assert result.retry == ((email[busy.id].id, busy.id, 1),)
    assert result.outcomes[email[busy.id].id] is DeliveryOutcome.RETRYING
    assert result.outcomes[email[gone.id].id] is DeliveryOutcome.FAILED
    assert [o for i, o in result.outcomes.items() if i not in (email[busy.id].id, email[gone.id].id)] == [
        DeliveryOutcome.SENT
    ] * 4
    retrying = _stored(store, email[busy.id])
    assert (retrying.status, retrying.attempts, retrying.lease_until) == (DeliveryStatus.QUEUED, 1, None)
    assert "451" in (retrying.last_error or "")
    failed = _stored(store, email[gone.id])
    assert failed.status is DeliveryStatus.FAILED and "550" in (failed.last_error or "")
    with store.uow_factory(None) as uow:
        assert uow.email_suppressions.is_suppressed(gone.email)
    assert len(_emails(sender)) == 1  # only ok's
    # The retry goes through the single path, alone: the others are not sent again.
    del sender.refuse[busy.email]
    assert deliver(deliverer, email[busy.id].id, busy.id) is DeliveryOutcome.SENT
    assert len(_emails(sender)) == 2
    assert _stored(store, email[busy.id]).attempts == 2
    assert deliver_batch(deliverer, [d.id for d in chunk]).retry == ()
    assert len(_emails(sender)) == 2


def test_the_last_transient_failure_fails_the_delivery(
    store: MemoryStore, clock: Clock, sender: RefusingSender
) -> None:
    busy = _user(store, "busy@example.org")
    [_, email] = _enqueue(store, [busy])
    sender.refuse = {busy.email: TransientEmailError("451 mailbox busy", 451)}
    deliverer = _deliverer(store, clock, sender, max_attempts=1)
    result = deliver_batch(deliverer, [email.id])
    assert result.retry == ()
    assert result.outcomes[email.id] is DeliveryOutcome.FAILED
    assert (_stored(store, email).last_error or "").startswith("gave up after 1 attempts")


def test_leased_scheduled_unknown_and_unwanted_deliveries(
    store: MemoryStore, clock: Clock, sender: RefusingSender
) -> None:
    a, b, c = (_user(store, f"{n}@example.org") for n in "abc")
    chunk = _enqueue(store, [a, b, c])
    by = {(d.user_id, d.channel): d for d in chunk}
    leased = by[(a.id, Channel.EMAIL)]
    with store.uow_factory(a.id) as uow:  # another worker is sending it right now
        held = uow.deliveries.get(leased.id)
        assert held is not None
        held.start_attempt(T0, timedelta(minutes=5))
        uow.deliveries.save(held)
        uow.commit()
    later = DeliveryRequest(
        delivery_key("later", a.id, Channel.IN_APP), a.id, Category.SIGHTING, Channel.IN_APP, "sighting",
        PARAMS, "later", T0 + timedelta(hours=8),
    )  # fmt: skip
    with store.uow_factory(None) as uow:
        enqueue(uow, Uuid7Generator(), T0, [later])
        uow.commit()
        scheduled = uow.deliveries.get_by_key(later.key)
    assert scheduled is not None

    def wanted(uow: UnitOfWork, ds: Sequence[Delivery]) -> set[UUID]:
        return {d.id for d in ds if d.user_id != b.id}

    unknown = uuid4()
    deliverer = _deliverer(store, clock, sender, still_wanted_many={Category.SIGHTING: wanted})
    result = deliver_batch(deliverer, [*(d.id for d in chunk), scheduled.id, unknown])
    assert result.single == ((leased.id, a.id),)
    assert result.outcomes[leased.id] is DeliveryOutcome.SINGLE
    assert result.outcomes[scheduled.id] is DeliveryOutcome.NOT_DUE
    assert result.outcomes[unknown] is DeliveryOutcome.MISSING
    for ch in (Channel.IN_APP, Channel.EMAIL):
        assert result.outcomes[by[(b.id, ch)].id] is DeliveryOutcome.CANCELLED
        assert _stored(store, by[(b.id, ch)]).status is DeliveryStatus.CANCELLED
        assert result.outcomes[by[(c.id, ch)].id] is DeliveryOutcome.SENT
    assert _stored(store, leased).lease_until is not None
    assert _stored(store, scheduled).status is DeliveryStatus.SCHEDULED
    assert sender.batches == [[c.email]]
    # A category whose hook has no batch form goes to the single path (asked as the recipient).
    single_only = _deliverer(store, clock, sender, still_wanted={Category.SIGHTING: lambda uow, d: True})
    fresh = _enqueue(store, [c], subject="sighting:2")
    assert set(deliver_batch(single_only, [d.id for d in fresh]).single) == {(d.id, c.id) for d in fresh}


def test_give_up_batch_fails_what_is_still_open(
    store: MemoryStore, clock: Clock, sender: RefusingSender
) -> None:
    a = _user(store, "a@example.org")
    in_app, email = _enqueue(store, [a])
    deliverer = _deliverer(store, clock, sender)
    assert deliver(deliverer, in_app.id, a.id) is DeliveryOutcome.SENT
    assert give_up_batch(deliverer, [in_app.id, email.id], "retries exhausted") == 1
    assert _stored(store, in_app).status is DeliveryStatus.SENT
    assert _stored(store, email).status is DeliveryStatus.FAILED
