"""JwtSigner: round trips, key rotation, and every defective token refused with AuthenticationFailed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.security import JwtSigner, generate_key, parse_keys
from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.model.tiers import Tier
from tailtracker_core.testing.token_contract import TokenSignerContract
from tests.fixtures.kv import FakeClock

KEY = "k" * 16 + generate_key()
OTHER_KEY = generate_key()
START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
USER, SESSION, TOKEN_ID = uuid4(), uuid4(), uuid4()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def signer(clock: FakeClock) -> JwtSigner:
    return JwtSigner({"k1": KEY}, "k1", clock=clock)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(
    header: dict[str, Any], payload: dict[str, Any], key: str = KEY, digest: Any = hashlib.sha256
) -> str:
    """A token put together by hand, HMAC-signed with `key` whatever the header claims."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def claims(typ: str = "access", /, **changes: Any) -> dict[str, Any]:
    now = int(START.timestamp())
    base: dict[str, Any] = {
        "iss": "tailtracker",
        "aud": "tailtracker-api",
        "sub": str(USER),
        "sid": str(SESSION),
        "typ": typ,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
    }
    base.update({"tier": "free"} if typ == "access" else {"jti": str(TOKEN_ID)})
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


HEADER = {"alg": "HS256", "typ": "JWT", "kid": "k1"}


def refused(decode: Any, token: str, message: str | None = None) -> str:
    with pytest.raises(AuthenticationFailed, match=message) as caught:
        decode(token)
    return caught.value.detail


# --- round trips ----------------------------------------------------------------------------


def test_an_access_token_round_trips(signer: JwtSigner) -> None:
    token = signer.issue_access(USER, SESSION, Tier.PREMIUM, START)
    got = signer.decode_access(token)
    assert (got.user_id, got.session_id, got.tier) == (USER, SESSION, Tier.PREMIUM)
    assert got.expires_at == START + timedelta(seconds=900)


def test_a_refresh_token_round_trips(signer: JwtSigner) -> None:
    token = signer.issue_refresh(USER, SESSION, TOKEN_ID, START)
    got = signer.decode_refresh(token)
    assert (got.user_id, got.session_id, got.token_id) == (USER, SESSION, TOKEN_ID)
    assert got.expires_at == START + timedelta(seconds=2_592_000)


def test_tokens_carry_the_kid_the_algorithm_and_every_required_claim(signer: JwtSigner) -> None:
    token = signer.issue_access(USER, SESSION, Tier.FREE, START)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"iss", "aud", "exp", "nbf", "iat", "sub", "sid", "typ", "tier"}
    assert payload == claims("access")


def test_the_ttls_are_configurable_and_exposed(clock: FakeClock) -> None:
    signer = JwtSigner({"k1": KEY}, "k1", clock=clock, access_ttl_seconds=60, refresh_ttl_seconds=3600)
    assert (signer.access_ttl_seconds, signer.refresh_ttl_seconds) == (60, 3600)
    clock.advance(59)
    signer.decode_access(signer.issue_access(USER, SESSION, Tier.FREE, START))
    clock.advance(1)
    refused(signer.decode_access, signer.issue_access(USER, SESSION, Tier.FREE, START), "expired")


# --- time -----------------------------------------------------------------------------------


def test_an_expired_token_is_refused(signer: JwtSigner, clock: FakeClock) -> None:
    access = signer.issue_access(USER, SESSION, Tier.FREE, START)
    refresh = signer.issue_refresh(USER, SESSION, TOKEN_ID, START)
    clock.advance(900)
    refused(signer.decode_access, access, "the token has expired")
    signer.decode_refresh(refresh)
    clock.advance(2_592_000)
    refused(signer.decode_refresh, refresh, "the token has expired")


def test_a_token_not_valid_yet_is_refused(signer: JwtSigner) -> None:
    token = signer.issue_access(USER, SESSION, Tier.FREE, START + timedelta(seconds=30))
    refused(signer.decode_access, token, "not valid yet")


