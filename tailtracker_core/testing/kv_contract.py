"""Contracts of the Cache, RateLimiter and SessionStore ports, as pytest base classes.

Subclass one in a test module and provide its fixtures:

- `cache`, `limiter` or `sessions`: the adapter under test, empty;
- `advance`: a callable `advance(seconds)` that lets that much time pass for the adapter
  (move a fake clock for in-process adapters; really sleep for adapters timed by a server).

Waits stay at or below 1.1 s, and limiter tests use rates fast enough that a real clock
works, so a suite runs in a few seconds against a real server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID, uuid4

import pytest

from tailtracker_core.ports import Cache, RateLimiter, SessionRecord, SessionStore

__all__ = [
    "Advance",
    "CacheContract",
    "RateLimiterContract",
    "SessionStoreContract",
    "new_session_record",
    "race",
]

Advance = Callable[[float], None]
T = TypeVar("T")


def race(workers: int, action: Callable[[int], T]) -> list[T]:
    """Run `action(i)` for i in range(workers) on as many threads, released together."""
    barrier = threading.Barrier(workers)
    results: list[T | None] = [None] * workers
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except BaseException as e:  # re-raised below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


# --- cache ----------------------------------------------------------------------------------


class CacheContract:
    def test_a_missing_key_reads_as_none(self, cache: Cache) -> None:
        assert cache.get("nothing-here") is None

    def test_set_then_get_returns_the_same_bytes(self, cache: Cache) -> None:
        cache.set("k", b"\x00value\xff", 60)
        assert cache.get("k") == b"\x00value\xff"

    def test_set_replaces_the_value(self, cache: Cache) -> None:
        cache.set("k", b"one", 60)
        cache.set("k", b"two", 60)
        assert cache.get("k") == b"two"

    def test_keys_are_independent(self, cache: Cache) -> None:
        cache.set("a", b"1", 60)
        cache.set("b", b"2", 60)
        cache.delete("a")
        assert (cache.get("a"), cache.get("b")) == (None, b"2")

    def test_add_sets_only_when_the_key_is_absent(self, cache: Cache) -> None:
        assert cache.add("k", b"first", 60) is True
        assert cache.add("k", b"second", 60) is False
        assert cache.get("k") == b"first"

    def test_values_expire_after_their_ttl_and_add_works_again(self, cache: Cache, advance: Advance) -> None:
        cache.set("short", b"1", 1)
        cache.add("claimed", b"1", 1)
        cache.set("long", b"2", 60)
        advance(1.1)
        assert cache.get("short") is None
        assert cache.get("long") == b"2"
        assert cache.add("claimed", b"again", 60) is True
        assert cache.get("claimed") == b"again"

    def test_delete_removes_the_key_and_deleting_a_missing_key_is_fine(self, cache: Cache) -> None:
        cache.set("k", b"v", 60)
        cache.delete("k")
        cache.delete("k")
        assert cache.get("k") is None
        assert cache.add("k", b"new", 60) is True

    def test_add_is_atomic_only_one_of_many_concurrent_callers_wins(self, cache: Cache) -> None:
        wins = race(16, lambda i: (i, cache.add("contested", str(i).encode(), 60)))
        winners = [i for i, won in wins if won]
        assert len(winners) == 1
        assert cache.get("contested") == str(winners[0]).encode()

    @pytest.mark.parametrize("ttl", [0, -1])
    def test_a_ttl_that_is_not_positive_is_refused(self, cache: Cache, ttl: int) -> None:
        with pytest.raises(ValueError, match="ttl"):
            cache.set("k", b"v", ttl)
        with pytest.raises(ValueError, match="ttl"):
            cache.add("k", b"v", ttl)


# --- rate limiter ---------------------------------------------------------------------------


class RateLimiterContract:
    def test_the_burst_is_allowed_then_hits_are_refused_with_retry_after(self, limiter: RateLimiter) -> None:
        decisions = [limiter.hit("k", rate_per_minute=60, burst=3) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert all(d.limit == 3 for d in decisions)
        assert [d.retry_after for d in decisions[:3]] == [0, 0, 0]
        assert decisions[3].retry_after == 1  # one token per second

    def test_reset_seconds_is_the_time_until_the_bucket_is_full(self, limiter: RateLimiter) -> None:
        first = limiter.hit("k", rate_per_minute=60, burst=5)
        assert first.reset_seconds == 1
        for _ in range(4):
            last = limiter.hit("k", rate_per_minute=60, burst=5)
        assert last.remaining == 0
        assert last.reset_seconds == 5

    def test_retry_after_follows_the_rate(self, limiter: RateLimiter) -> None:
        limiter.hit("k", rate_per_minute=6, burst=1)  # one token per 10 s
        refused = limiter.hit("k", rate_per_minute=6, burst=1)
        assert not refused.allowed
        assert 9 <= refused.retry_after <= 10

    def test_the_bucket_refills_at_the_rate(self, limiter: RateLimiter, advance: Advance) -> None:
        for _ in range(2):
            assert limiter.hit("k", rate_per_minute=240, burst=2).allowed  # 4 tokens a second
        assert not limiter.hit("k", rate_per_minute=240, burst=2).allowed
        advance(0.3)  # 1.2 tokens
        assert limiter.hit("k", rate_per_minute=240, burst=2).allowed
        assert not limiter.hit("k", rate_per_minute=240, burst=2).allowed

    def test_an_idle_bucket_refills_to_the_burst_and_no_further(
        self, limiter: RateLimiter, advance: Advance
    ) -> None:
        for _ in range(3):
            limiter.hit("k", rate_per_minute=6000, burst=3)
        advance(0.2)  # 20 tokens' worth
        peek = limiter.hit("k", rate_per_minute=6000, burst=3, cost=0)
        assert (peek.allowed, peek.remaining) == (True, 3)

    def test_keys_are_independent(self, limiter: RateLimiter) -> None:
        assert limiter.hit("a", rate_per_minute=1, burst=1).allowed
        assert not limiter.hit("a", rate_per_minute=1, burst=1).allowed
        assert limiter.hit("b", rate_per_minute=1, burst=1).allowed

    def test_cost_zero_asks_without_taking(self, limiter: RateLimiter) -> None:
        for _ in range(3):
            peek = limiter.hit("k", rate_per_minute=1, burst=2, cost=0)
            assert (peek.allowed, peek.remaining, peek.retry_after) == (True, 2, 0)
        limiter.hit("k", rate_per_minute=1, burst=2)
        limiter.hit("k", rate_per_minute=1, burst=2)
        refused = limiter.hit("k", rate_per_minute=1, burst=2, cost=0)
        assert (refused.allowed, refused.remaining) == (False, 0)
        assert refused.retry_after >= 59

    def test_a_costly_hit_needs_all_its_tokens_and_a_refused_one_takes_nothing(
        self, limiter: RateLimiter
    ) -> None:
        assert limiter.hit("k", rate_per_minute=1, burst=5, cost=3).remaining == 2
        refused = limiter.hit("k", rate_per_minute=1, burst=5, cost=3)
        assert (refused.allowed, refused.remaining) == (False, 2)
        assert refused.retry_after >= 1
        assert limiter.hit("k", rate_per_minute=1, burst=5, cost=2).allowed

    def test_reset_fills_the_bucket_again(self, limiter: RateLimiter) -> None:
        limiter.hit("k", rate_per_minute=1, burst=1)
        assert not limiter.hit("k", rate_per_minute=1, burst=1).allowed
        limiter.reset("k")
        limiter.reset("never-used")
        assert limiter.hit("k", rate_per_minute=1, burst=1).allowed

    def test_concurrent_hits_never_take_more_than_the_burst(self, limiter: RateLimiter) -> None:
        decisions = race(24, lambda _: limiter.hit("k", rate_per_minute=1, burst=10))
        assert sum(d.allowed for d in decisions) == 10

    @pytest.mark.parametrize(
        ("rate", "burst", "cost"), [(0, 1, 1), (-1, 1, 1), (60, 0, 0), (60, 1, -1), (60, 2, 3)]
    )
    def test_nonsense_arguments_are_refused(
        self, limiter: RateLimiter, rate: int, burst: int, cost: int
    ) -> None:
        with pytest.raises(ValueError, match="must be"):
            limiter.hit("k", rate_per_minute=rate, burst=burst, cost=cost)


# --- sessions -------------------------------------------------------------------------------


def new_session_record(user_id: UUID | None = None) -> SessionRecord:
    """A session of `user_id` (a new user by default) with fresh ids."""
    return SessionRecord(
        session_id=uuid4(),
        user_id=user_id or uuid4(),
        current_token_id=uuid4(),
        created_at=datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    )


class SessionStoreContract:
    def test_a_created_session_reads_back_equal(self, sessions: SessionStore) -> None:
        record = new_session_record()
        sessions.create(record, 60)
        assert sessions.get(record.session_id) == record

    def test_an_unknown_session_reads_as_none(self, sessions: SessionStore) -> None:
        assert sessions.get(uuid4()) is None

    def test_rotating_with_the_live_token_replaces_it(self, sessions: SessionStore) -> None:
        record = new_session_record()
        sessions.create(record, 60)
        new = uuid4()
        assert sessions.rotate(record.session_id, record.current_token_id, new, 60) is True
        got = sessions.get(record.session_id)
        assert got is not None
        assert got.current_token_id == new
        assert (got.user_id, got.created_at) == (record.user_id, record.created_at)

    def test_presenting_a_rotated_token_again_fails_and_changes_nothing(self, sessions: SessionStore) -> None:
        record = new_session_record()
        sessions.create(record, 60)
        new = uuid4()
        sessions.rotate(record.session_id, record.current_token_id, new, 60)
        assert sessions.rotate(record.session_id, record.current_token_id, uuid4(), 60) is False
        got = sessions.get(record.session_id)
        assert got is not None
        assert got.current_token_id == new

    def test_rotating_an_unknown_session_fails(self, sessions: SessionStore) -> None:
        assert sessions.rotate(uuid4(), uuid4(), uuid4(), 60) is False

    def test_of_many_concurrent_rotations_with_one_token_only_one_wins(self, sessions: SessionStore) -> None:
        record = new_session_record()
        sessions.create(record, 60)
        new_ids = [uuid4() for _ in range(16)]
        outcomes = race(
            16,
            lambda i: (
                new_ids[i],
                sessions.rotate(record.session_id, record.current_token_id, new_ids[i], 60),
            ),
        )
        winners = [new for new, won in outcomes if won]
        assert len(winners) == 1
        got = sessions.get(record.session_id)
        assert got is not None
        assert got.current_token_id == winners[0]

    def test_sessions_expire_and_rotation_extends_the_ttl(
        self, sessions: SessionStore, advance: Advance
    ) -> None:
        idle, active = new_session_record(), new_session_record()
        sessions.create(idle, 1)
        sessions.create(active, 1)
        new = uuid4()
        assert sessions.rotate(active.session_id, active.current_token_id, new, 60)
        advance(1.1)
        assert sessions.get(idle.session_id) is None
        assert sessions.rotate(idle.session_id, idle.current_token_id, uuid4(), 60) is False
        got = sessions.get(active.session_id)
        assert got is not None
        assert got.current_token_id == new

    def test_revoke_ends_the_session(self, sessions: SessionStore) -> None:
        record = new_session_record()
        sessions.create(record, 60)
        sessions.revoke(record.session_id)
        sessions.revoke(record.session_id)
        sessions.revoke(uuid4())
        assert sessions.get(record.session_id) is None
        assert sessions.rotate(record.session_id, record.current_token_id, uuid4(), 60) is False

    def test_revoke_user_ends_every_session_of_that_user_and_no_other(self, sessions: SessionStore) -> None:
        user = uuid4()
        mine = [new_session_record(user) for _ in range(3)]
        theirs = new_session_record()
        for record in [*mine, theirs]:
            sessions.create(record, 60)
        sessions.rotate(mine[0].session_id, mine[0].current_token_id, uuid4(), 120)
        sessions.revoke(mine[1].session_id)
        sessions.revoke_user(user)
        sessions.revoke_user(uuid4())
        assert [sessions.get(r.session_id) for r in mine] == [None, None, None]
        assert sessions.get(theirs.session_id) == theirs

    def test_a_user_can_sign_in_again_after_revoke_user(self, sessions: SessionStore) -> None:
        user = uuid4()
        sessions.create(new_session_record(user), 60)
        sessions.revoke_user(user)
        again = new_session_record(user)
        sessions.create(again, 60)
        assert sessions.get(again.session_id) == again
        sessions.revoke_user(user)
        assert sessions.get(again.session_id) is None

    @pytest.mark.parametrize("ttl", [0, -5])
    def test_a_ttl_that_is_not_positive_is_refused(self, sessions: SessionStore, ttl: int) -> None:
        record = new_session_record()
        with pytest.raises(ValueError, match="ttl"):
            sessions.create(record, ttl)
        sessions.create(record, 60)
        with pytest.raises(ValueError, match="ttl"):
            sessions.rotate(record.session_id, record.current_token_id, uuid4(), ttl)
