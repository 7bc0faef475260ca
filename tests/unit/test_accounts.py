import pytest

from adapters.memory.limits import MemoryRateLimiter
from adapters.memory.sessions import MemorySessionStore
from adapters.security import Argon2Hasher, JwtSigner
from tailtracker_core.errors import AuthenticationFailed, Conflict, Throttled, ValidationFailed
from tailtracker_core.model.roles import Role
from tailtracker_core.usecases import accounts, families
from tests.unit.support import memory_deps

KEY = {"k1": "k" * 40}


@pytest.fixture
def world():
    from tests.unit.support import FakeClock

    clock = FakeClock()
    deps, store, _ = memory_deps(
        clock,
        hasher=Argon2Hasher(time_cost=1, memory_cost_kib=1024),
        signer=JwtSigner(KEY, "k1", clock=clock),
        sessions=MemorySessionStore(clock),
        limiter=MemoryRateLimiter(clock),
    )
    return deps, store, clock


def test_registering_makes_a_personal_family_owned_by_the_user_and_records_essential_consent(world):
    deps, store, _ = world
    result = accounts.register(
        deps, "Ada@Example.org", "a long enough secret", "Ada", "en-GB", "Europe/London"
    )
    mine = families.list_families(deps, result.user.id, None, 10)
    assert len(mine) == 1 and mine[0].role_of(result.user.id) is Role.OWNER
    assert accounts.authenticate(deps, result.access_token).user_id == result.user.id
    assert {m.topic for m in store.outbox().claim(10)} >= {"user.registered", "family.created"}
    with pytest.raises(Conflict):
        accounts.register(deps, "ada@example.ORG", "another long secret", "Ada 2")


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", "a long enough secret", "email"),
        ("a@example.org", "short", "password"),
        ("a@example.org", "x" * 129, "password"),
        ("a@example.org", "password1234", "password"),  # on the common list
    ],
)
def test_registration_refuses_bad_credentials_with_the_field_named(world, email, password, field):
    deps, store, _ = world
    with pytest.raises(ValidationFailed) as err:
        accounts.register(deps, email, password, "Someone")
    assert err.value.errors[0].field == field
    assert store.data.users == {}


def test_bad_locale_or_timezone_is_refused(world):
    deps, *_ = world
    with pytest.raises(ValidationFailed, match="timezone"):
        accounts.register(deps, "a@example.org", "a long enough secret", "A", "en", "Mars/Olympus")
    with pytest.raises(ValidationFailed, match="locale"):
        accounts.register(deps, "a@example.org", "a long enough secret", "A", "english please", "UTC")


def test_failed_logins_are_throttled_per_account_then_recover_without_lock_out(world):
    deps, _, clock = world
    accounts.register(deps, "a@example.org", "a long enough secret", "A")
    for _ in range(deps.config.login_failures_burst_account):
        with pytest.raises(AuthenticationFailed):
            accounts.login(deps, "a@example.org", "wrong password here", "10.0.0.1")
    with pytest.raises(Throttled) as err:
        accounts.login(deps, "a@example.org", "a long enough secret", "10.0.0.2")
    assert err.value.retry_after > 0
    clock.advance(minutes=1)
    assert (
        accounts.login(deps, "A@example.org", "a long enough secret", "10.0.0.2").user.email
        == "a@example.org"
    )


def test_unknown_and_known_emails_fail_alike(world):
    deps, *_ = world
    accounts.register(deps, "a@example.org", "a long enough secret", "A")
    with pytest.raises(AuthenticationFailed) as known:
        accounts.login(deps, "a@example.org", "wrong password here", "10.0.0.1")
    with pytest.raises(AuthenticationFailed) as unknown:
        accounts.login(deps, "nobody@example.org", "wrong password here", "10.0.0.1")
    assert known.value.detail == unknown.value.detail


def test_refresh_rotates_and_reusing_an_old_refresh_token_revokes_the_session(world):
    deps, *_ = world
    first = accounts.register(deps, "a@example.org", "a long enough secret", "A")
    second = accounts.refresh(deps, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(AuthenticationFailed, match="already used"):
        accounts.refresh(deps, first.refresh_token)
    with pytest.raises(AuthenticationFailed):
        accounts.refresh(deps, second.refresh_token)  # the whole session went
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(deps, second.access_token)


def test_logout_ends_the_session_at_once(world):
    deps, *_ = world
    auth = accounts.register(deps, "a@example.org", "a long enough secret", "A")
    accounts.logout(deps, accounts.authenticate(deps, auth.access_token))
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(deps, auth.access_token)


def test_profile_changes_are_checked(world):
    deps, *_ = world
    user = accounts.register(deps, "a@example.org", "a long enough secret", "A").user
    changed = accounts.update_profile(
        deps,
        user.id,
        accounts.ProfileChanges(alert_location=(51.5, -0.12), alert_radius_km=3.0, phone="+44 7700 900123"),
    )
    assert (changed.alert_lat, changed.alert_lon, changed.phone) == (51.5, -0.12, "+447700900123")
    for bad in (
        accounts.ProfileChanges(alert_location=(91.0, 0.0)),
        accounts.ProfileChanges(alert_location=(0.0, float("nan"))),
        accounts.ProfileChanges(alert_radius_km=0.0),
        accounts.ProfileChanges(phone="12345"),
        accounts.ProfileChanges(timezone="Nowhere/Else"),
    ):
        with pytest.raises(ValidationFailed):
            accounts.update_profile(deps, user.id, bad)
    assert accounts.get_profile(deps, user.id).version == changed.version
