"""Explicit parameter markers shared by the controllers (Litestar 3 drops inferred ones)."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias, cast
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from entrypoints.bootstrap import Container
from tailtracker_core.model.tiers import TierTable
from tailtracker_core.ports import AccessClaims, CareTaskReader, Clock, NearbyReader, PetReader
from tailtracker_core.usecases.deps import Deps

from .metrics import HttpMetrics

__all__ = [
    "CARE_TASK_READER_STATE_KEY",
    "CLOCK_STATE_KEY",
    "Claims",
    "ContainerDep",
    "Cursor",
    "DepsDep",
    "Fields",
    "IdempotencyKey",
    "IfMatch",
    "Limit",
    "MetricsDep",
    "NEARBY_READER_STATE_KEY",
    "PET_READER_STATE_KEY",
    "PathId",
    "care_task_reader_of",
    "clock_of",
    "TIERS_STATE_KEY",
    "nearby_reader_of",
    "pet_reader_of",
    "tiers_of",
]

# Dependencies, injected by name (see app.create_app).
DepsDep: TypeAlias = NamedDependency[Deps]
Claims: TypeAlias = NamedDependency[AccessClaims]
ContainerDep: TypeAlias = NamedDependency[Container]
MetricsDep: TypeAlias = NamedDependency[HttpMetrics]

# What the async read handlers take from the app's state (see pet_reader_of).
PET_READER_STATE_KEY = "tailtracker.pet_reader"
CARE_TASK_READER_STATE_KEY = "tailtracker.care_task_reader"
NEARBY_READER_STATE_KEY = "tailtracker.nearby_reader"
CLOCK_STATE_KEY = "tailtracker.clock"
TIERS_STATE_KEY = "tailtracker.tiers"


def pet_reader_of(request: Request[Any, Any, Any]) -> PetReader:
    """The read side, from the app's state rather than injected: a handler whose dependencies
    include two at one level (`claims` and `container`) makes Litestar resolve them in an anyio
    task group, about a tenth of an async read's CPU. The read handlers take `claims` only."""
    return cast("PetReader", request.app.state[PET_READER_STATE_KEY])


def care_task_reader_of(request: Request[Any, Any, Any]) -> CareTaskReader:
    """The care-task read side, from the app's state (see `pet_reader_of`)."""
    return cast("CareTaskReader", request.app.state[CARE_TASK_READER_STATE_KEY])


def clock_of(request: Request[Any, Any, Any]) -> Clock:
    """The container's clock, from the app's state, for async read handlers that take no `deps`."""
    return cast("Clock", request.app.state[CLOCK_STATE_KEY])


def nearby_reader_of(request: Request[Any, Any, Any]) -> NearbyReader:
    """The public search's read side, from the app's state (as `pet_reader_of`)."""
    return cast("NearbyReader", request.app.state[NEARBY_READER_STATE_KEY])


def tiers_of(request: Request[Any, Any, Any]) -> TierTable:
    """The tier table (the search's radius check), from the app's state: no `deps` to resolve."""
    return cast("TierTable", request.app.state[TIERS_STATE_KEY])


PathId: TypeAlias = Annotated[UUID, PathParameter()]

Limit: TypeAlias = Annotated[int, QueryParameter(ge=1, le=100, description="Page size (1..100).")]
Cursor: TypeAlias = Annotated[
    str | None,
    QueryParameter(max_length=64, description="Opaque cursor: the `next_cursor` of the previous page."),
]
Fields: TypeAlias = Annotated[
    str | None,
    QueryParameter(max_length=500, description="Comma-separated field names: return only these fields."),
]
IfMatch: TypeAlias = Annotated[
    str | None, HeaderParameter(name="If-Match", description='The ETag you read, e.g. "3" (412 when stale).')
]
IdempotencyKey: TypeAlias = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="One key per intended creation: a retry with the same key and body replays it.",
    ),
]
