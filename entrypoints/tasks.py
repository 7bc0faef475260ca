"""Background tasks: the event handler actor and the outbox relay loop.

Shared by the worker process and the API's embedded mode; it imports neither of them (nor
the CLI). Nothing here runs at import: callers pass the broker and the dependencies in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import dramatiq
from attrs import define

from adapters.messaging import PermanentEmailError
from tailtracker_core.events import (
    DeliveriesDue,
    DeliveryDue,
    InvitationCreated,
    LostReportOpened,
    LostReportResolved,
    event_from_json,
)
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import (
    Cache,
    Clock,
    EmailSender,
    EventPublisher,
    FileStore,
    GeoIndex,
    IndexedReport,
    OutboxStore,
    UnitOfWorkFactory,
)
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.emails import send_invitation_email
from tailtracker_core.usecases.files import delete_blobs_for
from tailtracker_core.usecases.lost_alerts import alert_batch
from tailtracker_core.usecases.notifications import (
    Deliverer,
    deliver,
    deliver_batch,
    dispatch_due,
    give_up,
    give_up_batch,
)
from tailtracker_core.usecases.outbox import relay_once

__all__ = [
    "ACTOR_NAME",
    "DELIVER_ACTOR_NAME",
    "DELIVER_BATCH_ACTOR_NAME",
    "NOTIFICATION_QUEUE_NAME",
    "QUEUE_NAME",
    "FAN_OUT_ACTOR_NAME",
    "EventHandlers",
    "register_actors",
    "run_dispatcher",
    "run_relay",
    "start_embedded_worker",
]

ACTOR_NAME = "handle_event"
QUEUE_NAME = "events"
DELIVER_ACTOR_NAME = "deliver_notification"
EXHAUSTED_ACTOR_NAME = "delivery_retries_exhausted"
DELIVER_BATCH_ACTOR_NAME = "deliver_notifications"
BATCH_EXHAUSTED_ACTOR_NAME = "delivery_batch_retries_exhausted"
DEFAULT_MIN_BACKOFF_MS = 15_000  # the broker's Retries defaults (broker_from_url)
DEFAULT_MAX_BACKOFF_MS = 3_600_000
NOTIFICATION_QUEUE_NAME = "notifications"
FAN_OUT_ACTOR_NAME = "fan_out_lost_alerts"

_log = logging.getLogger("tailtracker.worker")
_relay_log = logging.getLogger("tailtracker.relay")


@define
class EventHandlers:
    """What each topic does once its message reaches a worker. Every handler is idempotent:
    the broker delivers at least once."""

    email: EmailSender
    sent_marks: Cache
    accept_url_base: str
    # Notifications (docs/notifications.md): the deliverer, and the Dramatiq backoff of the
    # delivery actor (its max_retries is deliverer.max_attempts - 1).
    deliverer: Deliverer | None = None
    notification_min_backoff_ms: int | None = None
    notification_max_backoff_ms: int | None = None
    # Set by register_actors: hands a due delivery to the delivery actor.
    on_delivery_due: Callable[[DeliveryDue], None] | None = None
    # Set by register_actors: hands a chunk of due deliveries to the batch delivery actor.
    on_deliveries_due: Callable[[DeliveriesDue], None] | None = None
    blobs: FileStore | None = None  # deletes the blobs of deleted files, pets and families
    # The geo index to keep in step (a cache adapter acts on put/remove; database ones ignore them).
    geo_index: GeoIndex | None = None
    # Lost-pet alerts (docs/lost-and-found.md, "Alerts"): the use cases' deps, users per batch
    # message, and an optional pause before each next batch is queued (spreads a big fan-out).
    deps: Deps | None = None
    alert_batch_size: int = 500
    alert_batch_pause_ms: int = 0
    # Set by register_actors: starts the alert fan-out of a newly opened report.
    on_lost_report_opened: Callable[[LostReportOpened], None] | None = None

    def handle(self, topic: str, payload: str) -> None:
        try:
            event = event_from_json(topic, payload)
        except Exception:
            # Unknown topic or a payload that does not decode: retrying cannot fix it, so
            # log it and let the message be acknowledged instead of retrying for days.
            _log.exception("dropping undecodable event on topic %r", topic)
            return
        if isinstance(event, InvitationCreated):
            sent = send_invitation_email(event, self.email, self.sent_marks, self.accept_url_base)
            _log.info("invitation %s: %s", event.invitation_id, "email sent" if sent else "already sent")
        elif isinstance(event, DeliveryDue) and self.on_delivery_due is not None:
            self.on_delivery_due(event)
        elif isinstance(event, DeliveriesDue) and self.on_deliveries_due is not None:
            self.on_deliveries_due(event)
        elif self.blobs is not None and (deleted := delete_blobs_for(event, self.blobs)) is not None:
            _log.info("%s: %d stored blobs deleted", topic, deleted)
        elif isinstance(event, LostReportOpened | LostReportResolved):
            self._keep_geo_index_in_step(event)
            if isinstance(event, LostReportOpened) and self.on_lost_report_opened is not None:
                self.on_lost_report_opened(event)
        else:
            _log.debug("no handler for topic %r; acknowledged", topic)

    def _keep_geo_index_in_step(self, event: LostReportOpened | LostReportResolved) -> None:
        """Idempotent both ways (GEOADD/ZREM), so a redelivered event is harmless. A late or
        out-of-order event cannot show a resolved report: the cache's read path re-checks the
        database (docs/lost-and-found.md)."""
        if self.geo_index is None:
            return
        if isinstance(event, LostReportOpened):
            where = GeoPoint(event.lat, event.lon)
            self.geo_index.put(IndexedReport(event.report_id, where, Species(event.species)))
        else:
            self.geo_index.remove(event.report_id)


def register_actors(
    broker: dramatiq.Broker,
    handlers: EventHandlers,
    *,
    queue_name: str = QUEUE_NAME,
    max_retries: int | None = None,
    min_backoff_ms: int | None = None,
    max_backoff_ms: int | None = None,
    notification_queue_name: str = NOTIFICATION_QUEUE_NAME,
) -> None:
    """Declare `handle_event(message_id, topic, payload)` on this broker (not the global one),
    and, when `handlers.deliverer` is set, `deliver_notification(delivery_id, user_id)` on the
    notification queue. Retry settings left as None come from the broker's Retries
    middleware. Registering again replaces the earlier registration (bootstrap registers;
    the worker may register again)."""
    if handlers.deliverer is not None:
        _register_delivery(broker, handlers, handlers.deliverer, notification_queue_name)
    if handlers.deps is not None:
        _register_alert_fan_out(broker, handlers, handlers.deps, notification_queue_name)

    def handle_event(message_id: str, topic: str, payload: str) -> None:
        _log.debug("handling %s (%s)", message_id, topic)
        handlers.handle(topic, payload)

    retry_options: dict[str, Any] = {
        name: value
        for name, value in (
            ("max_retries", max_retries),
            ("min_backoff", min_backoff_ms),
            ("max_backoff", max_backoff_ms),
        )
        if value is not None
    }
    # Dramatiq refuses a second actor of one name; the newest registration wins instead.
    broker.actors.pop(ACTOR_NAME, None)
    dramatiq.actor(
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=queue_name,
        # A refused recipient stays refused: fail the message (dead letter) without retrying.
        throws=(PermanentEmailError,),
        **retry_options,
    )(handle_event)


def _register_delivery(
    broker: dramatiq.Broker, handlers: EventHandlers, deliverer: Deliverer, queue_name: str
) -> None:
    """The delivery actor: idempotent, retried with exponential backoff on transient
    failures; when Dramatiq gives up on a message, the exhausted-retries actor marks the
    delivery failed."""

    def deliver_notification(delivery_id: str, user_id: str) -> None:
        outcome = deliver(deliverer, UUID(delivery_id), UUID(user_id))
        _log.debug("delivery %s: %s", delivery_id, outcome)

    def delivery_retries_exhausted(message: dict[str, Any], info: dict[str, Any]) -> None:
        delivery_id, user_id = message["args"][:2]
        give_up(deliverer, UUID(delivery_id), UUID(user_id), f"retries exhausted after {info.get('retries')}")

    backoff: dict[str, Any] = {
        name: value
        for name, value in (
            ("min_backoff", handlers.notification_min_backoff_ms),
            ("max_backoff", handlers.notification_max_backoff_ms),
        )
        if value is not None
    }
    for name in (DELIVER_ACTOR_NAME, EXHAUSTED_ACTOR_NAME):
        broker.actors.pop(name, None)
    dramatiq.actor(broker=broker, actor_name=EXHAUSTED_ACTOR_NAME, queue_name=queue_name, max_retries=3)(
        delivery_retries_exhausted
    )
    actor = dramatiq.actor(
        broker=broker,
        actor_name=DELIVER_ACTOR_NAME,
        queue_name=queue_name,
        max_retries=max(deliverer.max_attempts - 1, 0),
        on_retry_exhausted=EXHAUSTED_ACTOR_NAME,
        **backoff,
    )(deliver_notification)
    handlers.on_delivery_due = lambda event: actor.send(str(event.delivery_id), str(event.user_id))
    _register_batch_delivery(broker, handlers, deliverer, queue_name, actor)


def _register_batch_delivery(
    broker: dramatiq.Broker,
    handlers: EventHandlers,
    deliverer: Deliverer,
    queue_name: str,
    single: dramatiq.Actor[Any, Any],
) -> None:
    """`deliver_notifications(delivery_ids)`: one message per chunk of deliveries
    (`DeliveriesDue`, the alert fan-out), delivered by `deliver_batch`. What the batch hands
    back goes to the single delivery actor, which then owns it: a transient email failure
    after the backoff of its attempt count (and from there the actor's own retries), a
    delivery in flight elsewhere at once (it raises DeliveryInFlight and is retried until the
    other attempt's lease is over). The chunk's message is acknowledged only after those
    messages are on the broker: a worker killed before that gets the chunk redelivered, which
    skips what is finished. The chunk itself is retried only when the store fails."""
    min_ms = handlers.notification_min_backoff_ms or DEFAULT_MIN_BACKOFF_MS
    max_ms = handlers.notification_max_backoff_ms or DEFAULT_MAX_BACKOFF_MS

    def deliver_notifications(delivery_ids: list[str]) -> None:
        result = deliver_batch(deliverer, [UUID(i) for i in delivery_ids])
        for delivery_id, user_id, attempts in result.retry:
            delay = min(min_ms * 2 ** max(attempts - 1, 0), max_ms)
            single.send_with_options(args=(str(delivery_id), str(user_id)), delay=delay)
        for delivery_id, user_id in result.single:
            single.send(str(delivery_id), str(user_id))

    def delivery_batch_retries_exhausted(message: dict[str, Any], info: dict[str, Any]) -> None:
        ids = [UUID(i) for i in message["args"][0]]
        give_up_batch(deliverer, ids, f"retries exhausted after {info.get('retries')}")

    for name in (DELIVER_BATCH_ACTOR_NAME, BATCH_EXHAUSTED_ACTOR_NAME):
        broker.actors.pop(name, None)
    dramatiq.actor(
        broker=broker, actor_name=BATCH_EXHAUSTED_ACTOR_NAME, queue_name=queue_name, max_retries=3
    )(delivery_batch_retries_exhausted)
    backoff: dict[str, Any] = {"min_backoff": min_ms, "max_backoff": max_ms}
    batch = dramatiq.actor(
        broker=broker,
        actor_name=DELIVER_BATCH_ACTOR_NAME,
        queue_name=queue_name,
        max_retries=max(deliverer.max_attempts - 1, 0),
        on_retry_exhausted=BATCH_EXHAUSTED_ACTOR_NAME,
        **backoff,
    )(deliver_notifications)
    handlers.on_deliveries_due = lambda event: batch.send([str(i) for i in event.delivery_ids])


def _register_alert_fan_out(
    broker: dramatiq.Broker, handlers: EventHandlers, deps: Deps, queue_name: str
) -> None:
    """`fan_out_lost_alerts(report_id, after)`: one message per batch of candidates. Each
    batch commits its ledger claims and deliveries together, then queues the next batch with
    its cursor and is acknowledged. A worker killed in between redelivers the batch: its
    claims exist, so it alerts nobody twice, and it queues the next batch again (a duplicate
    next batch is harmless for the same reason)."""

    def fan_out_lost_alerts(report_id: str, after: str | None = None) -> None:
        result = alert_batch(deps, UUID(report_id), UUID(after) if after else None, handlers.alert_batch_size)
        _log.info(
            "lost report %s: alert batch after %s: %d candidates, %d alerted%s",
            report_id,
            after,
            result.candidates,
            result.alerted,
            "" if result.next_after else "; fan-out done",
        )
        if result.next_after is not None:
            if handlers.alert_batch_pause_ms > 0:
                time.sleep(handlers.alert_batch_pause_ms / 1000)
            actor.send(report_id, str(result.next_after))

    broker.actors.pop(FAN_OUT_ACTOR_NAME, None)
    actor = dramatiq.actor(broker=broker, actor_name=FAN_OUT_ACTOR_NAME, queue_name=queue_name)(
        fan_out_lost_alerts
    )
    handlers.on_lost_report_opened = lambda event: actor.send(str(event.report_id), None)


def run_relay(
    store: OutboxStore,
    publisher: EventPublisher,
    clock: Clock,
    stop: threading.Event,
    interval: float = 0.5,
    batch: int = 100,
    *,
    max_backoff: float = 30.0,
) -> None:
    """Publish the outbox until `stop` is set. A full batch loops at once; an empty one waits
    `interval`; a failure (broker or database down) is logged and waits longer each time, up
    to `max_backoff` seconds. It never raises."""
    failures = 0
    while not stop.is_set():
        try:
            published = relay_once(store, publisher, clock, batch)
        except Exception:
            failures += 1
            delay = min(interval * 2**failures, max_backoff)
            _relay_log.warning(
                "relay pass failed (%d in a row); next try in %.1fs", failures, delay, exc_info=True
            )
            stop.wait(delay)
            continue
        if failures:
            _relay_log.info("relay recovered after %d failed passes", failures)
            failures = 0
        if published:
            _relay_log.debug("relayed %d messages", published)
        if published < batch:
            stop.wait(interval)


def run_dispatcher(
    uow: UnitOfWorkFactory,
    clock: Clock,
    stop: threading.Event,
    interval: float = 5.0,
    batch: int = 500,
    *,
    max_backoff: float = 60.0,
) -> None:
    """Queue scheduled notification deliveries whose time has come (quiet hours over, a
    reminder due) until `stop` is set: `dispatch_due` every `interval` seconds, at once again
    after a full batch. Runs beside the relay; several dispatchers (and a scheduler calling
    dispatch_due) take disjoint batches. It never raises."""
    failures = 0
    while not stop.is_set():
        try:
            with uow(None) as work:
                queued = dispatch_due(work, clock.now(), batch)
        except Exception:
            failures += 1
            delay = min(interval * 2**failures, max_backoff)
            _relay_log.warning(
                "dispatch pass failed (%d in a row); next try in %.1fs", failures, delay, exc_info=True
            )
            stop.wait(delay)
            continue
        failures = 0
        if queued:
            _relay_log.debug("queued %d due deliveries", queued)
        if queued < batch:
            stop.wait(interval)


def start_embedded_worker(
    broker: dramatiq.Broker,
    store: OutboxStore,
    publisher: EventPublisher,
    clock: Clock,
    dispatch: UnitOfWorkFactory | None = None,
) -> Callable[[], None]:
    """Run a worker (2 threads) and the relay inside this process, for the embedded default
    (`stub://`), and with `dispatch` the due-delivery dispatcher. Actors must already be
    registered on `broker`. Returns `stop()`."""
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    stop_event = threading.Event()
    threads = [
        threading.Thread(
            target=run_relay, args=(store, publisher, clock, stop_event), name="outbox-relay", daemon=True
        )
    ]
    if dispatch is not None:
        threads.append(
            threading.Thread(
                target=run_dispatcher, args=(dispatch, clock, stop_event), name="due-dispatcher", daemon=True
            )
        )
    for t in threads:
        t.start()
    lock = threading.Lock()

    def stop() -> None:
        with lock:
            if stop_event.is_set():
                return
            stop_event.set()
            for t in threads:
                t.join()
            worker.stop()

    return stop
