"""Argon2Hasher: argon2id, verify never raises, rehash only when the settings grew stronger."""

from __future__ import annotations

import pytest
from argon2 import Type, extract_parameters

from adapters.security import Argon2Hasher


@pytest.fixture(scope="module")
def hasher() -> Argon2Hasher:
    return Argon2Hasher(time_cost=1, memory_cost_kib=8)  # cheap, for tests only


def test_the_defaults_are_the_owasp_argon2id_minimum() -> None:
    params = extract_parameters(Argon2Hasher().hash("correct horse battery staple"))
    assert (params.type, params.time_cost, params.memory_cost, params.parallelism) == (Type.ID, 2, 19456, 1)


def test_a_hash_is_argon2id_and_salted(hasher: Argon2Hasher) -> None:
    first, second = hasher.hash("s3cret pass"), hasher.hash("s3cret pass")
    assert first.startswith("$argon2id$")
    assert first != second


def test_the_right_password_verifies_and_a_wrong_one_does_not(hasher: Argon2Hasher) -> None:
    stored = hasher.hash("s3cret pass")
    assert hasher.verify(stored, "s3cret pass") is True
    assert hasher.verify(stored, "s3cret pasS") is False
    assert hasher.verify(stored, "") is False


def test_unicode_passwords_round_trip(hasher: Argon2Hasher) -> None:
    assert hasher.verify(hasher.hash("pässwörd 🐾"), "pässwörd 🐾") is True


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=8,t=1,p=1$broken",
        "$2b$12$abcdefghijklmnopqrstuuK8PZ8z3N3l9b0JXGgT9kBbx8zyVb7bi",  # bcrypt
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$\x00",
    ],
)
def test_an_invalid_stored_hash_verifies_as_false_without_raising(hasher: Argon2Hasher, stored: str) -> None:
    assert hasher.verify(stored, "anything") is False


def test_a_password_that_cannot_be_encoded_verifies_as_false(hasher: Argon2Hasher) -> None:
    assert hasher.verify(hasher.hash("x"), "\ud800") is False


def test_no_rehash_is_needed_with_the_same_settings(hasher: Argon2Hasher) -> None:
    assert hasher.needs_rehash(hasher.hash("pw")) is False


@pytest.mark.parametrize("stronger", [{"time_cost": 2}, {"memory_cost_kib": 16}])
def test_a_rehash_is_needed_after_the_settings_rise(hasher: Argon2Hasher, stronger: dict[str, int]) -> None:
    settings = {"time_cost": 1, "memory_cost_kib": 8} | stronger
    assert Argon2Hasher(**settings).needs_rehash(hasher.hash("pw")) is True


def test_a_stronger_hash_is_kept_when_the_settings_are_lowered(hasher: Argon2Hasher) -> None:
    strong = Argon2Hasher(time_cost=2, memory_cost_kib=16).hash("pw")
    assert hasher.needs_rehash(strong) is False
    assert hasher.verify(strong, "pw") is True


def test_an_argon2i_hash_or_garbage_needs_a_rehash(hasher: Argon2Hasher) -> None:
    from argon2 import PasswordHasher

    argon2i = PasswordHasher(time_cost=3, memory_cost=64, type=Type.I).hash("pw")
    assert hasher.verify(argon2i, "pw") is True
    assert hasher.needs_rehash(argon2i) is True
    assert hasher.needs_rehash("garbage") is True
