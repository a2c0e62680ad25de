"""API keys: a user's programmatic credential (``tg_live_...`` / ``tg_test_...``) that acts as the
user, in their tenant, narrowed to the key's scopes, from its allowed networks, within its
requests per minute, until it expires or is revoked.

The secret is shown once, at creation; only its SHA-256 is stored (256 random bits: a slow hash
buys nothing). Every request with a key reads the key with its owner's status and roles in one
statement (no cache, so a revocation, a suspension or a role change holds from the next request
on). Last use and usage count are not written per request: ``KeyUsage`` adds them up in memory
and writes them every ``api_key_usage_flush_seconds`` (and at shutdown), one UPDATE per key used
meanwhile, so a key serving 1,000 requests a second costs one write per interval, not 1,000."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update

from core.errors import FieldProblem, Forbidden, NotFound, RateLimited, Unauthenticated, invalid
from core.permissions import TENANT_ADMINS, Role, held_permissions
from core.principal import Principal, PrincipalKind
from core.scope import TenantScope
from core.scopes import ApiScope, RefusalReason, known_scopes
from core.workers import PollingWorker, Round
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.db import Database, Reads
from models.identity.accounts import Tenant, User, UserRole, UserStatus
from models.identity.api_keys import ApiKey, ApiKeyEnvironment
from models.identity.roles import CustomRole, UserCustomRole
from services.context import ServiceContext
from services.identity.accounts import reject
from services.identity.bans import banned_now
from services.identity.errors import IdentityErrorCode
from services.ratelimit import RateLimiter

log = logging.getLogger(__name__)

ALL_TENANTS = TenantScope.all_tenants()
PREFIXES = {ApiKeyEnvironment.LIVE: "tg_live_", ApiKeyEnvironment.TEST: "tg_test_"}
# Characters of the random part shown after the prefix (key_prefix), to tell keys apart.
SHOWN_CHARACTERS = 6
MAX_NAME_CHARS = 100
MAX_REASON_CHARS = 500
MAX_ALLOWED_NETWORKS = 50
MAX_NETWORK_CHARS = 64
MAX_RATE_LIMIT_PER_MINUTE = 100_000
MAX_ACTIVE_KEYS_PER_USER = 50
# Longer is no key of ours (prefix and 43 characters): refused before any hashing or query.
MAX_SECRET_CHARS = 100
RATE_WINDOW_SECONDS = 60

# The key by its hash, with its owner's status, tenant's status, roles (one row per role) and
# whether they must change their password.
_KEY_ACCESS = (
    select(ApiKey, User, Tenant, UserRole.role, CustomRole.permissions)
    .join(User, (User.id == ApiKey.user_id) & (User.tenant_id == ApiKey.tenant_id))
    .join(Tenant, Tenant.id == ApiKey.tenant_id)
    .outerjoin(UserRole, (UserRole.user_id == User.id) & (UserRole.tenant_id == User.tenant_id))
    # and its custom roles' permissions (one row per system role and custom role)
    .outerjoin(
        UserCustomRole, (UserCustomRole.user_id == User.id) & (UserCustomRole.tenant_id == User.tenant_id)
    )
    .outerjoin(CustomRole, CustomRole.id == UserCustomRole.role_id)
    .where(ApiKey.secret_hash == bindparam("secret_hash"))
)


def is_api_key(credential: str) -> bool:
    return credential.startswith(tuple(PREFIXES.values()))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode(errors="surrogatepass")).hexdigest()


def new_secret(environment: ApiKeyEnvironment) -> str:
    return PREFIXES[environment] + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class NewApiKey:
    name: str
    scopes: tuple[ApiScope, ...]
    environment: ApiKeyEnvironment = ApiKeyEnvironment.LIVE
    allowed_ips: tuple[str, ...] = ()
    rate_limit_per_minute: int | None = None
    expires_at: datetime | None = None


def problem_at(name: str, code: IdentityErrorCode, message: str) -> FieldProblem:
    return FieldProblem(("input", *name.split(".")), code, message)


def parse_networks(values: tuple[str, ...]) -> tuple[list[str], list[FieldProblem]]:
    """The allowed networks in canonical form (an address alone is its /32 or /128), and a
    problem for each entry that is none."""
    networks, problems = [], []
    if len(values) > MAX_ALLOWED_NETWORKS:
        problems.append(
            problem_at("allowedIps", IdentityErrorCode.TOO_LONG, f"At most {MAX_ALLOWED_NETWORKS} networks.")
        )
        return [], problems
    for index, value in enumerate(values):
        if len(value) > MAX_NETWORK_CHARS:
            message = f"At most {MAX_NETWORK_CHARS} characters."
            problems.append(problem_at(f"allowedIps.{index}", IdentityErrorCode.TOO_LONG, message))
            continue
        try:
            networks.append(str(ipaddress.ip_network(value.strip(), strict=True)))
        except ValueError:
            problems.append(
                problem_at(
                    f"allowedIps.{index}",
                    IdentityErrorCode.INVALID_NETWORK,
                    "Not an IPv4/IPv6 address or network in CIDR form (host bits unset, e.g. 10.0.0.0/24).",
                )
            )
    return sorted(set(networks)), problems


def _key_problems(new: NewApiKey, now: datetime) -> list[FieldProblem | None]:
    name = new.name.strip()
    return [
        problem_at("name", IdentityErrorCode.REQUIRED, "Name the key.") if not name else None,
        problem_at("name", IdentityErrorCode.TOO_LONG, f"At most {MAX_NAME_CHARS} characters.")
        if len(name) > MAX_NAME_CHARS
        else None,
        problem_at("scopes", IdentityErrorCode.REQUIRED, "Grant at least one scope.")
        if not new.scopes
        else None,
        problem_at(
            "rateLimitPerMinute",
            IdentityErrorCode.INVALID_RATE_LIMIT,
            f"From 1 to {MAX_RATE_LIMIT_PER_MINUTE} requests per minute.",
        )
        if new.rate_limit_per_minute is not None
        and not 1 <= new.rate_limit_per_minute <= MAX_RATE_LIMIT_PER_MINUTE
        else None,
        problem_at("expiresAt", IdentityErrorCode.INVALID_EXPIRY, "The expiry must lie in the future.")
        if new.expires_at is not None and new.expires_at <= now
        else None,
    ]


def require_session(ctx: ServiceContext) -> Principal:
    """Keys and clients are managed from a user's sign-in session, never with a key or token."""
    principal = ctx.require_principal()
    if principal.kind is not PrincipalKind.SESSION:
        raise Forbidden("Sign in as a user to do this.", reason=RefusalReason.SESSION_REQUIRED)
    return principal


