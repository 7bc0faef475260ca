"""Deps for unit tests: the in-memory store, a clock the test moves, cheap stand-ins for crypto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.memory.uow import MemoryStore
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.usecases.deps import Deps


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class Unused:
    """A port the test does not expect to be used: any call fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected use of {name}")


def memory_deps(clock: FakeClock | None = None, **overrides: Any) -> tuple[Deps, MemoryStore, FakeClock]:
    clock = clock or FakeClock()
    ids = Uuid7Generator()
    store = MemoryStore(ids, clock)
    parts: dict[str, Any] = {
        "uow": store.uow_factory,
        "clock": clock,
        "ids": ids,
        "hasher": Unused(),
        "signer": Unused(),
        "sessions": Unused(),
        "limiter": Unused(),
    }
    parts.update(overrides)
    return Deps(**parts), store, clock


def add_user(deps: Deps, email: str, name: str = "Someone") -> User:
    user = User(deps.ids.new_id(), email, name, "unused-hash", deps.clock.now())
    with deps.uow(user.id) as uow:
        uow.users.add(user)
        uow.commit()
    return user


def role_in(deps: Deps, family_id: UUID, user_id: UUID) -> Any:
    with deps.uow(user_id) as uow:
        return uow.families.role_of(family_id, user_id)