def test_leeway_tolerates_small_clock_differences(clock: FakeClock) -> None:
    signer = JwtSigner({"k1": KEY}, "k1", clock=clock, leeway_seconds=30)
    signer.decode_access(signer.issue_access(USER, SESSION, Tier.FREE, START + timedelta(seconds=20)))
    token = signer.issue_access(USER, SESSION, Tier.FREE, START)
    clock.advance(920)
    signer.decode_access(token)
    clock.advance(10)
    refused(signer.decode_access, token, "expired")


# --- audience, issuer, type -----------------------------------------------------------------


def test_a_token_for_another_audience_is_refused(signer: JwtSigner) -> None:
    refused(signer.decode_access, forge(HEADER, claims(aud="other-api")), "not meant for this service")
    refused(signer.decode_access, forge(HEADER, claims(aud=["tailtracker-api", "x"])), "not meant")


def test_a_token_from_another_issuer_is_refused(signer: JwtSigner, clock: FakeClock) -> None:
    refused(signer.decode_access, forge(HEADER, claims(iss="evil")), "not issued by this service")
    elsewhere = JwtSigner({"k1": KEY}, "k1", issuer="other", clock=clock)
    refused(signer.decode_access, elsewhere.issue_access(USER, SESSION, Tier.FREE, START), "not issued")


def test_a_refresh_token_is_not_an_access_token(signer: JwtSigner) -> None:
    token = signer.issue_refresh(USER, SESSION, TOKEN_ID, START)
    refused(signer.decode_access, token, "this is a refresh token, not an access token")


def test_an_access_token_is_not_a_refresh_token(signer: JwtSigner) -> None:
    token = signer.issue_access(USER, SESSION, Tier.FREE, START)
    refused(signer.decode_refresh, token, "this is an access token, not a refresh token")


def test_a_token_of_an_unknown_type_is_refused(signer: JwtSigner) -> None:
    refused(signer.decode_access, forge(HEADER, claims(typ="id")), "unknown type")


# --- algorithms and signatures --------------------------------------------------------------


def test_alg_none_is_refused(signer: JwtSigner) -> None:
    for alg in ["none", "None", "NONE", ""]:
        header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "k1"}).encode())
        payload = _b64(json.dumps(claims()).encode())
        for token in [f"{header}.{payload}.", f"{header}.{payload}"]:
            refused(signer.decode_access, token)


def test_hs512_signed_with_the_right_secret_is_refused(signer: JwtSigner) -> None:
    token = forge({**HEADER, "alg": "HS512"}, claims(), digest=hashlib.sha512)
    refused(signer.decode_access, token, "algorithm that is not allowed")


def test_rs256_and_es256_headers_are_refused(signer: JwtSigner) -> None:
    for alg in ["RS256", "ES256", "PS256", "EdDSA"]:
        refused(
            signer.decode_access, forge({**HEADER, "alg": alg}, claims()), "algorithm that is not allowed"
        )


def test_a_really_rsa_signed_token_is_refused(signer: JwtSigner) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), private_key, algorithm="RS256", headers={"kid": "k1"})
    refused(signer.decode_access, token, "algorithm that is not allowed")


def test_a_tampered_signature_is_refused(signer: JwtSigner) -> None:
    token = signer.issue_access(USER, SESSION, Tier.FREE, START)
    head, payload, signature = token.split(".")
    flipped = _b64(bytes(b ^ 1 for b in base64.urlsafe_b64decode(signature + "==")))
    refused(signer.decode_access, f"{head}.{payload}.{flipped}", "signature is invalid")
    refused(signer.decode_access, f"{head}.{payload}.", "signature is invalid")


def test_a_tampered_payload_is_refused(signer: JwtSigner) -> None:
    token = signer.issue_access(USER, SESSION, Tier.FREE, START)
    head, _, signature = token.split(".")
    upgraded = _b64(json.dumps(claims(tier="pro")).encode())
    refused(signer.decode_access, f"{head}.{upgraded}.{signature}", "signature is invalid")


