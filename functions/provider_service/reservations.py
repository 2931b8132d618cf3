"""reservations encodes a reservation id as a signed, self-describing token.

``r1.<payload>.<signature>``: the payload (base64url JSON) names the reservation's UUID,
user, project, provider, model, the model's prices when it was made, and its deadline;
the signature is HMAC-SHA256 with ``QUOTA_SIGNING_KEY``. A commit therefore needs
nothing but the id to write the ledger: it still reaches PostgreSQL when Redis, which
holds the reservation's counters, is down, and the hot path writes no reservation row.
The cost of a commit uses the prices carried here, those in force at reserve time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from functions.provider_service.rules import Price
from shared.errors import NotFound, ValidationFailed

VERSION = "r1"
MAX_PRICE = Decimal("1000000")
"""The largest price per million tokens a ticket may carry (NUMERIC(20,10) holds 1e10)."""


@dataclass(frozen=True, slots=True)
class Ticket:
    id: uuid.UUID
    user_id: uuid.UUID
    project_id: uuid.UUID
    provider: str
    model: str
    price: Price
    expires_at: datetime


def encode(ticket: Ticket, *, key: bytes) -> str:
    payload = {
        "i": str(ticket.id),
        "u": str(ticket.user_id),
        "p": str(ticket.project_id),
        "v": ticket.provider,
        "m": ticket.model,
        "pi": str(ticket.price.input_usd_per_mtok),
        "po": str(ticket.price.output_usd_per_mtok),
        "e": int(ticket.expires_at.timestamp()),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{VERSION}.{body}.{_b64(_sign(key, body))}"


def decode(token: str, *, key: bytes) -> Ticket:
    """The reservation behind ``token``.

    Raises:
        NotFound: the token is malformed or its signature is not ours (nothing names it).
        ValidationFailed: it is signed but a field is out of range (see ``validated``).
    """
    unknown = NotFound("No such reservation (the id is malformed or not signed by this service).")
    version, _, rest = token.partition(".")
    body, _, signature = rest.partition(".")
    if version != VERSION or not body or not signature:
        raise unknown
    try:
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except ValueError:
        raise unknown from None
    if not hmac.compare_digest(given, _sign(key, body)):
        raise unknown
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        ticket = Ticket(
            id=uuid.UUID(data["i"]),
            user_id=uuid.UUID(data["u"]),
            project_id=uuid.UUID(data["p"]),
            provider=str(data["v"]),
            model=str(data["m"]),
            price=Price(Decimal(data["pi"]), Decimal(data["po"])),
            expires_at=datetime.fromtimestamp(int(data["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError, InvalidOperation, OverflowError):
        raise unknown from None
    return validated(ticket)


def validated(ticket: Ticket) -> Ticket:
    """``ticket`` if every field is one reserve could have written.

    Raises:
        ValidationFailed: a price is negative or not finite, or a name is empty or too long
            (a ticket signed with a leaked key must still not reach the database as a 500).
    """
    errors = []
    prices = (
        ("input", ticket.price.input_usd_per_mtok),
        ("output", ticket.price.output_usd_per_mtok),
    )
    for name, price in prices:
        if not price.is_finite() or price < 0 or price > MAX_PRICE:
            errors.append(f"{name} price must be a non-negative amount up to {MAX_PRICE}")
    if not 0 < len(ticket.provider) <= 100 or not 0 < len(ticket.model) <= 200:
        errors.append("provider and model must be 1-100 and 1-200 characters")
    if errors:
        raise ValidationFailed(
            [{"loc": ["body", "reservation_id"], "msg": message} for message in errors]
        )
    return ticket


def _sign(key: bytes, body: str) -> bytes:
    return hmac.new(key, f"{VERSION}.{body}".encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
