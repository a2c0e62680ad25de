"""Every entity type of the schema, with how to make a real row of it and who may see one.

Rows are inserted through the ORM in the row's tenant (as tests/test_federation.py inserts users):
each maker writes the row and what it hangs on (a review's product, a dispute's payment and
refund), so that any number of them is quick to make."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.base import utcnow
from models.billing import BillingSubscription, Invoice, Payment, PaymentMethod, Plan, PlanInterval, Refund
from models.catalog import Brand, Category, Product, ProductStatus, Review
from models.disputes import Dispute
from models.dns import DnsRecord, DnsRecordType, DnsZone, DnsZoneTemplate
from models.identity.accounts import AuthSession, User
from models.identity.api_keys import ApiKey, ApiKeyEnvironment, ServiceClient
from models.identity.invites import Invite
from models.identity.tenant_profile import TenantDomain
from models.notifications import Notification, NotificationType
from models.orders import Order
from models.payouts import Transfer
from models.promotions import PromotionCode, PromotionKind
from models.provisioning import ProvisioningRequest
from models.shipping import ShippingMethod
from models.streams import ModerationReport, ReportTarget, Stream
from models.tickets import Ticket
from models.usage import PricingModel, PricingRule, UsageRecord
from server.runtime import Runtime
from tests.support.identity import Account, quick_password_hash

_numbers = itertools.count(1)


def _hex(length: int = 64) -> str:
    return (uuid.uuid4().hex * 2)[:length]


class Rows:
    """Inserts rows, each flushed before the next (a child after the row it refers to)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def add(self, tenant_id: uuid.UUID | None, *rows: Any) -> uuid.UUID:
        """The rows in ``tenant_id`` (None: platform-wide rows); the last one's id."""
        scope = TenantScope.all_tenants() if tenant_id is None else TenantScope.of(tenant_id)
        for row in rows:
            row.id = row.id or uuid.uuid4()
            if tenant_id is not None:
                row.tenant_id = tenant_id
        async with self.runtime.db.transaction(scope) as session:
            for row in rows:
                session.add(row)
                await session.flush()
        last: uuid.UUID = rows[-1].id
        return last


Maker = Callable[[Rows, Account], Awaitable[uuid.UUID]]


@dataclass(frozen=True)
class Kind:
    """An entity type: ``make`` writes a row of it in the owner's tenant (the owner's own where rows
    have one); ``viewer`` are the roles of an owner who may see it."""

    name: str
    make: Maker
    viewer: tuple[Role, ...] = (Role.USER,)
    # A row of the viewer's tenant that the type's own rule keeps from the viewer.
    hidden: Maker | None = None
    # Roles of a caller of the same tenant who may see none of the viewer's rows.
    lesser: tuple[Role, ...] | None = None
    # Rows of the platform (no tenant): there is no other tenant's row to ask for.
    tenanted: bool = True
    # The tables the references read, one statement each, whatever their number: the type's own,
    # then those of the types whose rule decides (a review is visible where its product is).
    reads: tuple[str, ...] = ()

    @property
    def home(self) -> str:
        return "platform" if not self.tenanted else "acme"


def _own(make: Callable[[uuid.UUID, int], Any]) -> Maker:
    """A maker of one row: ``make(owner's user id, a fresh number)``."""

    async def maker(rows: Rows, owner: Account) -> uuid.UUID:
        return await rows.add(owner.tenant_id, make(owner.user_id, next(_numbers)))

    return maker


def _platform(make: Callable[[int], Any]) -> Maker:
    async def maker(rows: Rows, owner: Account) -> uuid.UUID:
        return await rows.add(None, make(next(_numbers)))

    return maker


def _of_colleague(make: Maker) -> Maker:
    """The same kind of row, of another user of the owner's tenant."""

    async def maker(rows: Rows, owner: Account) -> uuid.UUID:
        colleague = await rows.add(owner.tenant_id, _user(owner.user_id, next(_numbers)))
        return await make(rows, Account(owner.tenant_slug, owner.tenant_id, colleague, "", "", "", ""))

    return maker


