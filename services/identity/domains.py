"""Custom domains of a tenant: claimed with a challenge, verified by a DNS TXT record (through the
resolver adapter, services/identity/dns.py) or by a file served over HTTP (HTTP_FILE, through
services/identity/domain_checks.py), resolved to their tenant once verified.

A hostname may be claimed by several tenants at once (a squatter's unverified claim blocks no one);
the first to publish the challenge and verify holds it, and no other tenant can then verify or add
it (DOMAIN_TAKEN) until it is removed."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from core.permissions import TENANT_ADMINS
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import Tenant
from models.identity.tenant_profile import DomainCheckMethod, TenantDomain
from services.context import ServiceContext
from services.identity.dns import DnsLookupFailed, txt_resolver
from services.identity.domain_checks import check_http_file
from services.identity.errors import IdentityErrorCode

log = logging.getLogger(__name__)

ALL_TENANTS = TenantScope.all_tenants()
MAX_HOSTNAME_LENGTH = 253
MAX_DOMAINS_PER_TENANT = 20
# Checks (DNS lookups, HTTP fetches) a tenant may have run per rate-limit window (they reach out).
VERIFY_ATTEMPTS_PER_WINDOW = 20
CHALLENGE_VALUE_PREFIX = "tenantgraph-verification="
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Top-level names of private networks: never one tenant's.
_RESERVED = ("localhost", "local", "localdomain", "internal", "lan", "home", "invalid", "onion")


def normalised_hostname(raw: str) -> str | None:
    """The hostname in the form it is stored and looked up in (lower case, no trailing dot), or
    None when it is none: letters, digits and inner hyphens in 2+ labels, punycode for others
    (xn--), no IP address, no wildcard, no reserved top-level name."""
    hostname = raw.strip().lower().removesuffix(".")
    if not hostname or len(hostname) > MAX_HOSTNAME_LENGTH or not hostname.isascii():
        return None
    labels = hostname.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit() or labels[-1] in _RESERVED:
        return None  # an IPv4 address, or a name no registry hands out
    return hostname


def hostname_problem(raw: str, field: str = "hostname") -> FieldProblem | None:
    if normalised_hostname(raw) is None:
        return FieldProblem(
            ("input", field),
            IdentityErrorCode.INVALID_HOSTNAME,
            "Enter a hostname such as shop.example.com (punycode for non-ASCII names, no port).",
        )
    return None


def challenge_name(settings: Settings, domain: TenantDomain) -> str:
    """Where the tenant publishes the TXT record."""
    return f"{settings.domain_challenge_prefix}.{domain.hostname}"


def challenge_value(domain: TenantDomain) -> str:
    return f"{CHALLENGE_VALUE_PREFIX}{domain.challenge_token}"


def _taken() -> InvalidInput:
    return invalid("hostname", IdentityErrorCode.DOMAIN_TAKEN, "Another tenant has verified this hostname.")


async def _held_by_other(ctx: ServiceContext, hostname: str, tenant_id: uuid.UUID) -> bool:
    # Across tenants: whether someone else holds it is all that is read.
    async with ctx.read(ALL_TENANTS) as session:
        holder = await session.scalar(
            select(TenantDomain.tenant_id).where(
                TenantDomain.hostname == hostname, TenantDomain.verified_at.is_not(None)
            )
        )
    return holder is not None and holder != tenant_id


def _renew(settings: Settings, domain: TenantDomain) -> None:
    domain.challenge_token = secrets.token_urlsafe(24)
    domain.challenge_expires_at = utcnow() + timedelta(seconds=settings.domain_challenge_ttl_seconds)


async def add_domain(
    ctx: ServiceContext,
    tenant_id: uuid.UUID,
    raw_hostname: str,
    method: DomainCheckMethod = DomainCheckMethod.DNS_TXT,
) -> TenantDomain:
    """Claims the hostname for the tenant and answers its challenge, to be met by ``method``.
    Adding one the tenant has already claimed answers that claim (with a fresh challenge once the
    old one expired; an unverified claim takes the method asked for)."""
    ctx.require_role(*TENANT_ADMINS)
    problem = hostname_problem(raw_hostname)
    hostname = normalised_hostname(raw_hostname)
    if problem is not None or hostname is None:
        raise InvalidInput(*([problem] if problem else []))
    if await _held_by_other(ctx, hostname, tenant_id):
        raise _taken()
    async with ctx.transaction(ctx.scope) as session:
        # Locking the tenant serialises its additions: the count below stays exact.
        await locked_or_not_found(session, Tenant, tenant_id)
        domains = list(await session.scalars(select(TenantDomain).where(TenantDomain.tenant_id == tenant_id)))
        existing = next((d for d in domains if d.hostname == hostname), None)
        if existing is not None:
            if existing.verified_at is None:
                existing.method = method
                if existing.challenge_expires_at <= utcnow():
                    _renew(ctx.settings, existing)
            return existing
        if len(domains) >= MAX_DOMAINS_PER_TENANT:
            raise invalid(
                "hostname",
                IdentityErrorCode.TOO_MANY_DOMAINS,
                f"A tenant may have at most {MAX_DOMAINS_PER_TENANT} domains; remove one first.",
            )
        domain = TenantDomain(id=uuid.uuid4(), tenant_id=tenant_id, hostname=hostname, method=method)
        _renew(ctx.settings, domain)
        session.add(domain)
        return domain


async def _domain(session: AsyncSession, domain_id: uuid.UUID) -> TenantDomain:
    return await locked_or_not_found(session, TenantDomain, domain_id)


async def _check_record(ctx: ServiceContext, domain: TenantDomain) -> None:
    """Raises the userError of a challenge that is not published (or cannot be looked up)."""
    name = challenge_name(ctx.settings, domain)
    try:
        records = await txt_resolver(ctx.settings).txt_records(name)
    except DnsLookupFailed as exc:
        # The detail names our resolvers: logged, not told.
        log.warning("TXT lookup of %s failed: %s", name, exc)
        raise invalid(
            "id", IdentityErrorCode.DNS_LOOKUP_FAILED, f"The DNS lookup of {name} failed; try again later."
        ) from exc
    if not records:
        raise invalid("id", IdentityErrorCode.DNS_RECORD_MISSING, f"No TXT record found at {name}.")
    if challenge_value(domain) not in (record.strip() for record in records):
        raise invalid(
            "id",
            IdentityErrorCode.DNS_RECORD_MISMATCH,
            f"The TXT records at {name} do not hold the challenge value {challenge_value(domain)}.",
        )


async def _check(ctx: ServiceContext, domain: TenantDomain) -> None:
    if domain.method == DomainCheckMethod.HTTP_FILE:
        await check_http_file(ctx.settings, domain.hostname, domain.challenge_token, challenge_value(domain))
    else:
        await _check_record(ctx, domain)


async def verify_domain(ctx: ServiceContext, domain_id: uuid.UUID) -> TenantDomain:
    """Looks the challenge up (in DNS, or over HTTP) and, when it is there, marks the domain
    verified."""
    ctx.require_role(*TENANT_ADMINS)
    async with ctx.read() as session:
        domain = await session.get(TenantDomain, domain_id)
        if domain is None:
            raise NotFound("TenantDomain")
    if domain.verified_at is not None:
        return domain
    if domain.challenge_expires_at <= utcnow():
        raise invalid(
            "id",
            IdentityErrorCode.DOMAIN_CHALLENGE_EXPIRED,
            "The challenge has expired; add the domain again for a fresh one.",
        )
    if await _held_by_other(ctx, domain.hostname, domain.tenant_id):
        raise _taken()
    await ctx.rate_limiter.check(
        "domain_verify", {"tenant": (str(domain.tenant_id), VERIFY_ATTEMPTS_PER_WINDOW)}
    )
    checked_token, checked_method = domain.challenge_token, domain.method
    await _check(ctx, domain)
    try:
        async with ctx.transaction() as session:
            domain = await _domain(session, domain_id)
            # Renewed meanwhile: what was looked up is no longer the challenge.
            if (domain.challenge_token, domain.method) != (checked_token, checked_method):
                raise invalid(
                    "id", IdentityErrorCode.DNS_RECORD_MISMATCH, "The challenge changed meanwhile; try again."
                )
            if domain.verified_at is None:
                domain.verified_at = utcnow()
                await session.flush()
    except IntegrityError as exc:  # another tenant verified it a moment ago
        raise _taken() from exc
    return domain


async def remove_domain(ctx: ServiceContext, domain_id: uuid.UUID) -> TenantDomain:
    ctx.require_role(*TENANT_ADMINS)
    async with ctx.transaction() as session:
        domain = await _domain(session, domain_id)
        await session.delete(domain)
        return domain
