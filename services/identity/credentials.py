"""Whose request it is: the one credential it carries (``Authorization: Bearer <...>`` or
``X-API-Key: <key>``) read as a user's access token (a sign-in session: services/identity/auth.py
and the access store), an API key (``tg_live_...`` / ``tg_test_...``: services/identity/api_keys.py)
or a service client's token (services/identity/service_clients.py)."""

from __future__ import annotations

import uuid

from core.errors import Unauthenticated
from core.principal import Principal
from core.scopes import RefusalReason
from core.settings import Settings
from models.db import Reads
from services.identity.access import AccessStore
from services.identity.api_keys import KeyGate, is_api_key
from services.identity.auth import acting_in, authenticate, bearer_token
from services.identity.service_clients import service_principal
from services.identity.tokens import InvalidToken, decode_access_token

API_KEY_HEADER = "x-api-key"


def request_credential(authorization: str | None, api_key: str | None) -> str | None:
    """The credential of ``Authorization`` (Bearer) or ``X-API-Key``; None without either.
    UNAUTHENTICATED for both at once, or an X-API-Key value that is no API key."""
    bearer = bearer_token(authorization)
    key = (api_key or "").strip() or None
    if key is None:
        return bearer
    if not is_api_key(key):
        raise Unauthenticated(
            "X-API-Key takes an API key (tg_live_... or tg_test_...).", reason=RefusalReason.API_KEY_INVALID
        )
    if bearer is not None:
        raise Unauthenticated("Send one credential: Authorization or X-API-Key, not both.")
    return key


async def principal_of(
    access: AccessStore,
    settings: Settings,
    keys: KeyGate,
    credential: str,
    acting_tenant: uuid.UUID | None,
    client_ip: str,
    reads: Reads | None = None,
) -> Principal:
    """The principal of any of our credentials, checked as it stands now; the refusals carry
    ``extensions.reason`` (core/scopes.py RefusalReason) for keys and service tokens."""
    db = reads or access.reads
    if is_api_key(credential):
        principal = await keys.principal(credential, client_ip, db)
    else:
        try:
            claimed = decode_access_token(settings, credential)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from exc
        if not claimed.is_service:
            return await authenticate(access, settings, credential, acting_tenant, reads)
        principal = await service_principal(claimed, db)
    if acting_tenant is not None:
        principal = await acting_in(db, principal, acting_tenant)
    return principal