async def _tenant(rows: Rows, owner: Account) -> uuid.UUID:
    return owner.tenant_id


def _user(_owner: uuid.UUID, n: int) -> User:
    return User(email=f"entity{n}@fed.example", full_name=f"Entity {n}", password_hash=quick_password_hash())


def _product(status: ProductStatus) -> Callable[[uuid.UUID, int], Product]:
    return lambda _owner, n: Product(
        sku=f"SKU-{n}", name=f"Product {n}", base_price=1000, currency="EUR", status=status
    )


def _review(status: ProductStatus) -> Maker:
    async def maker(rows: Rows, owner: Account) -> uuid.UUID:
        product = _product(status)(owner.user_id, next(_numbers))
        product.id = uuid.uuid4()
        review = Review(product_id=product.id, buyer_id=owner.user_id, rating=5)
        return await rows.add(owner.tenant_id, product, review)

    return maker


def _payment(owner: uuid.UUID, n: int) -> Payment:
    return Payment(
        id=uuid.uuid4(),
        user_id=owner,
        provider="stripe",
        provider_payment_id=f"pi_{n}_{_hex(8)}",
        amount=1000,
        currency="EUR",
    )


def _refund_of(payment: Payment) -> Refund:
    return Refund(id=uuid.uuid4(), payment_id=payment.id, amount=100, currency="EUR")


async def _refund(rows: Rows, owner: Account) -> uuid.UUID:
    payment = _payment(owner.user_id, next(_numbers))
    return await rows.add(owner.tenant_id, payment, _refund_of(payment))


async def _dispute(rows: Rows, owner: Account) -> uuid.UUID:
    payment = _payment(owner.user_id, next(_numbers))
    refund = _refund_of(payment)
    dispute = Dispute(
        payment_id=payment.id,
        refund_id=refund.id,
        provider="stripe",
        provider_dispute_id=f"dp_{_hex(12)}",
        amount=100,
        currency="EUR",
    )
    return await rows.add(owner.tenant_id, payment, refund, dispute)


def _plan(_owner: uuid.UUID, n: int) -> Plan:
    return Plan(
        id=uuid.uuid4(),
        code=f"plan-{n}",
        name=f"Plan {n}",
        amount=1000,
        currency="EUR",
        interval=PlanInterval.MONTH,
    )


async def _subscription(rows: Rows, owner: Account) -> uuid.UUID:
    plan = _plan(owner.user_id, next(_numbers))
    now = utcnow()
    subscription = BillingSubscription(
        user_id=owner.user_id,
        plan_id=plan.id,
        current_period_start=now,
        current_period_end=now + timedelta(days=30),
    )
    return await rows.add(owner.tenant_id, plan, subscription)


def _order(owner: uuid.UUID, n: int) -> Order:
    return Order(id=uuid.uuid4(), number=f"ORD-{n}", user_id=owner, currency="EUR", subtotal=1000, total=1000)


async def _transfer(rows: Rows, owner: Account) -> uuid.UUID:
    order = _order(owner.user_id, next(_numbers))
    transfer = Transfer(
        seller_id=owner.user_id, order_id=order.id, amount=900, platform_fee=100, currency="EUR"
    )
    return await rows.add(owner.tenant_id, order, transfer)


async def _pricing_rule(rows: Rows, owner: Account) -> uuid.UUID:
    n = next(_numbers)
    product = _product(ProductStatus.ACTIVE)(owner.user_id, n)
    product.id = uuid.uuid4()
    rule = PricingRule(product_id=product.id, metric=f"metric_{n}", model=PricingModel.FLAT, currency="EUR")
    return await rows.add(owner.tenant_id, product, rule)


