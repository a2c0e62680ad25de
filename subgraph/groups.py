"""The split deployment's domain groups, written down once: which group serves each root class (the
one list of them: subgraph/build.py merges them all into the monolith's roots), which group owns the
entities of each schema module, and the fields one group contributes to another group's entity.

`tenantgraph serve --subgraph GROUP` serves one group as a federation subgraph
(subgraph/split.py derives it from the monolith's schema); `all`, the default, is the monolith.
Value types (connections, edges, payloads, PageInfo, Money, UserError, inputs, enums, scalars)
belong to no group: each subgraph has those its fields reach, @shareable where several do."""

from __future__ import annotations

from typing import Final, get_args

from core.settings import SubgraphName
from resolvers.audit import AuditMutation, AuditQuery
from resolvers.billing.disputes import DisputeMutation, DisputeQuery
from resolvers.billing.gateways import GatewayMutation
from resolvers.billing.payouts import PayoutMutation, PayoutQuery
from resolvers.billing.roots import BillingMutation, BillingQuery
from resolvers.billing.usage import UsageMutation, UsageQuery
from resolvers.catalog.mutations import CatalogMutation
from resolvers.catalog.queries import CatalogQuery
from resolvers.dns.mutations import DnsMutation
from resolvers.dns.queries import DnsQuery
from resolvers.error_codes import ErrorCodeQuery
from resolvers.identity.accounts import IdentityMutation, IdentityQuery, IdentitySubscription
from resolvers.identity.api_keys import ApiKeyMutation, ApiKeyQuery
from resolvers.identity.impersonation import ImpersonationMutation
from resolvers.identity.invites import InviteMutation, InviteQuery
from resolvers.identity.linked_identities import LinkedIdentityMutation, LinkedIdentityQuery
from resolvers.identity.mfa import MfaMutation, MfaQuery
from resolvers.identity.oauth import OAuthMutation, OAuthQuery
from resolvers.identity.privacy import PrivacyMutation, PrivacyQuery
from resolvers.identity.profile import ProfileMutation, ProfileQuery
from resolvers.identity.roles import RoleMutation, RoleQuery
from resolvers.identity.sessions import SessionMutation, SessionQuery
from resolvers.identity.sign_in import SignInMutation
from resolvers.identity.tenant_profile import TenantProfileMutation, TenantProfileQuery
from resolvers.identity.tenant_signup import TenantSignupMutation
from resolvers.identity.user_admin import UserAdminMutation
from resolvers.identity.verification import VerificationMutation
from resolvers.identity.wallet import WalletMutation, WalletQuery
from resolvers.nodes import NodeQuery
from resolvers.notification_templates import NotificationTemplateMutation, NotificationTemplateQuery
from resolvers.notifications import NotificationMutation, NotificationQuery, NotificationSubscription
from resolvers.orders.delivery import OrderDeliveryMutation
from resolvers.orders.orders import OrderMutation, OrderQuery, OrderSubscription
from resolvers.orders.promotions import PromotionMutation, PromotionQuery
from resolvers.orders.shipping import ShippingMutation, ShippingQuery
from resolvers.platform import PlatformMutation, PlatformQuery
from resolvers.provisioning import ProvisioningMutation, ProvisioningQuery, ProvisioningSubscription
from resolvers.streams import StreamMutation, StreamQuery, StreamSubscription
from resolvers.tickets import TicketMutation, TicketQuery, TicketSubscription

ALL: Final = "all"
IDENTITY: Final = "identity"
COMMERCE: Final = "commerce"
OPERATIONS: Final = "operations"
SUPPORT: Final = "support"
# The groups of a split deployment (every name of SubgraphName but "all").
GROUPS: Final[tuple[SubgraphName, ...]] = tuple(name for name in get_args(SubgraphName) if name != ALL)