def key_row(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    new: NewApiKey,
    secret: str,
    rate_limit_per_minute: int,
    networks: list[str],
) -> ApiKey:
    """The row of a new key with ``secret`` (checked input: ``create_api_key``, the demo data)."""
    return ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        name=new.name.strip(),
        environment=new.environment,
        key_prefix=secret[: len(PREFIXES[new.environment]) + SHOWN_CHARACTERS],
        last_four=secret[-4:],
        secret_hash=hash_secret(secret),
        scopes=sorted({scope.value for scope in new.scopes}),
        allowed_ips=networks,
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=new.expires_at,
        usage_count=0,
        created_at=utcnow(),
    )


async def create_api_key(ctx: ServiceContext, new: NewApiKey) -> tuple[ApiKey, str]:
    """A key of the caller's own account in their home tenant, and its secret (shown only now)."""
    principal = require_session(ctx)
    now = utcnow()
    networks, network_problems = parse_networks(new.allowed_ips)
    reject(*_key_problems(new, now), *network_problems)
    secret = new_secret(new.environment)
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        active = await session.scalar(
            select(ApiKey.id)
            .where(ApiKey.user_id == principal.user_id, ApiKey.revoked_at.is_(None))
            .offset(MAX_ACTIVE_KEYS_PER_USER - 1)
            .limit(1)
        )
        if active is not None:
            raise invalid(
                None,
                IdentityErrorCode.TOO_MANY_API_KEYS,
                f"At most {MAX_ACTIVE_KEYS_PER_USER} active keys per user: revoke one first.",
            )
        key = key_row(
            principal.home_tenant_id,
            principal.user_id,
            new,
            secret,
            new.rate_limit_per_minute or ctx.settings.api_key_rate_limit_per_minute,
            networks,
        )
        session.add(key)
    return key, secret


