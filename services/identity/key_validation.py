"""An external gateway's check of an API key (002 POST /api-keys/validate): the key is named by
its shown prefix and the SHA-256 of its secret (the gateway need not forward the secret), and the
answer says whether it is valid now, for which tenant, with which scopes and requests per minute.

The rules are those a request with the key meets here (services/identity/api_keys.py key_refusal):
unknown, revoked or expired keys, an inactive owner or tenant, an address outside its allowed
networks are not valid, each with its reason (core/scopes.py RefusalReason). The gateway applies
the rate limit itself; nothing is counted against it here."""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from core.scope import TenantScope
from core.scopes import RefusalReason, known_scopes
from models.db import Reads
from models.identity.accounts import Tenant, User
from models.identity.api_keys import ApiKey
from services.identity.api_keys import key_refusal

MAX_PREFIX_CHARS = 16
MAX_ADDRESS_CHARS = 64
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class KeyQuestion:
    key_prefix: str
    key_hash: str
    ip_address: str | None = None


@dataclass(frozen=True, slots=True)
class KeyAnswer:
    valid: bool
    reason: RefusalReason | None = None
    key_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    scopes: tuple[str, ...] = ()
    rate_limit_rpm: int | None = None


def question_problem(question: KeyQuestion) -> tuple[str, str] | None:
    """(field, message) of a malformed question; None when it is well formed."""
    if not 0 < len(question.key_prefix) <= MAX_PREFIX_CHARS:
        return "key_prefix", f"`key_prefix` must be 1 to {MAX_PREFIX_CHARS} characters."
    if not HASH_PATTERN.match(question.key_hash):
        return "key_hash", "`key_hash` must be the SHA-256 of the secret: 64 lowercase hex digits."
    if question.ip_address is not None:
        try:
            # The whole text, bounded: what is checked here is what key_refusal parses.
            if len(question.ip_address) > MAX_ADDRESS_CHARS:
                raise ValueError(question.ip_address)
            ipaddress.ip_address(question.ip_address)
        except ValueError:
            return "ip_address", "`ip_address` must be an IPv4 or IPv6 address."
    return None


async def validate_key(reads: Reads, question: KeyQuestion) -> KeyAnswer:
    """Whether the key the question names is valid now (one statement)."""
    async with reads.session(TenantScope.all_tenants()) as session:
        row = (
            await session.execute(
                select(ApiKey, User, Tenant)
                .join(User, (User.id == ApiKey.user_id) & (User.tenant_id == ApiKey.tenant_id))
                .join(Tenant, Tenant.id == ApiKey.tenant_id)
                .where(ApiKey.secret_hash == question.key_hash)
            )
        ).first()
    if row is None or row[0].key_prefix != question.key_prefix:
        return KeyAnswer(False, RefusalReason.API_KEY_INVALID)
    key, user, tenant = row
    if (reason := key_refusal(key, user, tenant, question.ip_address)) is not None:
        return KeyAnswer(False, reason, key_id=key.id, tenant_id=key.tenant_id)
    return KeyAnswer(
        True,
        key_id=key.id,
        tenant_id=key.tenant_id,
        user_id=key.user_id,
        scopes=tuple(sorted(known_scopes(key.scopes))),
        rate_limit_rpm=key.rate_limit_per_minute,
    )
