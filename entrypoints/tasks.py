"""Background tasks: the event handler actor and the outbox relay loop.

Shared by the worker process and the API's embedded mode; it imports neither of them (nor
the CLI). Nothing here runs at import: callers pass the broker and the dependencies in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import dramatiq
from attrs import define

from adapters.messaging import PermanentEmailError
from tailtracker_core.events import InvitationCreated, event_from_json
from tailtracker_core.ports import Cache, Clock, EmailSender, EventPublisher, OutboxStore
from tailtracker_core.usecases.emails import send_invitation_email
from tailtracker_core.usecases.outbox import relay_once

__all__ = [
    "ACTOR_NAME",
    "QUEUE_NAME",
    "EventHandlers",
    "register_actors",
    "run_relay",
    "start_embedded_worker",
]

ACTOR_NAME = "handle_event"
QUEUE_NAME = "events"

_log = logging.getLogger("tailtracker.worker")
_relay_log = logging.getLogger("tailtracker.relay")


@define
class EventHandlers:
    """What each topic does once its message reaches a worker. Every handler is idempotent:
    the broker delivers at least once."""

    email: EmailSender
    sent_marks: Cache
    accept_url_base: str

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
        else:
            _log.debug("no handler for topic %r; acknowledged", topic)


def register_actors(
    broker: dramatiq.Broker,
    handlers: EventHandlers,
    *,
    queue_name: str = QUEUE_NAME,
    max_retries: int | None = None,
    min_backoff_ms: int | None = None,
    max_backoff_ms: int | None = None,
) -> None:
    """Declare `handle_event(message_id, topic, payload)` on this broker (not the global one).
    Retry settings left as None come from the broker's Retries middleware. Registering again
    replaces the earlier registration (bootstrap registers; the worker may register again)."""

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


def start_embedded_worker(
    broker: dramatiq.Broker, store: OutboxStore, publisher: EventPublisher, clock: Clock
) -> Callable[[], None]:
    """Run a worker (2 threads) and the relay inside this process, for the embedded default
    (`stub://`). Actors must already be registered on `broker`. Returns `stop()`."""
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    stop_event = threading.Event()
    relay = threading.Thread(
        target=run_relay, args=(store, publisher, clock, stop_event), name="outbox-relay", daemon=True
    )
    relay.start()
    lock = threading.Lock()

    def stop() -> None:
        with lock:
            if stop_event.is_set():
                return
            stop_event.set()
            relay.join()
            worker.stop()

    return stop
