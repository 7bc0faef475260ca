"""`tailtracker geo-rebuild`: with a Redis cache it repopulates it; without, it says why not."""

from __future__ import annotations

from adapters.sql import Database
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
)
from tests.cli.test_cli import run


def test_geo_rebuild_without_a_cache_has_nothing_to_do(tmp_path):
    assert run(tmp_path, "migrate").returncode == 0
    out = run(tmp_path, "geo-rebuild")
    assert out.returncode == 0, out.stderr
    assert "nothing to rebuild" in out.stdout


def test_geo_rebuild_fills_the_redis_cache(tmp_path, redis_url):
    assert run(tmp_path, "migrate").returncode == 0
    db = Database(f"sqlite:///{tmp_path}/var/db.sqlite")
    try:
        owner = arrange_user(db.uow_factory)
        family = arrange_family(db.uow_factory, owner)
        for i in range(2):
            pet = arrange_pet(db.uow_factory, owner, family, name=f"Pet {i}")
            arrange_lost_report(db.uow_factory, owner, pet, GeoPoint(48.85, 2.35))
    finally:
        db.dispose()
    out = run(tmp_path, "geo-rebuild", TAILTRACKER_CACHE_URL=redis_url)
    assert out.returncode == 0, out.stderr
    assert "rebuilt from the database: 2 open lost reports" in out.stdout
