"""Notifications: the one entry point for everything that notifies people, the delivery of
each notification by the worker, and what a user reads and chooses over HTTP.

Callers (the care-reminder scheduler, lost-pet alerts, ...) decide WHAT to tell WHOM and call
`enqueue(uow, ids, now, requests)` inside their own unit of work; `requests_for(...)` and
`request_from_reminder(...)` in `model.notifications` build the requests with the user's
preferences and quiet hours applied. A scheduler loop calls `dispatch_due(uow, now, limit)`
for deliveries that waited (quiet hours, future reminders). The worker calls `deliver(...)`
for each `DeliveryDue` event. See docs/notifications.md.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from attrs import field, frozen

from tailtracker_core.errors import Conflict, NotFound, TierLimitExceeded
from tailtracker_core.events import DeliveriesDue, DeliveryDue
from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import Purpose, current_consents
from tailtracker_core.model.notification_templates import Rendered, TemplateError, render
from tailtracker_core.model.notifications import (
    DELIVERABLE_CHANNELS,
    Delivery,
    DeliveryRequest,
    DeliveryStatus,
    Notification,
)
from tailtracker_core.model.reminders import Category, Channel, NotificationPreferences, Recipient
from tailtracker_core.ports import (
    Clock,
    EmailDeliveryError,
    EmailMessage,
    EmailSender,
    IdGenerator,
    PermanentEmailError,
    TransientEmailError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from tailtracker_core.usecases.deps import Deps, tier_of_users

__all__ = [
    "DELIVERY_CHUNK",
    "BatchDelivery",
    "DeliveryInFlight",
    "DeliveryOutcome",
    "Deliverer",
    "StillWanted",
    "StillWantedMany",
    "deliver",
    "deliver_batch",
    "dispatch_due",
    "enqueue",
    "get_preferences",
    "give_up",
    "give_up_batch",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "put_preferences",
    "recipients",
]

_log = logging.getLogger("tailtracker.notifications")


# --- the entry point for callers ---------------------------------------------------------


DELIVERY_CHUNK = 250
"""Deliveries per `DeliveriesDue` event (one worker message, one `deliver_batch`)."""


def enqueue(
    uow: UnitOfWork,
    ids: IdGenerator,
    now: datetime,
    requests: Iterable[DeliveryRequest],
    *,
    in_batches: bool = False,
) -> list[bool]:
    """Store one delivery per request in the caller's unit of work (commit is the caller's).

    A request whose key was ever enqueued before changes nothing (False at its position).
    A new delivery due by `now` is `queued` and a `DeliveryDue` event goes to the outbox with
    the caller's commit; a later one is `scheduled` until `dispatch_due` picks it up. With
    `in_batches` (bulk callers: the alert fan-out) the queued ones get one `DeliveriesDue`
    event per `DELIVERY_CHUNK` instead, which the worker delivers with `deliver_batch`.
    """
    batch = [Delivery.from_request(ids.new_id(), request, now) for request in requests]
    added = uow.deliveries.add_many(batch) if batch else set()
    due = [d for d in batch if d.id in added and d.status is DeliveryStatus.QUEUED]
    if in_batches:
        for start in range(0, len(due), DELIVERY_CHUNK):
            uow.record(DeliveriesDue(tuple(d.id for d in due[start : start + DELIVERY_CHUNK])))
    else:
        for delivery in due:
            uow.record(DeliveryDue(delivery.id, delivery.user_id))
    return [d.id in added for d in batch]


def dispatch_due(uow: UnitOfWork, now: datetime, limit: int = 500) -> int:
    """Queue up to `limit` scheduled deliveries whose time has come (every user's) and record
    their events; commits. Two schedulers running side by side take disjoint batches. Returns
    how many were queued: call again at once while it returns `limit`."""
    due = uow.deliveries.queue_due(now, limit)
    for d in due:
        uow.record(DeliveryDue(d.id, d.user_id))
    uow.commit()
    return len(due)


def recipients(
    uow: UnitOfWork, user_ids: Sequence[UUID], *, known: Mapping[UUID, User] | None = None
) -> list[Recipient]:
    """The users as `Recipient`s for planning: their timezone, stored preferences and the
    channels they can be reached on (email unless their address was disabled after a bounce).
    `known`: users the caller has already loaded (not read again)."""
    if known is not None and all(u in known for u in user_ids):
        users = [known[u] for u in dict.fromkeys(user_ids)]
    else:
        users = uow.users.get_many(user_ids)
    prefs = uow.notification_preferences.get_many([u.id for u in users])
    suppressed = uow.email_suppressions.suppressed_among([u.email for u in users])
    out = []
    for u in users:
        reachable = {Channel.IN_APP}
        if u.email.strip().lower() not in suppressed:
            reachable.add(Channel.EMAIL)
        out.append(
            Recipient(u.id, u.timezone, prefs.get(u.id, NotificationPreferences()), frozenset(reachable))
        )
    return out


# --- delivery (the worker) -----------------------------------------------------------------

StillWanted = Callable[[UnitOfWork, Delivery], bool]
"""Asked right before a delivery goes out, in a unit of work acting as its recipient: False
cancels it (e.g. the care occurrence in `delivery.subject` was completed meanwhile)."""


StillWantedMany = Callable[[UnitOfWork, Sequence[Delivery]], set[UUID]]
"""The batch form of `StillWanted`, asked by `deliver_batch` in a unit of work acting for
nobody (cross-user reads, as few as possible for the whole chunk): the ids still wanted."""


class DeliveryInFlight(Exception):
    """Another worker is attempting this delivery right now: try again later."""


class DeliveryOutcome(enum.StrEnum):
    SENT = "sent"
    ALREADY_DONE = "already_done"  # a duplicate message: sent, failed or cancelled before
    CANCELLED = "cancelled"
    FAILED = "failed"
    NOT_DUE = "not_due"  # still scheduled (a stray message): dispatch_due will queue it
    RETRYING = "retrying"  # a transient email failure was recorded: deliver it again later
    SINGLE = "single"  # handed back by deliver_batch: in flight elsewhere, or needs its own hook
    MISSING = "missing"  # no such delivery (or not the recipient's)


@frozen
class Deliverer:
    """What `deliver` needs; built once by the composition root."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    email: EmailSender
    max_attempts: int = 21  # the first try and 20 retries (Dramatiq's max_retries + 1)
    lease: timedelta = timedelta(minutes=5)  # an email attempt longer than this may be repeated
    still_wanted: Mapping[Category, StillWanted] = field(factory=dict)
    # Batch forms for deliver_batch; a category with a single hook and no batch hook is handed
    # back to the single path (BatchDelivery.single), where the hook runs as the recipient.
    still_wanted_many: Mapping[Category, StillWantedMany] = field(factory=dict)


def _wanted(deliverer: Deliverer, uow: UnitOfWork, delivery: Delivery) -> str | None:
    """None when the delivery should go out, else why not."""
    check = deliverer.still_wanted.get(delivery.category)
    if check is not None and not check(uow, delivery):
        return "no longer wanted (the subject was settled before delivery)"
    if delivery.category is Category.MARKETING:
        current = current_consents(uow.consents.history(delivery.user_id)).get(Purpose.MARKETING)
        if current is None or not current.granted:
            return "no marketing consent at send time"
    return None


def _settle(
    delivery: Delivery, user: User | None, unwanted: str | None
) -> tuple[DeliveryOutcome | None, Rendered | None]:
    """The checks every delivery passes before it goes out, for `deliver` and `deliver_batch`:
    (the outcome it ends with now, cancelled or failed, None) or (None, its rendered text)."""
    if unwanted is not None:
        delivery.cancel(unwanted)
        return DeliveryOutcome.CANCELLED, None
    if delivery.channel not in DELIVERABLE_CHANNELS:
        delivery.mark_failed(f"channel {delivery.channel} is not available")
        return DeliveryOutcome.FAILED, None
    if user is None:
        delivery.mark_failed("the recipient's account no longer exists")
        return DeliveryOutcome.FAILED, None
    try:
        text = render(
            delivery.template, user.locale, delivery.params, footer=delivery.channel is Channel.EMAIL
        )
    except TemplateError as error:
        delivery.mark_failed(str(error))
        return DeliveryOutcome.FAILED, None
    return None, text


def deliver(deliverer: Deliverer, delivery_id: UUID, user_id: UUID) -> DeliveryOutcome:
    """Deliver one notification, at most once per key, acting as its recipient.

    Raises TransientEmailError after recording the attempt when the email should be retried
    (the broker retries with backoff), and DeliveryInFlight while another worker holds it.
    Permanent failures, and the last transient one, end `failed` and return normally.
    """
    now = deliverer.clock.now()
    with deliverer.uow(user_id) as uow:
        delivery = uow.deliveries.get(delivery_id)
        if delivery is None:
            return DeliveryOutcome.MISSING
        if delivery.status.final:
            return DeliveryOutcome.ALREADY_DONE
        if delivery.status is DeliveryStatus.SCHEDULED:
            return DeliveryOutcome.NOT_DUE
        if delivery.busy(now):
            raise DeliveryInFlight(f"delivery {delivery_id} is being attempted until {delivery.lease_until}")
        reason = _wanted(deliverer, uow, delivery)
        user = uow.users.get(user_id) if reason is None else None
        settled, text = _settle(delivery, user, reason)
        if settled is not None:
            return _finish(uow, delivery, settled)
        assert user is not None
        assert text is not None
        if delivery.channel is Channel.IN_APP:
            # unique per delivery: a replay adds nothing
            uow.notifications.add(_notification(deliverer, delivery, text.title, text.body, now))
            delivery.attempts += 1
            delivery.mark_sent(now)
            return _finish(uow, delivery, DeliveryOutcome.SENT)
        if uow.email_suppressions.is_suppressed(user.email):
            delivery.mark_failed("the address is disabled after a permanent failure (bounce)")
            return _finish(uow, delivery, DeliveryOutcome.FAILED)
        delivery.start_attempt(now, deliverer.lease)
        try:
            uow.deliveries.save(delivery)
            uow.commit()
        except Conflict:
            raise DeliveryInFlight(f"delivery {delivery_id} was taken by another worker") from None
        message = EmailMessage(
            to=user.email, subject=text.title, text=text.body, idempotency_key=delivery.key
        )
    try:
        deliverer.email.send(message)
    except PermanentEmailError as error:
        return _after_email(deliverer, delivery_id, user_id, error) or DeliveryOutcome.FAILED
    except TransientEmailError as error:
        outcome = _after_email(deliverer, delivery_id, user_id, error)
        if outcome is not None:
            return outcome
        raise
    outcome = _after_email(deliverer, delivery_id, user_id, None)
    assert outcome is not None
    return outcome


@frozen
class BatchDelivery:
    """What `deliver_batch` did with a chunk, and what it hands back to the caller."""

    outcomes: Mapping[UUID, DeliveryOutcome]
    # (delivery, recipient, attempts so far): a transient email failure was recorded; deliver it
    # again after a backoff through `deliver` (which gives up at `max_attempts`).
    retry: tuple[tuple[UUID, UUID, int], ...] = ()
    # (delivery, recipient): for `deliver`, one by one: held by another worker's lease (it
    # raises DeliveryInFlight until that attempt is over), or its category has a still-wanted
    # hook with no batch form (asked as the recipient).
    single: tuple[tuple[UUID, UUID], ...] = ()


def deliver_batch(deliverer: Deliverer, delivery_ids: Sequence[UUID]) -> BatchDelivery:
    """Deliver a chunk of deliveries of any users with, per delivery, the guarantees of
    `deliver`, in three steps instead of a message and transactions per delivery:

    1. one transaction (acting for nobody) locks the chunk's rows, skips the finished and the
       scheduled ones, asks the still-wanted hooks for the whole chunk, stores every in-app
       notification and marks it sent, settles what is cancelled or failed, and takes the
       lease of every email (attempts + 1), then commits;
    2. the emails go out through `EmailSender.send_many` (one SMTP connection);
    3. one transaction records their outcomes: sent; permanent failure → failed and the
       address disabled; transient → recorded and returned in `retry` (or failed once
       `max_attempts` is reached).

    Replaying a chunk (a redelivered message) skips what is finished; rows whose lease is
    still running (a worker killed while sending) go back to `deliver` through `single`, so
    they follow the single path's rule. Raises only when the store does (retry the chunk)."""
    now = deliverer.clock.now()
    outcomes: dict[UUID, DeliveryOutcome] = {}
    single: list[tuple[UUID, UUID]] = []
    emails: list[tuple[Delivery, EmailMessage]] = []
    with deliverer.uow(None) as uow:
        rows = uow.deliveries.lock_many(list(dict.fromkeys(delivery_ids)))
        found = {d.id for d in rows}
        outcomes.update((i, DeliveryOutcome.MISSING) for i in delivery_ids if i not in found)
        todo: list[Delivery] = []
        for d in rows:
            if d.status.final:
                outcomes[d.id] = DeliveryOutcome.ALREADY_DONE
            elif d.status is DeliveryStatus.SCHEDULED:
                outcomes[d.id] = DeliveryOutcome.NOT_DUE
            elif d.busy(now) or (
                d.category in deliverer.still_wanted and d.category not in deliverer.still_wanted_many
            ):
                outcomes[d.id] = DeliveryOutcome.SINGLE
                single.append((d.id, d.user_id))
            else:
                todo.append(d)
        reasons = _unwanted_many(deliverer, uow, todo)
        users = {u.id: u for u in uow.users.get_many(list(dict.fromkeys(d.user_id for d in todo)))}
        suppressed = uow.email_suppressions.suppressed_among(
            [users[d.user_id].email for d in todo if d.channel is Channel.EMAIL and d.user_id in users]
        )
        changed: list[Delivery] = []
        notes: list[Notification] = []
        for d in todo:
            changed.append(d)
            user = users.get(d.user_id)
            settled, text = _settle(d, user, reasons.get(d.id))
            if settled is not None:
                outcomes[d.id] = settled
                continue
            assert user is not None
            assert text is not None
            if d.channel is Channel.IN_APP:
                notes.append(_notification(deliverer, d, text.title, text.body, now))
                d.attempts += 1
                d.mark_sent(now)
                outcomes[d.id] = DeliveryOutcome.SENT
            elif user.email.strip().lower() in suppressed:
                d.mark_failed("the address is disabled after a permanent failure (bounce)")
                outcomes[d.id] = DeliveryOutcome.FAILED
            else:
                d.start_attempt(now, deliverer.lease)
                emails.append((d, EmailMessage(user.email, text.title, text.body, d.key)))
        stored = uow.deliveries.save_many(changed) if changed else set()
        for d in changed:
            if d.id not in stored:  # changed by another worker meanwhile: its outcome stands
                outcomes[d.id] = DeliveryOutcome.ALREADY_DONE
        notes = [n for n in notes if n.delivery_id in stored]
        if notes:
            uow.notifications.add_many(notes)  # unique per delivery: a replay adds nothing
        emails = [(d, m) for d, m in emails if d.id in stored]
        uow.commit()
    retry: list[tuple[UUID, UUID, int]] = []
    if emails:
        results = deliverer.email.send_many([m for _, m in emails])
        retry = _after_emails(deliverer, emails, results, outcomes)
    _log.info(
        "delivery batch of %d: %s",
        len(delivery_ids),
        ", ".join(f"{o} {n}" for o, n in sorted(_counts(outcomes.values()).items())),
    )
    return BatchDelivery(outcomes, tuple(retry), tuple(single))


def give_up_batch(deliverer: Deliverer, delivery_ids: Sequence[UUID], reason: str) -> int:
    """The broker stopped retrying a chunk: every delivery of it not finished by then (and
    not held by a lease) is failed. Returns how many."""
    now = deliverer.clock.now()
    with deliverer.uow(None) as uow:
        open_ = [
            d
            for d in uow.deliveries.lock_many(list(dict.fromkeys(delivery_ids)))
            if d.status is DeliveryStatus.QUEUED and not d.busy(now)
        ]
        for d in open_:
            d.mark_failed(f"{reason}; last: {d.last_error}" if d.last_error else reason)
        failed = len(uow.deliveries.save_many(open_)) if open_ else 0
        uow.commit()
    return failed


def _counts(outcomes: Iterable[DeliveryOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.value] = counts.get(o.value, 0) + 1
    return counts


def _notification(deliverer: Deliverer, d: Delivery, title: str, body: str, now: datetime) -> Notification:
    data = {k: v for k, v in d.params.items() if k in ("pet_id", "link", "report_id")}
    data["subject"] = d.subject
    return Notification(deliverer.ids.new_id(), d.user_id, d.id, d.category, title, body, data, now)


def _unwanted_many(deliverer: Deliverer, uow: UnitOfWork, todo: Sequence[Delivery]) -> dict[UUID, str]:
    """`_wanted` for a chunk: a query per category hook and one for marketing consents."""
    reasons: dict[UUID, str] = {}
    by_category: dict[Category, list[Delivery]] = {}
    for d in todo:
        by_category.setdefault(d.category, []).append(d)
    for category, group in by_category.items():
        check = deliverer.still_wanted_many.get(category)
        if check is not None:
            wanted = check(uow, group)
            for d in group:
                if d.id not in wanted:
                    reasons[d.id] = "no longer wanted (the subject was settled before delivery)"
    marketing = [d for d in by_category.get(Category.MARKETING, []) if d.id not in reasons]
    if marketing:
        histories = uow.consents.histories(list(dict.fromkeys(d.user_id for d in marketing)))
        for d in marketing:
            current = current_consents(histories.get(d.user_id, [])).get(Purpose.MARKETING)
            if current is None or not current.granted:
                reasons[d.id] = "no marketing consent at send time"
    return reasons


def _after_emails(
    deliverer: Deliverer,
    emails: Sequence[tuple[Delivery, EmailMessage]],
    results: Sequence[EmailDeliveryError | None],
    outcomes: dict[UUID, DeliveryOutcome],
) -> list[tuple[UUID, UUID, int]]:
    """Step 3 of `deliver_batch`: record every attempt's outcome in one transaction."""
    now = deliverer.clock.now()
    retry: list[tuple[UUID, UUID, int]] = []
    with deliverer.uow(None) as uow:
        for (d, message), error in zip(emails, results, strict=True):
            if error is None:
                d.mark_sent(now)
                outcomes[d.id] = DeliveryOutcome.SENT
                continue
            detail = f"{type(error).__name__}: {error}"
            if isinstance(error, PermanentEmailError):
                uow.email_suppressions.add(message.to, detail, now)
                d.mark_failed(detail)
                outcomes[d.id] = DeliveryOutcome.FAILED
            elif d.attempts >= deliverer.max_attempts:
                d.mark_failed(f"gave up after {d.attempts} attempts; last: {detail}")
                outcomes[d.id] = DeliveryOutcome.FAILED
            else:
                d.mark_retrying(detail)
                outcomes[d.id] = DeliveryOutcome.RETRYING
                retry.append((d.id, d.user_id, d.attempts))
                _log.info("delivery %s: attempt %d failed, will retry: %s", d.id, d.attempts, detail)
        stored = uow.deliveries.save_many([d for d, _ in emails])
        uow.commit()
    for d, _ in emails:
        if d.id not in stored:
            outcomes[d.id] = DeliveryOutcome.ALREADY_DONE
    return [r for r in retry if r[0] in stored]


def give_up(deliverer: Deliverer, delivery_id: UUID, user_id: UUID, reason: str) -> DeliveryOutcome:
    """The broker stopped retrying: a delivery not finished by then is failed."""
    with deliverer.uow(user_id) as uow:
        delivery = uow.deliveries.get(delivery_id)
        if delivery is None:
            return DeliveryOutcome.MISSING
        if delivery.status.final:
            return DeliveryOutcome.ALREADY_DONE
        detail = f"{reason}; last: {delivery.last_error}" if delivery.last_error else reason
        delivery.mark_failed(detail)
        return _finish(uow, delivery, DeliveryOutcome.FAILED)


def _finish(uow: UnitOfWork, delivery: Delivery, outcome: DeliveryOutcome) -> DeliveryOutcome:
    try:
        uow.deliveries.save(delivery)
        uow.commit()
    except Conflict:
        # Another worker handled this delivery meanwhile; its outcome stands.
        return DeliveryOutcome.ALREADY_DONE
    _log.info("delivery %s (%s, %s): %s", delivery.id, delivery.category, delivery.channel, outcome)
    return outcome


def _after_email(
    deliverer: Deliverer, delivery_id: UUID, user_id: UUID, error: Exception | None
) -> DeliveryOutcome | None:
    """Record how the attempt went, in a transaction of its own; None: retry it."""
    now = deliverer.clock.now()
    with deliverer.uow(user_id) as uow:
        delivery = uow.deliveries.get(delivery_id)
        if delivery is None:
            return DeliveryOutcome.MISSING
        if error is None:
            delivery.mark_sent(now)
            return _finish(uow, delivery, DeliveryOutcome.SENT)
        detail = f"{type(error).__name__}: {error}"
        if isinstance(error, PermanentEmailError):
            user = uow.users.get(user_id)
            if user is not None:
                uow.email_suppressions.add(user.email, detail, now)
            delivery.mark_failed(detail)
            return _finish(uow, delivery, DeliveryOutcome.FAILED)
        if delivery.attempts >= deliverer.max_attempts:
            delivery.mark_failed(f"gave up after {delivery.attempts} attempts; last: {detail}")
            return _finish(uow, delivery, DeliveryOutcome.FAILED)
        delivery.mark_retrying(detail)
        uow.deliveries.save(delivery)
        uow.commit()
        _log.info("delivery %s: attempt %d failed, will retry: %s", delivery_id, delivery.attempts, detail)
        return None


# --- what a user reads and chooses ------------------------------------------------------------


def list_notifications(
    deps: Deps, actor: UUID, unread_only: bool, before: UUID | None, limit: int
) -> list[Notification]:
    with deps.uow(actor) as uow:
        return uow.notifications.list_for_user(actor, unread_only, before, limit)


def mark_read(deps: Deps, actor: UUID, notification_id: UUID) -> Notification:
    """Idempotent: reading a read notification keeps its first read time."""
    with deps.uow(actor) as uow:
        notification = uow.notifications.get(notification_id)
        if notification is None or notification.user_id != actor:
            raise NotFound("no such notification")
        if notification.read_at is None:
            notification = notification.read(deps.clock.now())
            uow.notifications.save(notification)
            uow.commit()
        return notification


def mark_all_read(deps: Deps, actor: UUID) -> int:
    with deps.uow(actor) as uow:
        changed = uow.notifications.mark_all_read(actor, deps.clock.now())
        uow.commit()
        return changed


def get_preferences(deps: Deps, actor: UUID) -> NotificationPreferences:
    with deps.uow(actor) as uow:
        return uow.notification_preferences.get(actor) or NotificationPreferences()


def put_preferences(deps: Deps, actor: UUID, preferences: NotificationPreferences) -> NotificationPreferences:
    """Replace the user's choices. Turning SMS on needs a tier with SMS (403
    `tier_limit_exceeded`); choices kept from before a downgrade stay stored."""
    with deps.uow(actor) as uow:
        wants_sms = any(on and ch is Channel.SMS for (_, ch), on in preferences.choices.items())
        if wants_sms:
            tier = tier_of_users(uow, deps, [actor])
            if not deps.config.tiers[tier].sms:
                raise TierLimitExceeded("SMS notification channels", 0, tier.value)
        uow.notification_preferences.put(actor, preferences, deps.clock.now())
        uow.commit()
        return preferences
