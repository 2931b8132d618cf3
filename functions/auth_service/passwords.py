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
import math
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_LENGTH = 128
_T = TypeVar("_T")
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""cgroup v2's CPU limit of this container: ``<quota> <period>`` in microseconds, or ``max``."""
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


@cache
def _hashing() -> ThreadPoolExecutor:
    """The threads that hash: one per CPU this process may use.

    Argon2id takes 19 MiB per hash (``memory_cost``), allocated in the hashing thread; glibc
    keeps a freed block that large in that thread's arena (its mmap threshold rises to the
    size of the last large block freed), so each thread that ever hashed holds ~19 MiB for
    good. On asyncio's default executor (``min(32, CPUs + 4)`` threads, 6 on two CPUs) a
    burst of logins left 114 MiB resident; more threads than CPUs hash no faster (argon2
    releases the GIL, and the work is CPU-bound), so this pool bounds what the hashing holds
    to 19 MiB per CPU, and a burst queues here instead of growing the process.
    """
    return ThreadPoolExecutor(max_workers=usable_cpus(), thread_name_prefix="argon2")


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity, capped by its cgroup's CPU quota (a
    Knative limit of ``500m`` is one)."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = CPU_MAX.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # cgroup v1 or no limit: the affinity
    return cpus


async def _off_loop(work: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_hashing(), work)


async def hash_password(password: str) -> str:
    """Argon2id hash, computed off the event loop (about 20 ms of CPU)."""
    return await _off_loop(lambda: hasher().hash(password))


async def verify_password(stored_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return hasher().verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await _off_loop(check)


_DUMMY: list[str] = []


async def burn_time(password: str) -> None:
    """Spend one verification on a dummy hash so unknown accounts cost as much as known."""
    if not _DUMMY:
        _DUMMY.append(await hash_password(secrets.token_urlsafe(16)))
    await verify_password(_DUMMY[0], password)


def generate_secret() -> str:
    return secrets.token_urlsafe(32)
