"""The reminder scheduler loop, shared by `tailtracker scheduler` (entrypoints/scheduler.py) and
the API's embedded mode (stub:// broker, entrypoints/http/asgi.py). Nothing runs at import.

Each pass is `usecases.reminders.run_pass` (docs/reminders.md): every due cursor, batch by
batch, one transaction each, then the deliveries whose time has come. The loop keeps no state
between passes that matters: stop it at any moment, start two, restart it; the database holds
the cursors and the delivery keys.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tailtracker_core.ports import Clock, IdGenerator, UnitOfWorkFactory
from tailtracker_core.usecases.reminders import PassResult, SchedulerSettings, run_pass

__all__ = ["SchedulerMetrics", "run_scheduler", "start_embedded_scheduler"]

_log = logging.getLogger("tailtracker.scheduler")


class SchedulerMetrics:
    """Prometheus counters of the scheduler (served by `tailtracker scheduler --metrics-port`)."""

    def __init__(self, registry: object | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = registry if registry is not None else CollectorRegistry()
        self.passes = Counter(
            "tailtracker_scheduler_passes", "Scheduler passes", ["outcome"], registry=self.registry
        )  # type: ignore[arg-type]
        self.rows = Counter(
            "tailtracker_scheduler_rows",
            "Reminder cursors claimed and advanced",
            ["kind"],
            registry=self.registry,
        )  # type: ignore[arg-type]
        self.enqueued = Counter(
            "tailtracker_scheduler_deliveries_enqueued", "New deliveries", registry=self.registry
        )  # type: ignore[arg-type]
        self.dispatched = Counter(
            "tailtracker_scheduler_deliveries_dispatched",
            "Scheduled deliveries queued",
            registry=self.registry,
        )  # type: ignore[arg-type]
        self.last_success = Gauge(
            "tailtracker_scheduler_last_success_timestamp",
            "Unix time of the last good pass",
            registry=self.registry,
        )  # type: ignore[arg-type]

    def record(self, result: PassResult) -> None:
        self.passes.labels("ok").inc()
        self.rows.labels("care_schedule").inc(result.care_rows)
        self.rows.labels("vaccination").inc(result.vaccination_rows)
        self.enqueued.inc(result.enqueued)
        self.dispatched.inc(result.dispatched)
        self.last_success.set_to_current_time()

    def failed(self) -> None:
        self.passes.labels("failed").inc()


def run_scheduler(
    uow: UnitOfWorkFactory,
    ids: IdGenerator,
    clock: Clock,
    stop: threading.Event,
    settings: SchedulerSettings | None = None,
    interval: float = 10.0,
    *,
    once: bool = False,
    max_backoff: float = 60.0,
    metrics: SchedulerMetrics | None = None,
    on_pass: Callable[[PassResult], None] | None = None,
) -> None:
    """Run a pass every `interval` seconds until `stop` is set (or one pass with `once`). A
    failed pass (database down) is logged and retried after a growing delay, up to
    `max_backoff`; it never raises, except with `once`, where the error is the answer."""
    settings = settings or SchedulerSettings()
    failures = 0
    while not stop.is_set():
        try:
            result = run_pass(uow, ids, clock, settings)
        except Exception:
            if metrics is not None:
                metrics.failed()
            if once:
                raise
            failures += 1
            delay = min(interval * 2**failures, max_backoff)
            _log.warning(
                "scheduler pass failed (%d in a row); next try in %.1fs", failures, delay, exc_info=True
            )
            stop.wait(delay)
            continue
        if failures:
            _log.info("scheduler recovered after %d failed passes", failures)
            failures = 0
        if metrics is not None:
            metrics.record(result)
        if on_pass is not None:
            on_pass(result)
        if once:
            return
        stop.wait(interval)


def start_embedded_scheduler(
    uow: UnitOfWorkFactory,
    ids: IdGenerator,
    clock: Clock,
    settings: SchedulerSettings | None = None,
    interval: float = 10.0,
) -> Callable[[], None]:
    """Run the scheduler in a thread of this process (the embedded default). Returns `stop()`."""
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_scheduler,
        args=(uow, ids, clock, stop_event, settings, interval),
        name="reminder-scheduler",
        daemon=True,
    )
    thread.start()

    def stop() -> None:
        stop_event.set()
        thread.join()

    return stop