async def list_api_keys(
    ctx: ServiceContext, user_id: uuid.UUID | None, include_revoked: bool, page: PageArgs
) -> Page[ApiKey]:
    """Newest first: the caller's own keys; a tenant admin's, every key of the tenant (or of
    ``user_id``)."""
    principal = require_session(ctx)
    statement = select(ApiKey)
    if not principal.has_any_role(*TENANT_ADMINS):
        statement = statement.where(ApiKey.user_id == principal.user_id)
    elif user_id is not None:
        statement = statement.where(ApiKey.user_id == user_id)
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return await paginate(ctx.read, statement, SortKey(ApiKey.created_at, ApiKey.id, True), page)


async def revoke_api_key(ctx: ServiceContext, key_id: uuid.UUID, reason: str | None) -> ApiKey:
    """Ends a key for good (its owner's, or any of the tenant's for a tenant admin); refused from
    the next request on, in every process (nothing is cached)."""
    principal = require_session(ctx)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise invalid("reason", IdentityErrorCode.TOO_LONG, f"At most {MAX_REASON_CHARS} characters.")
    async with ctx.transaction() as session:
        key = await session.get(ApiKey, key_id, with_for_update=True)
        if key is None or (key.user_id != principal.user_id and not principal.has_any_role(*TENANT_ADMINS)):
            raise NotFound("ApiKey")
        if key.revoked_at is not None:
            raise invalid(None, IdentityErrorCode.ALREADY_REVOKED, "This key was revoked already.")
        key.revoked_at = utcnow()
        key.revoke_reason = reason
        key.revoked_by_user_id = principal.user_id
        return key


# ---- authentication -----------------------------------------------------------------------


def _address_allowed(client_ip: str | None, networks: list[str]) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(client_ip or "")
    except ValueError:
        return False  # no address, or "unknown" (no peer address), is in no network
    return any(address in ipaddress.ip_network(network) for network in networks)


def key_refusal(key: ApiKey, user: User, tenant: Tenant, client_ip: str | None) -> RefusalReason | None:
    """Why the key may not act now from ``client_ip``, or None: the rules every use of a key meets,
    a request here (KeyGate) and a gateway's check (services/identity/key_validation.py) alike."""
    if key.revoked_at is not None:
        return RefusalReason.API_KEY_REVOKED
    if key.expires_at is not None and key.expires_at <= utcnow():
        return RefusalReason.API_KEY_EXPIRED
    # The rules of sign-in (a key never expires with a token): suspended, banned or deleted
    # users, suspended, deleted or trial-expired tenants.
    if user.status != UserStatus.ACTIVE or banned_now(user) or not tenant.can_sign_in:
        return RefusalReason.API_KEY_OWNER_INACTIVE
    if not _address_allowed(client_ip, key.allowed_ips):
        return RefusalReason.API_KEY_IP_NOT_ALLOWED
    return None


# What a request with a refused key is answered.
_REFUSED: dict[RefusalReason, tuple[type[Unauthenticated] | type[Forbidden], str]] = {
    RefusalReason.API_KEY_REVOKED: (Unauthenticated, "This API key was revoked."),
    RefusalReason.API_KEY_EXPIRED: (Unauthenticated, "This API key has expired."),
    RefusalReason.API_KEY_OWNER_INACTIVE: (
        Unauthenticated,
        "The account or tenant of this API key is suspended.",
    ),
    RefusalReason.API_KEY_IP_NOT_ALLOWED: (Forbidden, "This API key is not allowed from this address."),
}


