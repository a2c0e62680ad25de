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


RoleSet = tuple[Role, ...]

# The tenant's staff: they see every order, invoice, payment and refund of the tenant, follow
# every order's status changes and moderate reviews.
TENANT_STAFF: RoleSet = (Role.MANAGER, Role.SUPPORT_AGENT, Role.TENANT_ADMIN)
ORDER_STAFF = TENANT_STAFF
BILLING_STAFF = TENANT_STAFF
REVIEW_MODERATORS = TENANT_STAFF
# Who sees every user of the tenant (others see themselves).
USER_READERS: RoleSet = (Role.TENANT_ADMIN, Role.MANAGER, Role.SUPPORT_AGENT, Role.AUDITOR)
# Who writes the catalog (products, categories, brands).
CATALOG_STAFF: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
# Who reads order statistics (revenue).
ORDER_STATISTICS_READERS: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
# Who moves orders through the steps reserved to operators (start and complete fulfilment) and
# administers billing (plans, overdue runs, other people's payment intents).
ORDER_OPERATORS: RoleSet = (Role.TENANT_ADMIN,)
BILLING_ADMINS: RoleSet = (Role.TENANT_ADMIN,)
# Who administers the tenant itself (its users, roles and settings).
TENANT_ADMINS: RoleSet = (Role.TENANT_ADMIN,)
# Who acts across tenants. (A platform admin also holds every tenant role's rights.)
PLATFORM_ADMINS: RoleSet = (Role.PLATFORM_ADMIN,)
# What the seeds mark service-only: service principals (OAuth2 client credentials, with the
# operation's scope) and these roles, nobody else; tenant admins no longer stand in. Today: void
# an invoice, confirm an order's payment, confirm (process) someone else's payment.
SERVICE_ONLY: RoleSet = (Role.PLATFORM_ADMIN,)
# Service-only too, for the operations not built yet: provisioning start/advance/fail, writing
# audit entries, sending notifications.
PROVISIONING_RUNNERS = SERVICE_ONLY
AUDIT_WRITERS = SERVICE_ONLY
NOTIFICATION_SENDERS = SERVICE_ONLY