# The root classes each group serves (FederationQuery's `_service` is in every subgraph); the
# monolith's Query, Mutation and Subscription merge them all (subgraph/build.py), in this order.
ROOTS: Final[dict[SubgraphName, tuple[type, ...]]] = {
    IDENTITY: (
        # `node`/`nodes` and the entity interface Node live here (subgraph/split.py).
        NodeQuery,
        # `errorCodes` uses every error-code enum: they are identity's, so no other group has them unused.
        ErrorCodeQuery,
        AuditQuery,
        AuditMutation,
        IdentityQuery,
        IdentityMutation,
        IdentitySubscription,
        SignInMutation,
        ImpersonationMutation,
        VerificationMutation,
        ApiKeyQuery,
        ApiKeyMutation,
        SessionQuery,
        SessionMutation,
        OAuthQuery,
        OAuthMutation,
        LinkedIdentityQuery,
        LinkedIdentityMutation,
        InviteQuery,
        InviteMutation,
        RoleQuery,
        RoleMutation,
        UserAdminMutation,
        MfaQuery,
        MfaMutation,
        PrivacyQuery,
        PrivacyMutation,
        TenantProfileQuery,
        TenantProfileMutation,
        TenantSignupMutation,
        ProfileQuery,
        ProfileMutation,
        WalletQuery,
        WalletMutation,
    ),
    COMMERCE: (
        CatalogQuery,
        CatalogMutation,
        OrderQuery,
        OrderMutation,
        OrderSubscription,
        OrderDeliveryMutation,
        PromotionQuery,
        PromotionMutation,
        ShippingQuery,
        ShippingMutation,
        BillingQuery,
        BillingMutation,
        UsageQuery,
        UsageMutation,
        GatewayMutation,
        PayoutQuery,
        PayoutMutation,
        DisputeQuery,
        DisputeMutation,
    ),
    OPERATIONS: (
        DnsQuery,
        DnsMutation,
        ProvisioningQuery,
        ProvisioningMutation,
        ProvisioningSubscription,
    ),
    SUPPORT: (
        TicketQuery,
        TicketMutation,
        TicketSubscription,
        StreamQuery,
        StreamMutation,
        StreamSubscription,
        PlatformQuery,
        PlatformMutation,
        NotificationQuery,
        NotificationMutation,
        NotificationSubscription,
        NotificationTemplateQuery,
        NotificationTemplateMutation,
    ),
}
NODE_GROUP: Final[SubgraphName] = IDENTITY


def roots_of(kind: str) -> tuple[type, ...]:
    """Every group's root classes of one kind, "Query", "Mutation" or "Subscription": the end of each
    class's name (tests/federation/test_split.py checks that each class lands in exactly one)."""
    return tuple(cls for classes in ROOTS.values() for cls in classes if cls.__name__.endswith(kind))


# Object types implementing Node (and entities) belong to the group of the domain whose schema
# package declares them; so do the types no root field reaches (the userError code enums, from
# the domain's services package).
DOMAIN_GROUPS: Final[dict[str, SubgraphName]] = {
    "identity": IDENTITY,
    "audit": IDENTITY,
    "catalog": COMMERCE,
    "orders": COMMERCE,
    "billing": COMMERCE,
    "dns": OPERATIONS,
    "provisioning": OPERATIONS,
    "tickets": SUPPORT,
    "streams": SUPPORT,
    "platform": SUPPORT,
    "notifications": SUPPORT,
}
LAYERS: Final = ("schema", "services")

# Fields of one group's entity that another group serves, on its own copy of the entity (the key
# and these fields, resolved through the entity's resolve_reference): (type, field) -> group.
CONTRIBUTED: Final[dict[tuple[str, str], SubgraphName]] = {
    ("User", "orders"): COMMERCE,
}


def module_group(module: str) -> SubgraphName | None:
    """The group owning the types of a module (None: a module of shared value types)."""
    layer, _, rest = module.partition(".")
    return DOMAIN_GROUPS.get(rest.partition(".")[0]) if layer in LAYERS else None


# The background workers of a split deployment run in one group's processes each (the monolith,
# "all", runs every one). The outbox dispatcher, the access store, maintenance mode and API key
# usage counts are per process and run in every one.
MAIL: Final = "mail"
BILLING_JOBS: Final = "billing jobs"
DATA_EXPORTS: Final = "data exports"
WEB_PUSH: Final = "web push"
PROVISIONING: Final = "provisioning"
WORKER_GROUPS: Final[dict[str, SubgraphName]] = {
    MAIL: IDENTITY,
    DATA_EXPORTS: IDENTITY,
    BILLING_JOBS: COMMERCE,
    PROVISIONING: OPERATIONS,
    WEB_PUSH: SUPPORT,
}


def runs_worker(subgraph: SubgraphName, worker: str) -> bool:
    """Whether a process serving ``subgraph`` runs ``worker`` (a name of WORKER_GROUPS)."""
    return subgraph in (ALL, WORKER_GROUPS[worker])
