"""The GeoIndex contract: one suite, the same fixtures, for every adapter."""

from __future__ import annotations

import pytest

from adapters.memory.geo import MemoryGeoIndex
from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import GeoIndex, UnitOfWorkFactory
from tailtracker_core.testing.geo_contract import GeoIndexContract


class TestMemoryGeoIndex(GeoIndexContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore(Uuid7Generator(), SystemClock())

    @pytest.fixture
    def uow_factory(self, store: MemoryStore) -> UnitOfWorkFactory:
        return store.uow_factory

    @pytest.fixture
    def geo_index(self, store: MemoryStore) -> GeoIndex:
        return MemoryGeoIndex(store)
