"""The ASGI factory granian serves:

    granian --interface asgi --factory entrypoints.http.asgi:create

Nothing is built at import time: settings, connections and the app come into being when the
server calls `create()`, and the container is closed when the app shuts down.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from litestar import Litestar

from entrypoints.bootstrap import Settings, build, configure_logging

from .app import create_app

__all__ = ["create"]


def create() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings)
    container = build(settings)
    stoppers: list[Callable[[], None]] = []

    def start_worker() -> None:
        # The embedded default (stub:// broker): the worker and the outbox relay run in-process.
        if settings.broker_url.startswith("stub://") and settings.embedded_worker:
            from entrypoints.tasks import start_embedded_worker

            stoppers.append(
                start_embedded_worker(
                    container.broker,
                    container.outbox,
                    container.publisher,
                    container.deps.clock,
                    dispatch=container.deps.uow,
                )
            )
        # The reminder scheduler too (docs/reminders.md); any number may run beside it.
        if settings.broker_url.startswith("stub://") and settings.embedded_scheduler:
            from entrypoints.scheduling import start_embedded_scheduler

            deps = container.deps
            stoppers.append(
                start_embedded_scheduler(
                    deps.uow,
                    deps.ids,
                    deps.clock,
                    settings.scheduler(deps.config),
                    float(settings.scheduler_interval_seconds),
                )
            )

    def freeze_startup_objects() -> None:
        # Last startup step, in each worker: everything built so far (modules, the app, its
        # routes, the adapters) lives as long as the process. Moved out of the collector's
        # generations, a full collection no longer walks it: shorter pauses, shorter tails
        # (p99 of the pet read 120 -> 76 ms in a short run, docs/performance.md).
        gc.freeze()

    def stop() -> None:
        while stoppers:
            stoppers.pop()()
        container.close()

    return create_app(container, on_startup=[start_worker, freeze_startup_objects], on_shutdown=[stop])