def _zone(_owner: uuid.UUID, n: int) -> DnsZone:
    return DnsZone(
        id=uuid.uuid4(),
        name=f"zone{n}.example",
        soa_mname="ns1.example.net.",
        soa_rname="hostmaster.example.net.",
        serial=2026120401,
        refresh=3600,
        retry=600,
        expire=604800,
        minimum=300,
        default_ttl=3600,
    )


async def _record(rows: Rows, owner: Account) -> uuid.UUID:
    zone = _zone(owner.user_id, next(_numbers))
    record = DnsRecord(zone_id=zone.id, name="www", type=DnsRecordType.A, content="192.0.2.1", ttl=3600)
    return await rows.add(owner.tenant_id, zone, record)


def _stream(banned: bool) -> Callable[[uuid.UUID, int], Stream]:
    return lambda owner, n: Stream(
        user_id=owner, title=f"Stream {n}", key_hash=_hex(), key_ciphertext=_hex(), banned=banned
    )


def _session(owner: uuid.UUID, n: int) -> AuthSession:
    return AuthSession(user_id=owner)


def _api_key(owner: uuid.UUID, n: int) -> ApiKey:
    return ApiKey(
        user_id=owner,
        name=f"Key {n}",
        environment=ApiKeyEnvironment.TEST,
        key_prefix="tg_test_Ab3dE6",
        last_four="wxyz",
        secret_hash=_hex(),
        rate_limit_per_minute=600,
    )


def _invoice(owner: uuid.UUID, n: int) -> Invoice:
    return Invoice(number=f"INV-2026-{n:06d}", customer_id=owner, currency="EUR", subtotal=1000, total=1000)


def _payment_method(owner: uuid.UUID, n: int) -> PaymentMethod:
    return PaymentMethod(user_id=owner, provider="stripe", provider_method_id=f"pm_{n}_{_hex(8)}")


def _usage(owner: uuid.UUID, n: int) -> UsageRecord:
    return UsageRecord(
        event_id=f"evt-{n}",
        body_digest=_hex(),
        customer_id=owner,
        metric="api_calls",
        quantity=1,
        occurred_at=utcnow(),
        period="2026-12",
    )


def _provisioning(owner: uuid.UUID, n: int) -> ProvisioningRequest:
    return ProvisioningRequest(user_id=owner)


def _ticket(owner: uuid.UUID, n: int) -> Ticket:
    return Ticket(number=n, subject=f"Ticket {n}", description="Help", requester_id=owner)


def _notification(owner: uuid.UUID, n: int) -> Notification:
    return Notification(
        user_id=owner, type=NotificationType.ORDER_PAID, title=f"Paid {n}", body="Your order is paid."
    )


def _mine(name: str, make: Maker, *tables: str) -> Kind:
    """A type whose rows are their owner's (and staff's): a colleague's row is out of reach."""
    return Kind(name, make, hidden=_of_colleague(make), reads=tables)


def _invite(_owner: uuid.UUID, n: int) -> Invite:
    tomorrow = utcnow() + timedelta(days=1)
    return Invite(email=f"invitee{n}@fed.example", roles=["USER"], token_hash=_hex(), expires_at=tomorrow)


def _domain(_owner: uuid.UUID, n: int) -> TenantDomain:
    tomorrow = utcnow() + timedelta(days=1)
    return TenantDomain(
        hostname=f"shop{n}.fed.example", challenge_token=_hex(), challenge_expires_at=tomorrow
    )


def _service_client(n: int) -> ServiceClient:
    return ServiceClient(client_id=f"tgc_{_hex(16)}", name=f"Client {n}", secret_hash=_hex())


def _report(owner: uuid.UUID, n: int) -> ModerationReport:
    return ModerationReport(reporter_id=owner, target_type=ReportTarget.USER, target_id=owner, reason="spam")


def _only(roles: tuple[Role, ...], name: str, make: Maker, table: str) -> Kind:
    """A type for some roles of the tenant only: a USER of it sees none."""
    return Kind(name, make, viewer=roles, lesser=(Role.USER,), reads=(table,))


