"""Register, sign in, rotate tokens, sign out, and the user's own profile."""

from __future__ import annotations

import math
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import (
    AuthenticationFailed,
    Conflict,
    PreconditionFailed,
    Throttled,
    ValidationFailed,
)
from tailtracker_core.events import ConsentChanged, FamilyCreated, UserRegistered
from tailtracker_core.model.accounts import (
    User,
    check_alert_radius,
    check_display_name,
    check_email,
    check_locale,
    check_password,
    check_phone,
    check_timezone,
)
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose
from tailtracker_core.model.families import Family
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import AccessClaims, PasswordHasher, SessionRecord
from tailtracker_core.usecases.deps import UNSET, Deps, Unset, tier_of_users

__all__ = [
    "AuthResult",
    "ProfileChanges",
    "authenticate",
    "get_profile",
    "login",
    "logout",
    "refresh",
    "register",
    "update_profile",
]

MAX_ALERT_RADIUS_KM = 50.0
DEFAULT_ALERT_RADIUS_KM = 5.0
# Verified against when the email is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH_INPUT = "tailtracker-timing-equaliser"


@frozen
class AuthResult:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


def register(
    deps: Deps,
    email: str,
    password: str,
    display_name: str,
    locale: str = "en",
    timezone: str = "UTC",
    method: ConsentMethod = ConsentMethod.API,
) -> AuthResult:
    """Create the account, its personal family (owned by it) and the essential consent."""
    email = check_email(email)
    check_password(password)
    display_name = check_display_name(display_name)
    locale, timezone = check_locale(locale), check_timezone(timezone)
    now = deps.clock.now()
    user = User(deps.ids.new_id(), email, display_name, deps.hasher.hash(password), now, locale, timezone)
    with deps.uow(user.id) as uow:
        if uow.users.get_by_email(user.email_key) is not None:
            raise Conflict("an account with this email already exists; sign in instead")
        uow.users.add(user)
        family = Family.found(deps.ids.new_id(), f"{display_name}'s family"[:100], user.id, now)
        uow.families.add(family)
        essential = ConsentRecord.record(
            deps.ids.new_id(),
            user.id,
            Purpose.ESSENTIAL,
            True,
            deps.config.current_policy_version,
            now,
            method,
        )
        uow.consents.add(essential)
        uow.record(UserRegistered(user.id, user.email))
        uow.record(FamilyCreated(family.id, user.id))
        uow.record(ConsentChanged(user.id, Purpose.ESSENTIAL.value, True))
        uow.commit()
        tier = tier_of_users(uow, deps, [user.id])
    return _start_session(deps, user, tier)


def login(deps: Deps, email: str, password: str, client_address: str) -> AuthResult:
    """Check the credentials; failures are throttled per account and per address, never locked."""
    cfg = deps.config
    account_key = f"login:acct:{email.strip().lower()}"
    address_key = f"login:addr:{client_address}"
    buckets = (
        (account_key, cfg.login_failures_per_minute_account, cfg.login_failures_burst_account),
        (address_key, cfg.login_failures_per_minute_address, cfg.login_failures_burst_address),
    )
    for key, rate, burst in buckets:
        decision = deps.limiter.hit(key, rate, burst, cost=0)
        if not decision.allowed:
            raise Throttled("too many failed sign-ins; wait and try again", decision.retry_after)
    with deps.uow(None) as uow:
        user = uow.users.get_by_email(email.strip().lower())
        if user is None:
            deps.hasher.verify(_dummy_hash(deps.hasher), password)
            ok = False
        else:
            ok = deps.hasher.verify(user.password_hash, password)
        if not ok or user is None:
            for key, rate, burst in buckets:
                deps.limiter.hit(key, rate, burst)
            raise AuthenticationFailed("the email or the password is wrong")
        if deps.hasher.needs_rehash(user.password_hash):
            user.password_hash = deps.hasher.hash(password)
            user.version += 1
            uow.users.save(user)
            uow.commit()
        tier = tier_of_users(uow, deps, [user.id])
    deps.limiter.reset(account_key)
    return _start_session(deps, user, tier)


def refresh(deps: Deps, refresh_token: str) -> AuthResult:
    """Rotate the pair. Presenting a refresh token that was already rotated revokes the session."""
    claims = deps.signer.decode_refresh(refresh_token)
    session = deps.sessions.get(claims.session_id)
    if session is None or session.user_id != claims.user_id:
        raise AuthenticationFailed("this session has ended; sign in again")
    new_token_id = deps.ids.new_id()
    ttl = deps.signer.refresh_ttl_seconds
    if not deps.sessions.rotate(claims.session_id, claims.token_id, new_token_id, ttl):
        deps.sessions.revoke(claims.session_id)
        raise AuthenticationFailed("this refresh token was already used; the session is revoked")
    with deps.uow(claims.user_id) as uow:
        user = uow.users.get(claims.user_id)
        if user is None:
            deps.sessions.revoke(claims.session_id)
            raise AuthenticationFailed("this account no longer exists")
        tier = tier_of_users(uow, deps, [user.id])
    return _issue(deps, user, tier, claims.session_id, new_token_id)


