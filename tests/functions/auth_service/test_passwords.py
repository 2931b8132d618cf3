"""Password hashing (Argon2id, OWASP parameters) and the NIST-style password policy."""

from __future__ import annotations

import pytest

from functions.auth_service import passwords


def _violations(password: str, email: str = "ada@example.com") -> list[str]:
    return passwords.policy_violations(password, email=email, min_length=12)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "Tr0ub4dor&3xyz", "ünïcödé pässwörd", " spaces count too "],
)
def test_long_uncommon_passwords_pass_without_composition_rules(password: str) -> None:
    assert _violations(password) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "must be at least 12 characters"),
        ("y" * 129, "must be at most 128 characters"),
        ("abababababab", "must not repeat one or two characters"),
        ("Password1234", "is a commonly used password"),
        ("ADA@EXAMPLE.COM", "must not be the e-mail address"),
        ("ada likes maths", None),
    ],
    ids=["short", "long", "two-chars", "common-any-case", "email", "local-part-repeated"],
)
def test_each_policy_rule_names_its_failure(password: str, expected: str | None) -> None:
    problems = _violations(password)
    if expected is None:
        assert problems == [], "a password merely containing the local part is allowed"
    else:
        assert expected in problems, problems


def test_the_local_part_alone_is_refused() -> None:
    assert "must not be the e-mail address" in _violations("averylongname", "averylongname@x.io")


def test_the_minimum_length_is_configurable() -> None:
    strong = "gravel^Oboe"  # eleven characters zxcvbn scores well
    assert passwords.policy_violations(strong, email="", min_length=11) == []
    assert passwords.policy_violations(strong, email="", min_length=12) != []


async def test_hashes_are_argon2id_salted_and_verify() -> None:
    first = await passwords.hash_password("correct horse battery")
    second = await passwords.hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), first
    assert first != second, "every hash has its own salt"
    assert await passwords.verify_password(first, "correct horse battery")
    assert not await passwords.verify_password(first, "correct horse batterY")


async def test_a_corrupt_stored_hash_never_verifies() -> None:
    assert not await passwords.verify_password("not-a-hash", "anything")
    assert not await passwords.verify_password("$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "x")


async def test_burn_time_accepts_any_password() -> None:
    await passwords.burn_time("' OR 1=1 --")
    assert passwords._DUMMY and passwords._DUMMY[0].startswith("$argon2id$")


def test_generated_secrets_are_long_and_unique() -> None:
    secrets = {passwords.generate_secret() for _ in range(50)}
    assert len(secrets) == 50 and min(len(s) for s in secrets) >= 43