def _of_platform(name: str, make: Callable[[int], Any], table: str) -> Kind:
    """Platform-wide rows, for platform admins only (a tenant admin sees none)."""
    return Kind(
        name,
        _platform(make),
        viewer=(Role.PLATFORM_ADMIN,),
        lesser=(Role.TENANT_ADMIN,),
        tenanted=False,
        reads=(table,),
    )


# Staff-only types are seen by a MANAGER (every staff role set here holds it) and by no USER.
STAFF = (Role.MANAGER,)
KINDS: tuple[Kind, ...] = (
    Kind("Tenant", _tenant, reads=("tenants",)),
    _only((Role.TENANT_ADMIN,), "User", _own(_user), "users"),
    _mine("Session", _own(_session), "auth_sessions"),
    _mine("ApiKey", _own(_api_key), "api_keys"),
    _of_platform("ServiceClient", _service_client, "service_clients"),
    _only((Role.TENANT_ADMIN,), "Invite", _own(_invite), "invites"),
    Kind("TenantDomain", _own(_domain), reads=("tenant_domains",)),
    Kind(
        "Category",
        _own(lambda _, n: Category(name=f"Category {n}", slug=f"category-{n}")),
        reads=("categories",),
    ),
    Kind("Brand", _own(lambda _, n: Brand(name=f"Brand {n}", slug=f"brand-{n}")), reads=("brands",)),
    # DRAFT products, and reviews of them, are out of a USER's reach.
    Kind(
        "Product",
        _own(_product(ProductStatus.ACTIVE)),
        hidden=_own(_product(ProductStatus.DRAFT)),
        reads=("products",),
    ),
    Kind(
        "Review",
        _review(ProductStatus.ACTIVE),
        hidden=_review(ProductStatus.DRAFT),
        reads=("reviews", "products"),
    ),
    _mine("Order", _own(_order), "orders"),
    _only(
        STAFF,
        "PromotionCode",
        _own(lambda _, n: PromotionCode(code=f"SAVE{n}", kind=PromotionKind.PERCENT, percent_bps=1000)),
        "promotion_codes",
    ),
    Kind(
        "ShippingMethod",
        _own(lambda _, n: ShippingMethod(code=f"ship-{n}", name=f"Ship {n}", price=500, currency="EUR")),
        reads=("shipping_methods",),
    ),
    _mine("Invoice", _own(_invoice), "invoices"),
    _mine("Payment", _own(_payment), "payments"),
    # Refunds and disputes are visible where their payment is (Payment's rule decides).
    _mine("Refund", _refund, "refunds", "payments"),
    _mine("Dispute", _dispute, "disputes", "payments"),
    _mine("PaymentMethod", _own(_payment_method), "payment_methods"),
    Kind("Plan", _own(_plan), reads=("plans",)),
    _mine("BillingSubscription", _subscription, "billing_subscriptions"),
    _mine("Transfer", _transfer, "transfers"),
    _mine("UsageRecord", _own(_usage), "usage_records"),
    Kind("PricingRule", _pricing_rule, reads=("pricing_rules",)),
    _only(STAFF, "DnsZone", _own(_zone), "dns_zones"),
    _only(STAFF, "DnsRecord", _record, "dns_records"),
    _of_platform("DnsZoneTemplate", lambda n: DnsZoneTemplate(name=f"template-{n}"), "dns_zone_templates"),
    _mine("ProvisioningRequest", _own(_provisioning), "provisioning_requests"),
    # A banned stream is out of reach but for its owner and moderators.
    Kind("Stream", _own(_stream(False)), hidden=_of_colleague(_own(_stream(True))), reads=("streams",)),
    _only(STAFF, "ModerationReport", _own(_report), "moderation_reports"),
    _mine("Ticket", _own(_ticket), "tickets"),
    _mine("Notification", _own(_notification), "notifications"),
)
