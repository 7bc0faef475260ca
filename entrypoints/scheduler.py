"""The reminder scheduler process: `tailtracker scheduler` starts `python -m entrypoints.scheduler`.

Every TAILTRACKER_SCHEDULER_INTERVAL_SECONDS it runs one pass (docs/reminders.md): due care
and vaccination reminders become delivery rows (once per key, ever), deliveries whose time has
come are queued; the outbox relay and the worker deliver them. Run one or more anywhere: a
doubled scheduler splits the work (FOR UPDATE SKIP LOCKED) and a restarted one picks up where
the database says. SIGTERM or SIGINT stop it after the pass in hand (its transaction either
commits or rolls back; nothing is half done). `--once` runs one pass and exits (cron, tests).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from entrypoints.bootstrap import Settings, SettingsError, build, configure_logging
from entrypoints.scheduling import SchedulerMetrics, run_scheduler

__all__ = ["main"]

_log = logging.getLogger("tailtracker.scheduler")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tailtracker scheduler", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run one pass and exit")
    parser.add_argument(
        "--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port (default: off)"
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"tailtracker: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    container = build(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Event.set and logging take locks the interrupted thread may hold: use a thread.
        name = signal.Signals(signum).name
        threading.Thread(
            target=lambda: (_log.info("received %s; stopping", name), stop.set()), daemon=True
        ).start()

    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, on_signal)
    metrics = SchedulerMetrics()
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, registry=metrics.registry)  # type: ignore[arg-type]
    deps = container.deps
    _log.info(
        "scheduler started: every %ss, lookahead %ss, database %s",
        settings.scheduler_interval_seconds,
        settings.scheduler_lookahead_seconds,
        settings.database_url.split("@")[-1],
    )
    code = 0
    try:
        run_scheduler(
            deps.uow,
            deps.ids,
            deps.clock,
            stop,
            settings.scheduler(deps.config),
            float(settings.scheduler_interval_seconds),
            once=args.once,
            metrics=metrics,
        )
    except Exception as error:  # only with --once: the loop retries instead of raising
        _log.exception("scheduler pass failed")
        print(f"tailtracker: the scheduler pass failed: {type(error).__name__}: {error}", file=sys.stderr)
        code = 1
    finally:
        container.close()
        _log.info("scheduler stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
