"""The identity domain's userError codes."""

from __future__ import annotations

import enum


class IdentityErrorCode(enum.StrEnum):
    """userError codes of the identity mutations (sign-in, accounts, users, tenants)."""

    # Sign-in and sessions
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"  # tenant, email or password wrong (one answer for all)
    ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"
    TENANT_SUSPENDED = "TENANT_SUSPENDED"
    UNKNOWN_TENANT = "UNKNOWN_TENANT"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    REFRESH_TOKEN_EXPIRED = "REFRESH_TOKEN_EXPIRED"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # a rotated token came back: its session is ended
    SESSION_REVOKED = "SESSION_REVOKED"
    # Account and tenant input
    INVALID_EMAIL = "INVALID_EMAIL"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    UNCHANGED = "UNCHANGED"  # the new password is the current one
    INVALID_SLUG = "INVALID_SLUG"
    RESERVED_SLUG = "RESERVED_SLUG"
    # Administration
    CONFLICT = "CONFLICT"  # the email or slug is taken, or the row changed meanwhile
    CONFUSABLE_EMAIL = "CONFUSABLE_EMAIL"  # the email looks like another account's (TR39 skeleton)
    FORBIDDEN = "FORBIDDEN"  # a field only platform admins may set
    CANNOT_SUSPEND_SELF = "CANNOT_SUSPEND_SELF"
    CANNOT_DEMOTE_SELF = "CANNOT_DEMOTE_SELF"
    CANNOT_SUSPEND_OWN_TENANT = "CANNOT_SUSPEND_OWN_TENANT"
    INVALID_TRANSITION = "INVALID_TRANSITION"  # e.g. reactivating a cancelled tenant