def logout(deps: Deps, claims: AccessClaims) -> None:
    deps.sessions.revoke(claims.session_id)


def authenticate(deps: Deps, access_token: str) -> AccessClaims:
    """The claims of a valid access token whose session is still open."""
    claims = deps.signer.decode_access(access_token)
    session = deps.sessions.get(claims.session_id)
    if session is None or session.user_id != claims.user_id:
        raise AuthenticationFailed("this session has ended; sign in again")
    return claims


def get_profile(deps: Deps, actor: UUID) -> User:
    with deps.uow(actor) as uow:
        user = uow.users.get(actor)
    if user is None:
        raise AuthenticationFailed("this account no longer exists")
    return user


@frozen
class ProfileChanges:
    display_name: str | Unset = UNSET
    locale: str | Unset = UNSET
    timezone: str | Unset = UNSET
    phone: str | Unset | None = UNSET
    alert_location: tuple[float, float] | Unset | None = UNSET
    alert_radius_km: float | Unset | None = UNSET


def update_profile(
    deps: Deps, actor: UUID, changes: ProfileChanges, expected_version: int | None = None
) -> User:
    with deps.uow(actor) as uow:
        user = uow.users.get(actor)
        if user is None:
            raise AuthenticationFailed("this account no longer exists")
        if expected_version is not None and expected_version != user.version:
            raise PreconditionFailed("the profile changed since you read it; read it again")
        if not isinstance(changes.display_name, Unset):
            user.display_name = check_display_name(changes.display_name)
        if not isinstance(changes.locale, Unset):
            user.locale = check_locale(changes.locale)
        if not isinstance(changes.timezone, Unset):
            user.timezone = check_timezone(changes.timezone)
        if not isinstance(changes.phone, Unset):
            user.phone = None if changes.phone is None else check_phone(changes.phone)
        if not isinstance(changes.alert_location, Unset):
            if changes.alert_location is None:
                user.alert_lat = user.alert_lon = None
            else:
                user.alert_lat, user.alert_lon = check_point(*changes.alert_location, "alert_location")
        if not isinstance(changes.alert_radius_km, Unset):
            r = changes.alert_radius_km
            if r is not None and (math.isnan(r) or not 0 < r <= MAX_ALERT_RADIUS_KM):
                raise ValidationFailed.single(
                    "alert_radius_km", f"above 0 and at most {MAX_ALERT_RADIUS_KM:g} km"
                )
            # Within the user's own tier's alert radius (403 tier_limit_exceeded above it).
            tier = tier_of_users(uow, deps, [actor])
            user.alert_radius_km = None if r is None else check_alert_radius(r, tier, deps.config.tiers)
        if user.alert_lat is not None and user.alert_radius_km is None:
            # A location without a radius would alert nobody: 5 km (or the tier's maximum if
            # smaller) until the user chooses (docs/lost-and-found.md, "Alert settings").
            allowed = deps.config.tiers[tier_of_users(uow, deps, [actor])].alert_radius_km
            user.alert_radius_km = min(DEFAULT_ALERT_RADIUS_KM, allowed)
        user.version += 1
        uow.users.save(user)
        uow.commit()
    return user


_DUMMY_HASHES: dict[int, tuple[PasswordHasher, str]] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made once per hasher, so an unknown email costs one verification like a known one."""
    held = _DUMMY_HASHES.get(id(hasher))
    if held is None or held[0] is not hasher:
        held = _DUMMY_HASHES[id(hasher)] = (hasher, hasher.hash(_DUMMY_HASH_INPUT))
    return held[1]


def check_point(lat: float, lon: float, field: str) -> tuple[float, float]:
    if math.isnan(lat) or not -90 <= lat <= 90:
        raise ValidationFailed.single(f"{field}.lat", "a latitude between -90 and 90")
    if math.isnan(lon) or not -180 <= lon <= 180:
        raise ValidationFailed.single(f"{field}.lon", "a longitude between -180 and 180")
    return lat, lon


def _start_session(deps: Deps, user: User, tier: Tier) -> AuthResult:
    session_id, token_id = deps.ids.new_id(), deps.ids.new_id()
    record = SessionRecord(session_id, user.id, token_id, deps.clock.now())
    deps.sessions.create(record, deps.signer.refresh_ttl_seconds)
    return _issue(deps, user, tier, session_id, token_id)


def _issue(deps: Deps, user: User, tier: Tier, session_id: UUID, token_id: UUID) -> AuthResult:
    now = deps.clock.now()
    return AuthResult(
        user,
        deps.signer.issue_access(user.id, session_id, tier, now),
        deps.signer.issue_refresh(user.id, session_id, token_id, now),
        deps.signer.access_ttl_seconds,
    )