def test_a_token_signed_with_another_secret_is_refused(signer: JwtSigner) -> None:
    refused(signer.decode_access, forge(HEADER, claims(), key=OTHER_KEY), "signature is invalid")


# --- key ids and rotation -------------------------------------------------------------------


def test_an_unknown_or_missing_kid_is_refused(signer: JwtSigner) -> None:
    refused(signer.decode_access, forge({**HEADER, "kid": "k9"}, claims()), "unknown key")
    refused(signer.decode_access, forge({"alg": "HS256", "typ": "JWT"}, claims()), "no key id")
    refused(signer.decode_access, forge({**HEADER, "kid": 1}, claims()))
    refused(signer.decode_access, forge({**HEADER, "kid": ["k1"]}, claims()))


def test_rotation_old_tokens_still_verify_and_new_ones_use_the_active_kid(clock: FakeClock) -> None:
    before = JwtSigner({"2025-01": KEY}, "2025-01", clock=clock)
    old_token = before.issue_refresh(USER, SESSION, TOKEN_ID, START)
    during = JwtSigner({"2025-01": KEY, "2025-07": OTHER_KEY}, "2025-07", clock=clock)
    assert during.decode_refresh(old_token).token_id == TOKEN_ID
    new_token = during.issue_access(USER, SESSION, Tier.PRO, START)
    assert jwt.get_unverified_header(new_token)["kid"] == "2025-07"
    assert during.decode_access(new_token).tier is Tier.PRO
    after = JwtSigner({"2025-07": OTHER_KEY}, "2025-07", clock=clock)
    after.decode_access(new_token)
    refused(after.decode_refresh, old_token, "unknown key")


def test_a_kid_pointing_at_another_kids_secret_is_refused(clock: FakeClock) -> None:
    signer = JwtSigner({"a": KEY, "b": OTHER_KEY}, "a", clock=clock)
    refused(signer.decode_access, forge({**HEADER, "kid": "b"}, claims(), key=KEY), "signature is invalid")


# --- claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["iss", "aud", "exp", "nbf", "iat", "sub", "sid", "typ", "tier"])
def test_an_access_token_missing_a_claim_is_refused(signer: JwtSigner, missing: str) -> None:
    refused(signer.decode_access, forge(HEADER, claims(**{missing: ...})), f"'{missing}'")


@pytest.mark.parametrize("missing", ["sub", "sid", "typ", "exp", "jti"])
def test_a_refresh_token_missing_a_claim_is_refused(signer: JwtSigner, missing: str) -> None:
    refused(signer.decode_refresh, forge(HEADER, claims("refresh", **{missing: ...})), f"'{missing}'")


@pytest.mark.parametrize(
    ("claim", "value", "message"),
    [
        ("sub", "not-a-uuid", "'sub' claim is not a valid id"),
        ("sub", 12, None),
        ("sid", "0" * 36, "'sid' claim is not a valid id"),
        ("sid", None, "'sid'"),
        ("tier", "platinum", "unknown tier"),
        ("tier", 1, "unknown tier"),
        ("exp", "tomorrow", "'exp' claim is not a number"),
        ("exp", True, "'exp' claim is not a number"),
        ("exp", 10**30, None),
        ("nbf", [1], "'nbf' claim is not a number"),
        ("iat", {}, "'iat' claim is not a number"),
    ],
)
def test_a_claim_of_the_wrong_shape_is_refused(
    signer: JwtSigner, claim: str, value: Any, message: str
) -> None:
    refused(signer.decode_access, forge(HEADER, claims(**{claim: value})), message)


def test_a_bad_jti_is_refused(signer: JwtSigner) -> None:
    refused(
        signer.decode_refresh, forge(HEADER, claims("refresh", jti="nope")), "'jti' claim is not a valid id"
    )


