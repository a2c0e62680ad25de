"""What an API key or a service client may reach: the fixed list of scopes (``resource:action``),
and why a credential was refused (``extensions.reason`` beside ``extensions.code``).

A user's sign-in session has no scopes (it reaches what its roles allow); an API key or a service
token reaches only the fields that declare one of its scopes (``@hasScope``, ``@serviceOnly``),
and there still only what its principal's roles allow."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ApiScope(enum.StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    TENANTS_READ = "tenants:read"
    PRODUCTS_READ = "products:read"
    PRODUCTS_WRITE = "products:write"
    REVIEWS_WRITE = "reviews:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    INVOICES_READ = "invoices:read"
    INVOICES_WRITE = "invoices:write"
    PAYMENTS_READ = "payments:read"
    PAYMENTS_WRITE = "payments:write"
    USAGE_READ = "usage:read"  # read usage records, summaries and ratings
    USAGE_WRITE = "usage:write"  # record usage events, bill unbilled usage
    # The operations reserved to service principals (and platform admins): core/permissions.py
    # SERVICE_ONLY.
    INVOICES_VOID = "invoices:void"
    PAYMENTS_PROCESS = "payments:process"
    ORDERS_PROVISION = "orders:provision"  # startProvisioning, completeOrder
    ORDERS_PAYMENTS = "orders:payments"  # revertPayment (services and order payment staff)
    AUDIT_WRITE = "audit:write"  # append audit entries (recordAuditEntry, POST /audit-logs)
    API_KEYS_VALIDATE = "api_keys:validate"  # a gateway checks API keys: POST /api-keys/validate
    WALLET_READ = "wallet:read"  # read any user's wallet (userWallet)
    WALLET_WRITE = "wallet:write"  # post wallet entries, count usage, set quotas
    PROVISIONING_READ = "provisioning:read"  # read provisioning requests, statistics, workers
    PROVISIONING_WRITE = "provisioning:write"  # ask for, retry, suspend, reactivate, deprovision
    PROVISIONING_RUN = "provisioning:run"  # start, advance and fail requests (service-only)
    STREAMS_INGEST = "streams:ingest"  # report live streams' viewer counts (service-only)
    NOTIFICATIONS_SEND = "notifications:send"  # sendNotification (service-only)


class RefusalReason(enum.StrEnum):
    """``extensions.reason`` of a refused API key or service token; ``extensions.code`` stays
    UNAUTHENTICATED, FORBIDDEN or RATE_LIMITED."""

    API_KEY_INVALID = "API_KEY_INVALID"  # UNAUTHENTICATED: no such key (or a malformed one)
    API_KEY_EXPIRED = "API_KEY_EXPIRED"  # UNAUTHENTICATED
    API_KEY_REVOKED = "API_KEY_REVOKED"  # UNAUTHENTICATED
    API_KEY_OWNER_INACTIVE = "API_KEY_OWNER_INACTIVE"  # UNAUTHENTICATED: user or tenant suspended
    API_KEY_IP_NOT_ALLOWED = "API_KEY_IP_NOT_ALLOWED"  # FORBIDDEN: not from one of its allowed IPs
    API_KEY_RATE_LIMITED = "API_KEY_RATE_LIMITED"  # RATE_LIMITED: over its requests per minute
    SERVICE_CLIENT_REVOKED = "SERVICE_CLIENT_REVOKED"  # UNAUTHENTICATED: revoked or deleted client
    INSUFFICIENT_SCOPE = "INSUFFICIENT_SCOPE"  # FORBIDDEN: the field needs a scope it lacks
    SESSION_REQUIRED = "SESSION_REQUIRED"  # FORBIDDEN: the field is for users' sign-in sessions
    SERVICE_ONLY = "SERVICE_ONLY"  # FORBIDDEN: for service principals and platform admins
    # FORBIDDEN: an impersonation token (impersonateUser) may not change passwords, MFA, API keys
    # or service clients.
    IMPERSONATION_FORBIDDEN = "IMPERSONATION_FORBIDDEN"


_NAMES = frozenset(scope.value for scope in ApiScope)


def known_scopes(names: Iterable[str]) -> frozenset[ApiScope]:
    """The scopes these names give; names no scope has (any more) are left out."""
    return frozenset(ApiScope(name) for name in names if name in _NAMES)


def scopes_of(text: str) -> frozenset[ApiScope]:
    """The scopes of a space-separated list (an OAuth2 ``scope``)."""
    return known_scopes(text.split())
