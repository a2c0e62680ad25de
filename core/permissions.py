"""Who may do what: the roles, and the role sets per capability that the access directives and
the services both use (one statement of each rule)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "PLATFORM_ADMIN"
    TENANT_ADMIN = "TENANT_ADMIN"
    MANAGER = "MANAGER"
    SUPPORT_AGENT = "SUPPORT_AGENT"
    AUDITOR = "AUDITOR"
    USER = "USER"
