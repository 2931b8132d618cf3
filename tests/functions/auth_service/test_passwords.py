"""Password hashing (Argon2id, OWASP parameters) and the NIST-style password policy."""

from __future__ import annotations

import os
from pathlib import Path

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


async def test_hashes_run_on_one_thread_per_usable_cpu_however_many_logins_arrive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each thread that ever hashed keeps argon2's 19 MiB (glibc's arena): a burst of
    logins queues on one thread per CPU instead of spreading over more threads."""
    import asyncio
    import threading

    digest = await passwords.hash_password("correct horse battery staple 7")
    used: set[str] = set()
    real = passwords.PasswordHasher.verify

    def watched(self: passwords.PasswordHasher, stored: str, given: str) -> bool:
        used.add(threading.current_thread().name)
        return real(self, stored, given)

    monkeypatch.setattr(passwords.PasswordHasher, "verify", watched)
    answers = await asyncio.gather(
        *(passwords.verify_password(digest, "correct horse battery staple 7") for _ in range(12)),
        passwords.verify_password(digest, "a wrong guess at the password"),
    )
    assert answers == [True] * 12 + [False]
    assert used and all(name.startswith("argon2") for name in used), used
    assert len(used) <= passwords.usable_cpus(), used


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("50000 100000\n", 1), ("100000 100000\n", 1), ("150000 100000\n", 2), ("max 100000\n", None)],
)
def test_usable_cpus_follow_the_containers_cpu_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpu_max: str, expected: int | None
) -> None:
    limit = tmp_path / "cpu.max"
    limit.write_text(cpu_max)
    monkeypatch.setattr(passwords, "CPU_MAX", limit)
    affinity = len(os.sched_getaffinity(0))
    assert passwords.usable_cpus() == (affinity if expected is None else min(affinity, expected))
    monkeypatch.setattr(passwords, "CPU_MAX", tmp_path / "absent")  # cgroup v1: no such file
    assert passwords.usable_cpus() == affinity
