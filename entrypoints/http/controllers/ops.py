"""Operations endpoints (no /v1): liveness, readiness, metrics."""

from __future__ import annotations

from typing import ClassVar

import msgspec
from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST

from ..params import (
    ContainerDep,
    MetricsDep,
)

__all__ = ["OpsController"]

# Litestar appends "; charset=utf-8" to text/* media types itself; say it once.
_METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


class OpsController(Controller):
    tags: ClassVar[list[str]] = ["Operations"]

    @get("/health", summary="The process is alive", sync_to_thread=False)
    def health(self) -> Health:
        return Health("ok")

    @get(
        "/ready",
        summary="Database, cache and broker reachable",
        description="200 when every check is ok, else 503 with each check's result.",
        sync_to_thread=True,
        responses={
            503: ResponseSpec(
                Readiness, description="Not ready: the failing check says why", generate_examples=False
            )
        },
    )
    def ready(self, container: ContainerDep) -> Response[Readiness]:
        try:
            checks = container.ping()
        except Exception as exc:  # a probe reports, it does not raise
            checks = {"container": f"error: {type(exc).__name__}"}
        ok = all(v == "ok" for v in checks.values())
        return Response(Readiness("ok" if ok else "unavailable", checks), status_code=200 if ok else 503)

    @get("/metrics", summary="Prometheus metrics", media_type=_METRICS_MEDIA_TYPE, sync_to_thread=False)
    def metrics(self, metrics: MetricsDep) -> Response[bytes]:
        return Response(metrics.exposition(), media_type=_METRICS_MEDIA_TYPE)