class KeyUsage(PollingWorker):
    """Last use and usage count of keys, added up in memory and written every ``poll_seconds``
    (and when stopped): at most that much is lost if the process dies."""

    name = "api-key-usage"

    def __init__(self, db: Database, poll_seconds: float) -> None:
        super().__init__(poll_seconds)
        self.db = db
        self._pending: dict[uuid.UUID, tuple[int, datetime]] = {}

    def record(self, key_id: uuid.UUID) -> None:
        count, _ = self._pending.get(key_id, (0, None))
        self._pending[key_id] = (count + 1, utcnow())

    async def flush(self) -> int:
        """Writes what was counted since the last flush; how many keys it touched."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            async with self.db.transaction(ALL_TENANTS) as session:
                for key_id, (count, last_used) in pending.items():
                    await session.execute(
                        update(ApiKey)
                        .where(ApiKey.id == key_id)
                        .values(usage_count=ApiKey.usage_count + count, last_used_at=last_used)
                    )
        except Exception:
            # Counted again next time rather than lost (the database may be away for a moment).
            for key_id, (count, last_used) in pending.items():
                later_count, later_used = self._pending.get(key_id, (0, last_used))
                self._pending[key_id] = (count + later_count, later_used)
            raise
        return len(pending)

    async def run_round(self) -> Round:
        await self.flush()
        return Round.DONE

    async def stop(self) -> None:
        await super().stop()
        try:
            await self.flush()
        except Exception as exc:
            log.warning("api key usage not written at shutdown: %s", exc)


class KeyGate:
    """A process's checks of API keys: their requests per minute (the shared counters of the
    rate limiter, in one-minute windows) and their usage."""

    def __init__(self, db: Database, limiter: RateLimiter, usage_flush_seconds: float) -> None:
        self.limiter = RateLimiter(limiter.store, RATE_WINDOW_SECONDS)
        self.usage = KeyUsage(db, usage_flush_seconds)

    async def principal(self, secret: str, client_ip: str, reads: Reads) -> Principal:
        """The principal of an API key; UNAUTHENTICATED (unknown, revoked, expired, owner
        suspended), FORBIDDEN (wrong address) or RATE_LIMITED, each with its
        ``extensions.reason``."""
        if len(secret) > MAX_SECRET_CHARS:
            raise Unauthenticated("This API key is not valid.", reason=RefusalReason.API_KEY_INVALID)
        async with reads.session(ALL_TENANTS) as session:
            rows = (await session.execute(_KEY_ACCESS, {"secret_hash": hash_secret(secret)})).all()
        if not rows:
            raise Unauthenticated("This API key is not valid.", reason=RefusalReason.API_KEY_INVALID)
        key, user, tenant, _, _ = rows[0]
        if (reason := key_refusal(key, user, tenant, client_ip)) is not None:
            error, message = _REFUSED[reason]
            raise error(message, reason=reason)
        try:
            await self.limiter.check("api_key", {"key": (str(key.id), key.rate_limit_per_minute)})
        except RateLimited as limited:
            limited.extensions["reason"] = RefusalReason.API_KEY_RATE_LIMITED
            raise
        self.usage.record(key.id)
        roles: frozenset[Role] = frozenset(row[3] for row in rows if row[3] is not None)
        return Principal(
            user_id=key.user_id,
            home_tenant_id=key.tenant_id,
            roles=roles,
            permissions=held_permissions(roles, (row[4] for row in rows)),
            session_id=key.id,
            expires_at=key.expires_at,
            kind=PrincipalKind.API_KEY,
            scopes=known_scopes(key.scopes),
            # As for the user's sessions: nothing but the password change until it is made.
            password_change_required=user.must_change_password,
        )


async def visible_api_keys(ctx: ServiceContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, ApiKey]:
    """The keys of ``ids`` the caller may see: their own; a tenant admin's, the tenant's."""
    principal = ctx.principal
    if principal is None:
        return {}
    statement = select(ApiKey).where(ApiKey.id.in_(ids))
    if not principal.has_any_role(*TENANT_ADMINS):
        statement = statement.where(ApiKey.user_id == principal.user_id)
    async with ctx.read() as session:
        return {key.id: key for key in await session.scalars(statement)}
