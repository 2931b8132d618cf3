"""schemas holds auth-service's request and response bodies."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_SCOPE = re.compile(r"^[a-z][a-z0-9:._-]{0,63}$")


def normalize_email(value: str) -> str:
    """Syntax-checked, NFKC-normalized, lower-cased e-mail (the login name).

    email-validator is imported on first use: it compiles its Unicode tables at import
    (~30 ms), which a process that never reads an address (auth-users' reads, a restart
    whose admin exists) should not pay at start-up.

    Raises:
        ValueError: not an e-mail address.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as e:
        raise ValueError(str(e)) from None
    return checked.normalized.lower()


def is_text(value: str) -> bool:
    """Text PostgreSQL can store: encodable as UTF-8 (no lone surrogates) and without NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=4096)

    @field_validator("*")
    @classmethod
    def _text(cls, value: object) -> object:
        if isinstance(value, str) and not is_text(value):
            raise ValueError("must be UTF-8 text without NUL characters")
        return value


class UserCreate(_Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    name: str | None = Field(None, max_length=200)

    _email = field_validator("email")(normalize_email)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Literal["admin", "member"]
    disabled: bool
    created_at: datetime


class RegistrationAccepted(BaseModel):
    """The answer to a self-registration, the same whether or not the e-mail had an account."""

    status: Literal["accepted"] = "accepted"
    email: str
    detail: str = (
        "If this address had no account, it has one now: sign in with POST /token;"
        " GET /users/me gives the account's id."
    )


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class UserSelfUpdate(_Body):
    name: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=128)
    current_password: str = Field(max_length=128)


class UserAdminUpdate(_Body):
    role: Literal["admin", "member"] | None = None
    disabled: bool | None = None


class ServiceAccountCreate(_Body):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not _SCOPE.match(scope):
                raise ValueError(f"scope '{scope[:64]}' must match {_SCOPE.pattern}")
        return sorted(set(value))


class ServiceAccountCreated(BaseModel):
    id: uuid.UUID
    name: str
    client_id: str
    client_secret: str
    scopes: list[str]
    created_at: datetime


class TokenAnswer(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the RFC 6749 token type
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None
