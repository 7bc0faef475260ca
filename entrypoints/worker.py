"""The worker process: Dramatiq consumers for the configured broker, optionally the relay.

`tailtracker worker [--threads N] [--with-relay]` and `tailtracker relay` start
`python -m entrypoints.worker`. SIGTERM or SIGINT stop it gracefully: the relay finishes its
pass, messages in hand are finished (or left unacknowledged, so the broker redelivers them).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import dramatiq

from entrypoints.bootstrap import Settings, SettingsError, build, configure_logging
from entrypoints.tasks import (
    NOTIFICATION_QUEUE_NAME,
    QUEUE_NAME,
    EventHandlers,
    register_actors,
    run_dispatcher,
    run_relay,
)
from tailtracker_core.ports import Clock, EventPublisher, OutboxStore, UnitOfWorkFactory

__all__ = ["main", "run_relay_forever", "run_worker"]

_log = logging.getLogger("tailtracker.worker")

SHUTDOWN_TIMEOUT_MS = 30_000  # how long in-flight tasks get to finish on shutdown


def _shut_down(stop: threading.Event, reason: str) -> None:
    _log.info("received %s; shutting down", reason)
    stop.set()


@contextmanager
def _until_signalled(stop: threading.Event) -> Iterator[None]:
    """Turn SIGTERM/SIGINT into `stop` (only the main thread may install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Event.set and logging take locks the interrupted main thread may hold: use a thread.
        threading.Thread(target=_shut_down, args=(stop, signal.Signals(signum).name), daemon=True).start()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):  # short waits keep the main thread responsive to signals
        pass


def run_worker(
    broker: dramatiq.Broker,
    handlers: EventHandlers,
    *,
    threads: int = 4,
    relay: tuple[OutboxStore, EventPublisher, Clock] | None = None,
    stop: threading.Event | None = None,
    queue_name: str = QUEUE_NAME,
    notification_queue_name: str = NOTIFICATION_QUEUE_NAME,
    dispatch: UnitOfWorkFactory | None = None,
) -> None:
    """Register the actors and consume until `stop` is set or SIGTERM/SIGINT arrives; with
    `relay`, also relay the outbox, and with `dispatch` queue due notification deliveries."""
    stop = stop or threading.Event()
    register_actors(broker, handlers, queue_name=queue_name, notification_queue_name=notification_queue_name)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    relay_thread = None
    with _until_signalled(stop):
        worker.start()
        _log.info("worker started: %d threads on %s", threads, type(broker).__name__)
        if relay is not None:
            relay_thread = threading.Thread(target=run_relay, args=(*relay, stop), name="outbox-relay")
            relay_thread.start()
        dispatcher = None
        if dispatch is not None and relay is not None:
            dispatcher = threading.Thread(
                target=run_dispatcher, args=(dispatch, relay[2], stop), name="due-dispatcher"
            )
            dispatcher.start()
        try:
            _wait(stop)
        finally:
            stop.set()
            if relay_thread is not None:
                relay_thread.join()
            if dispatcher is not None:
                dispatcher.join()
            worker.stop(timeout=SHUTDOWN_TIMEOUT_MS)
            _log.info("worker stopped")


def run_relay_forever(
    store: OutboxStore,
    publisher: EventPublisher,
    clock: Clock,
    stop: threading.Event | None = None,
    dispatch: UnitOfWorkFactory | None = None,
) -> None:
    """Relay the outbox (and with `dispatch`, queue due notification deliveries) until `stop`
    is set or SIGTERM/SIGINT arrives."""
    stop = stop or threading.Event()
    with _until_signalled(stop):
        threads = [
            threading.Thread(target=run_relay, args=(store, publisher, clock, stop), name="outbox-relay")
        ]
        if dispatch is not None:
            threads.append(
                threading.Thread(target=run_dispatcher, args=(dispatch, clock, stop), name="due-dispatcher")
            )
        for t in threads:
            t.start()
        _log.info("relay started")
        try:
            _wait(stop)
        finally:
            stop.set()
            for t in threads:
                t.join()
            _log.info("relay stopped")


def _ensure_geo_cache(index: object) -> None:
    """A Redis geo cache that is not known complete (first start, Redis lost its data) is
    rebuilt from the database before consuming; searches use the database meanwhile."""
    ensure = getattr(index, "ensure_built", None)
    if ensure is None:
        return
    try:
        rebuilt = ensure()
    except Exception:  # the worker's job is the queue: searches still fall back to the database
        _log.exception("could not rebuild the geo cache; run `tailtracker geo-rebuild`")
        return
    if rebuilt is not None:
        _log.info("geo cache rebuilt: %d open lost reports", rebuilt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tailtracker worker", description=__doc__)
    parser.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    parser.add_argument("--with-relay", action="store_true", help="also run the outbox relay here")
    parser.add_argument("--relay-only", action="store_true", help="run only the outbox relay")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"tailtracker: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if settings.broker_url.startswith("stub:"):
        print(
            "tailtracker: the stub:// broker lives inside the API process (embedded worker); "
            "set TAILTRACKER_BROKER_URL to amqp:// or redis:// to run a separate worker or relay",
            file=sys.stderr,
        )
        return 2
    container = build(settings)
    try:
        if args.relay_only:
            run_relay_forever(
                container.outbox, container.publisher, container.deps.clock, dispatch=container.deps.uow
            )
        else:
            _ensure_geo_cache(container.geo_index)
            relay = (container.outbox, container.publisher, container.deps.clock) if args.with_relay else None
            run_worker(
                container.broker,
                container.handlers,
                threads=args.threads,
                relay=relay,
                dispatch=container.deps.uow if relay else None,
                queue_name=settings.events_queue,
                notification_queue_name=settings.notifications_queue,
            )
    finally:
        container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