def test_a_well_formed_hand_made_token_is_accepted(signer: JwtSigner) -> None:
    """The forge helper really makes valid tokens: the refusals above are about the defect."""
    assert signer.decode_access(forge(HEADER, claims())).user_id == USER
    assert signer.decode_refresh(forge(HEADER, claims("refresh"))).token_id == TOKEN_ID


# --- garbage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "e30.e30.e30",  # {} . {} . {}
        "bnVsbA.bnVsbA.",  # null . null
        "W10.W10.",  # [] . []
        "x" * 10_000,
        "ünïcödé.tøken.🐾",
        "\ud800.\udfff.x",
        "Bearer abc",
    ],
)
def test_garbage_is_refused(signer: JwtSigner, token: str) -> None:
    refused(signer.decode_access, token)
    refused(signer.decode_refresh, token)


@given(st.text(max_size=600))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_only_ever_raises_authentication_failed(token: str) -> None:
    signer = JwtSigner({"k1": KEY}, "k1", clock=FakeClock(START))
    for decode in (signer.decode_access, signer.decode_refresh):
        with pytest.raises(AuthenticationFailed):
            decode(token)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(
    header=st.fixed_dictionaries({"alg": st.sampled_from(["HS256", "HS512", "none"]), "kid": st.just("k1")})
    | st.dictionaries(st.text(max_size=5), json_values, max_size=4),
    changes=st.dictionaries(
        st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub", "sid", "typ", "tier", "jti"]), json_values
    ),
)
@settings(max_examples=300, deadline=None)
def test_validly_signed_but_arbitrary_claims_only_raise_authentication_failed(
    header: dict[str, Any], changes: dict[str, Any]
) -> None:
    signer = JwtSigner({"k1": KEY}, "k1", clock=FakeClock(START))
    token = forge(header, claims(**changes))
    for decode in (signer.decode_access, signer.decode_refresh):
        detail = attempt(decode, token)
        assert detail is None or 0 < len(detail) < 100


def attempt(decode: Any, token: str) -> str | None:
    """None when the token is accepted, else the refusal's message (anything else escapes)."""
    try:
        decode(token)
    except AuthenticationFailed as e:
        return e.detail
    return None


# --- keys and construction ------------------------------------------------------------------


def test_generate_key_makes_long_random_urlsafe_secrets() -> None:
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) >= 43  # 32 bytes or more
        assert base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


def test_parse_keys_reads_kid_secret_pairs() -> None:
    a, b = generate_key(), generate_key()
    assert parse_keys(f"2025-01:{a}, 2025-07:{b}") == {"2025-01": a, "2025-07": b}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "entry 1 is empty"),
        ("k1", "no ':'"),
        (":" + "s" * 40, "bad kid"),
        ("k 1:" + "s" * 40, "bad kid"),
        ("k1:short", "shorter than 32"),
        (f"k1:{'s' * 40},", "entry 2 is empty"),
        (f"k1:{'s' * 40},k1:{'t' * 40}", "appears twice"),
    ],
)
def test_parse_keys_refuses_bad_specs_without_echoing_secrets(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_keys(spec)
    assert "s" * 8 not in str(caught.value)


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ({}, "k1", "at least one"),
        ({"k1": KEY}, "k2", "not among"),
        ({"k1": KEY, "k2": "too-short"}, "k1", "shorter than 32"),
    ],
)
def test_a_signer_refuses_a_bad_key_set(keys: dict[str, str], active: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JwtSigner(keys, active)


def test_the_ids_are_uuids(signer: JwtSigner) -> None:
    got = signer.decode_access(signer.issue_access(USER, SESSION, Tier.FREE, START))
    assert isinstance(got.user_id, UUID)
    assert isinstance(got.session_id, UUID)


class TestJwtSignerContract(TokenSignerContract):
    @pytest.fixture
    def now(self) -> datetime:
        return START
