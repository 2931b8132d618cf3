"""remote calls the function project-service depends on: auth-users.

A member must be a real user: before adding one, ``put_member`` asks auth-users
(``GET /users/{id}``) whether the id is a user's. The caller's own token cannot read
other users (admins and platform services only), so the call is made as the platform
service account (``context.platform``, scope ``internal``), acting for nobody.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from functions.project_service.context import platform
from functions.project_service.settings import settings
from shared import clients
from shared.errors import Forbidden, NotFound, Unauthorized, Unavailable


class User(BaseModel):
    """What project-service reads of auth-users' ``UserOut``."""

    id: uuid.UUID
    disabled: bool


async def require_user(user_id: uuid.UUID) -> User:
    """The user ``user_id``, which must exist; a disabled user counts (disabling is
    reversible, deleting is not).

    Raises:
        NotFound: auth-users knows no such user ("User '<id>' does not exist.").
        Unavailable: auth-users is down, or refused this service's credentials (a
            deployment fault, not the caller's: a 503, never their 401/403).
    """
    url = f"{settings().auth_users_url}/users/{user_id}"
    try:
        return await clients.call_for(
            User, "auth-users", "GET", url, headers=await platform.headers()
        )
    except NotFound:
        raise NotFound(f"User '{user_id}' does not exist.") from None
    except (Unauthorized, Forbidden) as e:
        platform.forget()  # a rotated secret or expired ready token: fetch anew next time
        raise Unavailable(
            "auth-users", detail="auth-users refused project-service's service credentials."
        ) from e
