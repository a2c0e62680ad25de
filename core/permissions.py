"""Who may do what: the roles, and the role sets per capability that the access directives and
the services both use (one statement of each rule)."""

from __future__ import annotations

import enum
from collections.abc import Iterable


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
# Who sees every user of the tenant (others see themselves): admin-only, as seed 004's
# "admin: full system access" against the other roles' business and support access.
USER_READERS: RoleSet = (Role.TENANT_ADMIN,)
# Who writes the catalog (products, categories, brands).
CATALOG_STAFF: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
# Who deletes products (seed 004: admin-only; managers archive).
PRODUCT_DELETERS: RoleSet = (Role.TENANT_ADMIN,)
# Who reads order statistics (revenue).
ORDER_STATISTICS_READERS: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
# Who administers billing (plans, overdue runs, other people's payment intents).
BILLING_ADMINS: RoleSet = (Role.TENANT_ADMIN,)
# Who administers the tenant itself (its users, roles and settings).
TENANT_ADMINS: RoleSet = (Role.TENANT_ADMIN,)
# Who acts across tenants. (A platform admin also holds every tenant role's rights.)
PLATFORM_ADMINS: RoleSet = (Role.PLATFORM_ADMIN,)
# What the seeds mark service-only: service principals (OAuth2 client credentials, with the
# operation's scope) and these roles, nobody else; tenant admins no longer stand in. Today: void
# an invoice, confirm an order's payment, confirm (process) someone else's payment, start and
# complete an order's fulfilment (provisioning).
SERVICE_ONLY: RoleSet = (Role.PLATFORM_ADMIN,)
# Service-only too: provisioning start/advance/fail (services/provisioning), writing audit
# entries, sending notifications.
PROVISIONING_RUNNERS = SERVICE_ONLY
# Who besides a request's owner sees and manages every provisioning request of the tenant (retry,
# suspend, reactivate, complete manual ones, deprovision) and reads the worker status.
PROVISIONING_STAFF = TENANT_STAFF
AUDIT_WRITERS = SERVICE_ONLY
NOTIFICATION_SENDERS = SERVICE_ONLY
# Who edits, previews and test-sends the tenant's notification mail templates.
NOTIFICATION_TEMPLATE_EDITORS = TENANT_ADMINS
# DNS zones and records (services/dns/): the tenant's staff read them, managers and admins
# change them; zone templates, IP allocations and the cross-tenant views are platform-level.
DNS_READERS = TENANT_STAFF
DNS_WRITERS: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
DNS_ADMINS = PLATFORM_ADMINS
# Live streams and moderation (services/streams): who lists and resolves reports (and sees
# banned streams) in a tenant; platform admins do it in every tenant. Who manages the tenant's
# help links and reads its client error reports (services/platform).
STREAM_MODERATORS: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
HELP_LINK_EDITORS = TENANT_ADMINS
CLIENT_ERROR_READERS: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
# Support tickets (services/tickets/): everyone opens tickets and sees their own; these see every
# ticket of the tenant, write internal notes, set status and priority, and are who tickets are
# assigned to.
TICKET_STAFF: RoleSet = (Role.SUPPORT_AGENT, Role.TENANT_ADMIN, Role.MANAGER)
# Who besides service principals may move an order's payment back (revertPayment).
PAYMENT_REVERTERS: RoleSet = (Role.MANAGER, Role.TENANT_ADMIN)
# Who besides service principals sets an order item's delivery and (re)sends its e-mail.
DELIVERY_STAFF = ORDER_STAFF


# The permission catalogue (`resource:action`): what a tenant's custom roles may grant
# (services/identity/roles.py refuses any other). The permissions checked today beside the role
# sets above are ORDERS_READ (every order of the tenant), USERS_READ (every user) and
# PRODUCTS_WRITE (write the catalog, not delete products).
PERMISSION_RESOURCES = (
    "users",
    "tenants",
    "roles",
    "products",
    "categories",
    "brands",
    "reviews",
    "orders",
    "invoices",
    "payments",
    "refunds",
    "plans",
    "api_keys",
    "audit",
)
PERMISSION_ACTIONS = ("read", "write", "delete")
PERMISSIONS: frozenset[str] = frozenset(
    f"{resource}:{action}" for resource in PERMISSION_RESOURCES for action in PERMISSION_ACTIONS
)
ORDERS_READ = "orders:read"
USERS_READ = "users:read"
PRODUCTS_WRITE = "products:write"
PRODUCTS_DELETE = "products:delete"


def _reads(*resources: str) -> frozenset[str]:
    return frozenset(f"{resource}:read" for resource in resources)


_SHOP = ("orders", "invoices", "payments", "refunds", "reviews")
# What each system role grants (listed with the roles; they cannot be changed). PLATFORM_ADMIN
# is platform-level and holds every permission anyway.
SYSTEM_ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.PLATFORM_ADMIN: PERMISSIONS,
    Role.TENANT_ADMIN: PERMISSIONS,
    Role.MANAGER: _reads(*_SHOP, "products", "categories", "brands", "plans")
    | frozenset({"products:write", "categories:write", "brands:write", "reviews:write"})
    | frozenset({"categories:delete", "brands:delete"}),
    Role.SUPPORT_AGENT: _reads(*_SHOP, "products", "categories", "brands") | {"reviews:write"},
    Role.AUDITOR: _reads("audit", "roles"),
    Role.USER: frozenset(),
}
TENANT_ROLES: tuple[Role, ...] = tuple(role for role in Role if role is not Role.PLATFORM_ADMIN)


def held_permissions(roles: Iterable[Role], grants: Iterable[Iterable[str] | None] = ()) -> frozenset[str]:
    """What a principal holds: its system roles' defaults and its custom roles' ``grants``
    (None for a row without one)."""
    held: set[str] = set()
    for role in roles:
        held |= SYSTEM_ROLE_PERMISSIONS[role]
    for granted in grants:
        held.update(granted or ())
    return frozenset(held)
