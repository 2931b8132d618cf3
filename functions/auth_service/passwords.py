"""passwords hashes with Argon2id (OWASP parameters) and enforces the password policy.

OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1. Policy (NIST SP
800-63B): at least ``PASSWORD_MIN_LENGTH`` (12) and at most 128 characters, any
characters allowed, not the e-mail address, not one repeated character, not a common
password; no composition rules. "Common" is judged offline by zxcvbn (Dropbox's estimator:
frequency lists of breached passwords, English words, names, keyboard patterns, repeats
and sequences, shipped with the package): a password must reach ``PASSWORD_MIN_SCORE``
(3 of 4, "safely unguessable"), so ``abcabcabcabc`` or ``qwertyuiop12`` is refused
although it is long enough. Only its first 64 characters are scored: zxcvbn's matching
grows faster than linearly with length, and 64 characters that score well are enough.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_LENGTH = 128
_COMMON = frozenset(
    """password passw0rd password1 password12 password123 password1234 123456789012
    1234567890123 qwertyuiopas qwertyuiop123 iloveyou1234 letmein12345 welcome12345
    administrator changeme1234 trustno1trust monkey123456 dragon123456 football1234
    baseball1234 sunshine1234 princess1234 superman1234 abc123abc123 correcthorse
    correcthorsebatterystaple 111111111111 000000000000 aaaaaaaaaaaa""".split()
)


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)


def policy_violations(
    password: str, *, email: str, min_length: int, min_score: int = 3
) -> list[str]:
    """What is wrong with ``password`` (empty when it is acceptable)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if len(set(password)) <= 2:
        problems.append("must not repeat one or two characters")
    lowered = password.lower()
    if lowered in _COMMON:
        problems.append("is a commonly used password")
    if email and (lowered == email.lower() or lowered == email.split("@")[0].lower()):
        problems.append("must not be the e-mail address")
    if not problems and min_score > 0:
        from zxcvbn import zxcvbn

        hints = [email, email.split("@")[0]] if email else []
        estimate = zxcvbn(password[:64], user_inputs=hints)
        if estimate["score"] < min_score:
            advice = estimate["feedback"].get("warning") or "it is easy to guess"
            problems.append(f"is too easy to guess ({advice.rstrip('.').lower()})")
    return problems


async def hash_password(password: str) -> str:
    """Argon2id hash, computed off the event loop (about 20 ms of CPU)."""
    return await asyncio.to_thread(hasher().hash, password)


async def verify_password(stored_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return hasher().verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


_DUMMY: list[str] = []


async def burn_time(password: str) -> None:
    """Spend one verification on a dummy hash so unknown accounts cost as much as known."""
    if not _DUMMY:
        _DUMMY.append(await hash_password(secrets.token_urlsafe(16)))
    await verify_password(_DUMMY[0], password)


def generate_secret() -> str:
    return secrets.token_urlsafe(32)
