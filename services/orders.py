"""Orders: placed from the cart or from explicit items, moved through their life cycle, read by
their owner and the tenant's staff, and summed up in statistics.

- Numbers are per tenant, readable and gapless: ORD-000001 (services.counters, same transaction).
- Items snapshot sku, name and unit price; every amount comes from services.pricing.
- Tracked stock (Product.stock_quantity not null) is taken when the order is placed and given back
  when it is cancelled; the product rows are locked in id order, so concurrent orders take turns.
- Every status change goes through services.order_states (history, outbox event).
- create, submit, confirmPayment and cancel run through services.idempotency.run_once.
- Tenant settings read here: ``taxRateBps`` (int, basis points, default 0) and ``discountCodes``
  ({"CODE": {"percentBps": 1000} | {"amount": 500, "currency": "EUR"}}; codes are case-insensitive).
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from broadcaster import Broadcast
from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, FieldProblem, Forbidden, InvalidInput, NotFound, invalid
from core.permissions import ORDER_OPERATORS, ORDER_STAFF, ORDER_STATISTICS_READERS
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import new_id, utcnow
from models.catalog import Product, ProductStatus
from models.identity import Tenant, User
from models.orders import CartItem, Order, OrderItem, OrderStatus
from realtime.stream import domain_events
from services import pricing
from services.cart import (
    attributes_problem,
    cart_items,
    lock_cart,
    product_available,
    quantity_problem,
    unavailable,
)
from services.context import ServiceContext
from services.counters import next_value
from services.idempotency import run_once
from services.identity.auth import live_principal
from services.money import MAX_AMOUNT
from services.order_states import ORDER_STATUS_CHANGED, lock_order, move, record_created

S = OrderStatus
# Orders in these states brought money in (minus what was refunded).
REVENUE_STATUSES = (S.PAID, S.PROVISIONING, S.COMPLETED, S.PARTIALLY_REFUNDED)

MAX_ORDER_LINES = 100
MAX_NOTES_CHARS = 2_000
MAX_REASON_CHARS = 500
MAX_STATISTICS_DAYS = 400
NUMBER_FORMAT = "ORD-{:06d}"

# ISO 3166-1 alpha-2, every officially assigned code.
_ISO_3166_ALPHA_2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ISO_3166_ALPHA_2.split())


# ---- access ---------------------------------------------------------------------------------


def is_staff(principal: Principal) -> bool:
    return principal.has_any_role(*ORDER_STAFF)


def can_read_order(principal: Principal | None, order: Order) -> bool:
    """The owner, or the tenant's staff; for everyone else the order does not exist."""
    return principal is not None and (order.user_id == principal.user_id or is_staff(principal))


# ---- input ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    company: str | None = None
    line2: str | None = None
    state: str | None = None
    phone: str | None = None


# (python name, GraphQL name, max length, required)
ADDRESS_FIELDS = (
    ("name", "name", 200, True),
    ("company", "company", 200, False),
    ("line1", "line1", 300, True),
    ("line2", "line2", 300, False),
    ("city", "city", 100, True),
    ("state", "state", 100, False),
    ("postal_code", "postalCode", 20, True),
    ("country", "country", 2, True),
    ("phone", "phone", 40, False),
)


def address_problems(field_name: str, address: Address) -> list[FieldProblem]:
    problems = []
    for name, graphql_name, limit, required in ADDRESS_FIELDS:
        value = (getattr(address, name) or "").strip()
        where = ("input", field_name, graphql_name)
        if required and not value:
            problems.append(FieldProblem(where, "REQUIRED", f"{graphql_name} is required."))
        elif name == "country":
            if value.upper() not in COUNTRY_CODES:
                problems.append(
                    FieldProblem(where, "INVALID_COUNTRY", "Use an ISO 3166-1 alpha-2 code like DE.")
                )
        elif len(value) > limit:
            problems.append(
                FieldProblem(where, "TOO_LONG", f"{graphql_name} has at most {limit} characters.")
            )
    return problems


def address_record(address: Address | None) -> dict[str, Any] | None:
    """What is stored: trimmed text, the country upper-cased, empty optional parts left out."""
    if address is None:
        return None
    record = {}
    for name, _, _, _ in ADDRESS_FIELDS:
        value = (getattr(address, name) or "").strip()
        if value:
            record[name] = value.upper() if name == "country" else value
    return record


@dataclass(frozen=True, slots=True)
class NewOrderLine:
    product_id: uuid.UUID
    quantity: int
    attributes: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class NewOrder:
    from_cart: bool = False
    items: list[NewOrderLine] | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    notes: str | None = None
    discount_code: str | None = None

    def request(self) -> dict[str, Any]:
        """The canonical request for the idempotency fingerprint."""
        return asdict(self)


def new_order_problems(new: NewOrder) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if new.from_cart and new.items:
        problems.append(
            FieldProblem(("input", "items"), "INVALID_INPUT", "Order from the cart or from items, not both.")
        )
    elif not new.from_cart and not new.items:
        problems.append(FieldProblem(("input", "items"), "REQUIRED", "Give items, or fromCart: true."))
    if new.items and len(new.items) > MAX_ORDER_LINES:
        problems.append(
            FieldProblem(
                ("input", "items"), "TOO_MANY_ITEMS", f"An order has at most {MAX_ORDER_LINES} items."
            )
        )
    for i, line in enumerate(new.items or []):
        problems += [
            p
            for p in (
                quantity_problem(f"items.{i}.quantity", line.quantity),
                attributes_problem(f"items.{i}.attributes", line.attributes),
            )
            if p
        ]
    if new.shipping_address is None:
        problems.append(
            FieldProblem(("input", "shippingAddress"), "REQUIRED", "A shipping address is required.")
        )
    else:
        problems += address_problems("shippingAddress", new.shipping_address)
    if new.billing_address is not None:
        problems += address_problems("billingAddress", new.billing_address)
    if new.notes is not None and len(new.notes) > MAX_NOTES_CHARS:
        problems.append(
            FieldProblem(("input", "notes"), "TOO_LONG", f"Notes have at most {MAX_NOTES_CHARS} characters.")
        )
    return problems


# ---- tenant settings --------------------------------------------------------------------------


def tax_rate_bps(settings: dict[str, Any]) -> int:
    rate = settings.get("taxRateBps", 0)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= pricing.BPS:
        raise invalid(None, "TAX_RATE_MISCONFIGURED", "The tenant's taxRateBps is not 0 to 10000.")
    return rate


def discount_for_code(settings: dict[str, Any], code: str | None, currency: str) -> pricing.Discount | None:
    """The discount of a tenant's code; an unknown code, or one for another currency, is a userError."""
    if code is None or not code.strip():
        return None
    codes = settings.get("discountCodes") or {}
    wanted = code.strip().upper()
    rule = next((v for k, v in codes.items() if isinstance(k, str) and k.upper() == wanted), None)
    refused = invalid("discountCode", "INVALID_DISCOUNT_CODE", "This discount code is not valid.")
    if not isinstance(rule, dict):
        raise refused
    try:
        if "percentBps" in rule:
            return pricing.Discount(percent_bps=int(rule["percentBps"]))
        if rule.get("currency") != currency:
            raise refused
        return pricing.Discount(amount=int(rule["amount"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise refused from exc


# ---- placing an order -----------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    product_id: uuid.UUID
    quantity: int
    attributes: dict[str, Any]
    # Where a problem with this line points in the input.
    product_field: str
    quantity_field: str


async def _lock_products(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    """Locked in id order, so concurrent orders of the same products never deadlock."""
    rows = await session.scalars(
        select(Product)
        .where(Product.id.in_(product_ids), Product.tenant_id == tenant_id)
        .order_by(Product.id)
        .with_for_update()
    )
    return {product.id: product for product in rows}


async def place_order(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    new: NewOrder,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
) -> Order:
    """Creates a PENDING order inside the caller's transaction; userErrors leave nothing written.
    ``new`` was checked with ``new_order_problems``."""
    cart = None
    if new.from_cart:
        cart = await lock_cart(session, tenant_id, user_id, create=False)
        in_cart: list[CartItem] = await cart_items(session, cart.id) if cart else []
        if not in_cart:
            raise invalid("fromCart", "EMPTY_CART", "Your cart is empty.")
        lines = [_Line(i.product_id, i.quantity, dict(i.attributes), "fromCart", "fromCart") for i in in_cart]
    else:
        lines = [
            _Line(
                i.product_id,
                i.quantity,
                dict(i.attributes or {}),
                f"items.{n}.productId",
                f"items.{n}.quantity",
            )
            for n, i in enumerate(new.items or [])
        ]
    products = await _lock_products(session, tenant_id, {line.product_id for line in lines})

    problems: list[FieldProblem] = []
    for line in lines:
        product = products.get(line.product_id)
        if not product_available(product):
            problems.append(unavailable(line.product_field, product))
    if problems:
        raise InvalidInput(*problems)
    currencies = {products[line.product_id].currency for line in lines}
    if len(currencies) > 1:
        raise invalid(
            "fromCart" if new.from_cart else "items",
            "CURRENCY_MISMATCH",
            f"An order is paid in one currency, not {', '.join(sorted(currencies))}.",
        )
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for line in lines:
        wanted[line.product_id] += line.quantity
    for product_id, quantity in wanted.items():
        product = products[product_id]
        where = next(line.quantity_field for line in lines if line.product_id == product_id)
        if product.stock_quantity is not None and quantity > product.stock_quantity:
            problems.append(
                FieldProblem(
                    ("input", *where.split(".")),
                    "OUT_OF_STOCK",
                    f"Only {max(product.stock_quantity, 0)} of {product.name} in stock.",
                )
            )
        elif problem := quantity_problem(where, quantity):
            problems.append(problem)
    if problems:
        raise InvalidInput(*problems)

    (currency,) = currencies
    tenant = await session.get(Tenant, tenant_id)
    settings = tenant.settings if tenant else {}
    priced = pricing.price_order(
        [pricing.Line(products[line.product_id].price, line.quantity) for line in lines],
        discount=discount_for_code(settings, new.discount_code, currency),
        tax_rate_bps=tax_rate_bps(settings),
    )
    if max(priced.subtotal, priced.total) > MAX_AMOUNT:
        raise invalid(None, "AMOUNT_TOO_LARGE", f"An order totals at most {MAX_AMOUNT} minor units.")

    now = utcnow()
    order = Order(
        id=new_id(),
        tenant_id=tenant_id,
        number=NUMBER_FORMAT.format(await next_value(session, tenant_id, "order")),
        user_id=user_id,
        status=S.PENDING,
        currency=currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount,
        tax_total=priced.tax,
        shipping_total=priced.shipping,
        total=priced.total,
        refunded_total=0,
        notes=new.notes.strip() if new.notes and new.notes.strip() else None,
        shipping_address=address_record(new.shipping_address),
        billing_address=address_record(new.billing_address or new.shipping_address),
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    for position, (line, amounts) in enumerate(zip(lines, priced.lines, strict=True)):
        product = products[line.product_id]
        session.add(
            OrderItem(
                tenant_id=tenant_id,
                order_id=order.id,
                product_id=product.id,
                position=position,
                sku=product.sku,
                name=product.name,
                unit_price=product.price,
                quantity=line.quantity,
                discount_amount=amounts.discount,
                tax_amount=amounts.tax,
                total=amounts.total,
                attributes=line.attributes,
            )
        )
    for product_id, quantity in wanted.items():
        product = products[product_id]
        if product.stock_quantity is not None:
            product.stock_quantity -= quantity
    record_created(session, order, actor=actor, actor_user_id=actor_user_id)
    if cart is not None:
        await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
        cart.updated_at = now
    await session.flush()
    return order


@dataclass(frozen=True, slots=True)
class OrderResult:
    order: Order
    # True when an Idempotency-Key repeat returned the first request's order.
    replayed: bool = False


async def _read_order(ctx: ServiceContext, order_id: uuid.UUID) -> Order:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        order = await session.get(Order, order_id)
    if order is None or not can_read_order(principal, order):
        raise NotFound("Order")
    return order


async def create_order(ctx: ServiceContext, new: NewOrder, idempotency_key: str | None) -> OrderResult:
    principal = ctx.require_principal()
    if problems := new_order_problems(new):
        raise InvalidInput(*problems)

    async def perform(session: AsyncSession) -> uuid.UUID:
        order = await place_order(
            session,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            new=new,
            actor="user",
            actor_user_id=principal.user_id,
        )
        return order.id

    outcome = await run_once(ctx, "order.create", idempotency_key, new.request(), perform)
    return OrderResult(await _read_order(ctx, outcome.entity_id), outcome.replayed)


# ---- the life cycle -------------------------------------------------------------------------


class Transition(enum.Enum):
    """A mutation moving an order: (target, operation name, who besides operators may call it)."""

    SUBMIT = (S.AWAITING_PAYMENT, "order.submit", True)
    CONFIRM_PAYMENT = (S.PAID, "order.confirm_payment", False)
    CANCEL = (S.CANCELLED, "order.cancel", True)
    START_PROVISIONING = (S.PROVISIONING, "order.start_provisioning", False)
    COMPLETE = (S.COMPLETED, "order.complete", False)

    @property
    def target(self) -> OrderStatus:
        return self.value[0]

    @property
    def operation(self) -> str:
        return self.value[1]

    @property
    def for_owner_and_staff(self) -> bool:
        return self.value[2]


async def restore_stock(session: AsyncSession, order: Order) -> None:
    """Gives the tracked stock of a cancelled order back to its products."""
    items = list(await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id)))
    quantities: dict[uuid.UUID, int] = defaultdict(int)
    for item in items:
        if item.product_id is not None:
            quantities[item.product_id] += item.quantity
    if not quantities:
        return
    products = await _lock_products(session, order.tenant_id, set(quantities))
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is not None and product.stock_quantity is not None:
            product.stock_quantity += quantity


async def transition_order(
    ctx: ServiceContext,
    transition: Transition,
    order_id: uuid.UUID,
    *,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> OrderResult:
    """One life-cycle mutation. Owner and staff may submit and cancel; payment confirmation and
    provisioning are for order operators. An order the caller may not read is NOT_FOUND; a move
    the state machine forbids is INVALID_TRANSITION, and nothing changes."""
    principal = ctx.require_principal()
    if not transition.for_owner_and_staff and not principal.has_any_role(*ORDER_OPERATORS):
        raise Forbidden("You are not allowed to do this.")
    reason = reason.strip() if reason and reason.strip() else None
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise invalid("reason", "TOO_LONG", f"A reason has at most {MAX_REASON_CHARS} characters.")

    async def perform(session: AsyncSession) -> uuid.UUID:
        order = await lock_order(session, order_id)
        if not can_read_order(principal, order):
            raise NotFound("Order")
        if transition.for_owner_and_staff:
            actor = "user" if order.user_id == principal.user_id else "staff"
        else:
            actor = "admin"
        move(session, order, transition.target, actor=actor, actor_user_id=principal.user_id, reason=reason)
        if transition is Transition.CANCEL:
            await restore_stock(session, order)
        return order.id

    request = {"orderId": str(order_id), "reason": reason}
    outcome = await run_once(ctx, transition.operation, idempotency_key, request, perform)
    return OrderResult(await _read_order(ctx, outcome.entity_id), outcome.replayed)


# ---- reads ----------------------------------------------------------------------------------


async def get_order(ctx: ServiceContext, order_id: uuid.UUID) -> Order:
    return await _read_order(ctx, order_id)


class OrderSortField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    TOTAL = "TOTAL"
    NUMBER = "NUMBER"


_SORT_COLUMNS = {
    OrderSortField.CREATED_AT: Order.created_at,
    OrderSortField.TOTAL: Order.total,
    OrderSortField.NUMBER: Order.number,
}


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    user_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _visible_orders(principal: Principal, order_filter: OrderFilter) -> Select[tuple[Order]]:
    statement = select(Order)
    if not is_staff(principal):
        statement = statement.where(Order.user_id == principal.user_id)
    statement = where_given(
        statement, (Order.status, order_filter.status), (Order.user_id, order_filter.user_id)
    )
    if order_filter.created_after is not None:
        statement = statement.where(Order.created_at >= order_filter.created_after)
    if order_filter.created_before is not None:
        statement = statement.where(Order.created_at < order_filter.created_before)
    if order_filter.search and order_filter.search.strip():
        pattern = f"%{_escape_like(order_filter.search.strip().upper())}%"
        statement = statement.where(Order.number.like(pattern, escape="\\"))
    return statement


async def list_orders(
    ctx: ServiceContext, order_filter: OrderFilter, sort: OrderSortField, descending: bool, page: PageArgs
) -> Page[Order]:
    """The caller's orders; the tenant's staff see all of the tenant's."""
    principal = ctx.require_principal()
    for moment in (order_filter.created_after, order_filter.created_before):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput("Give times with a timezone offset, e.g. 2026-01-31T00:00:00Z.")
    column = _SORT_COLUMNS[sort]

    return await paginate(
        ctx.read, _visible_orders(principal, order_filter), SortKey(column, Order.id, descending), page
    )


# ---- statistics -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: OrderStatus
    count: int


@dataclass(frozen=True, slots=True)
class RevenuePoint:
    """``period``: a UTC day (2026-01-31) or month (2026-01)."""

    period: str
    orders: int
    revenue: int


@dataclass(slots=True)
class CurrencyStatistics:
    currency: str
    orders: int = 0
    revenue: int = 0
    by_day: list[RevenuePoint] = field(default_factory=list)
    by_month: list[RevenuePoint] = field(default_factory=list)

    @property
    def average_order_value(self) -> int:
        return pricing.divide_half_even(self.revenue, self.orders)


@dataclass(frozen=True, slots=True)
class OrderStatistics:
    start: datetime
    end: datetime
    counts: list[StatusCount]
    currencies: list[CurrencyStatistics]


def _utc_day(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Order.created_at), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", Order.created_at)


async def order_statistics(ctx: ServiceContext, start: datetime, end: datetime) -> OrderStatistics:
    """Orders created in [start, end): counts per status, and per currency the revenue (orders
    that were paid, minus refunds) per UTC day and month and the average order value."""
    ctx.require_role(*ORDER_STATISTICS_READERS)
    if start.tzinfo is None or end.tzinfo is None:
        raise BadUserInput("Give times with a timezone offset, e.g. 2026-01-31T00:00:00Z.")
    if not start < end <= start + timedelta(days=MAX_STATISTICS_DAYS):
        raise BadUserInput(f"`from` is before `to`, at most {MAX_STATISTICS_DAYS} days apart.")
    in_range = (Order.created_at >= start, Order.created_at < end)
    async with ctx.read() as session:
        counts = (
            await session.execute(select(Order.status, func.count()).where(*in_range).group_by(Order.status))
        ).all()
        day = _utc_day(session).label("day")
        days = (
            await session.execute(
                select(Order.currency, day, func.count(), func.sum(Order.total - Order.refunded_total))
                .where(*in_range, Order.status.in_(REVENUE_STATUSES))
                .group_by(Order.currency, day)
                .order_by(Order.currency, day)
            )
        ).all()
    by_currency: dict[str, CurrencyStatistics] = {}
    months: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for currency, period, orders, revenue in days:
        stats = by_currency.setdefault(currency, CurrencyStatistics(currency))
        point = RevenuePoint(str(period), int(orders), int(revenue or 0))
        stats.by_day.append(point)
        stats.orders += point.orders
        stats.revenue += point.revenue
        month = months[currency].setdefault(point.period[:7], [0, 0])
        month[0] += point.orders
        month[1] += point.revenue
    for currency, stats in by_currency.items():
        stats.by_month = [RevenuePoint(m, o, r) for m, (o, r) in sorted(months[currency].items())]
    found = {status: int(n) for status, n in counts}
    return OrderStatistics(
        start=start,
        end=end,
        counts=[StatusCount(status, found.get(status, 0)) for status in OrderStatus],
        currencies=[by_currency[c] for c in sorted(by_currency)],
    )


# ---- demo data ------------------------------------------------------------------------------

DEMO_ADDRESS = Address(
    name="Demo User", line1="1 Example Street", city="Berlin", postal_code="10115", country="DE"
)


# Used only when the tenant's catalog has nothing to sell yet.
async def _demo_products(session: AsyncSession, tenant: Tenant) -> list[Product]:
    """Two sellable products of one currency from the demo catalog (seeded before the orders)."""
    sellable = list(
        await session.scalars(
            select(Product)
            .where(
                Product.tenant_id == tenant.id,
                Product.status == ProductStatus.ACTIVE,
                (Product.stock_quantity.is_(None)) | (Product.stock_quantity >= 10),
            )
            .order_by(Product.sku)
            .limit(20)
        )
    )
    return [p for p in sellable if p.currency == sellable[0].currency][:2] if sellable else []


async def seed_demo_orders(session: AsyncSession, tenant: Tenant) -> None:
    """One PENDING and one PAID order of the tenant's demo user (user@<slug>.example), placed
    through the same code as createOrder; does nothing when that user has orders already."""
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"user@{tenant.slug}.example")
    )
    if user is None:
        return
    if await session.scalar(select(Order.id).where(Order.user_id == user.id).limit(1)) is not None:
        return
    products = await _demo_products(session, tenant)
    if not products:
        return
    lines = [NewOrderLine(p.id, n + 1, {}) for n, p in enumerate(products)]
    for paid in (False, True):
        order = await place_order(
            session,
            tenant_id=tenant.id,
            user_id=user.id,
            new=NewOrder(items=lines, shipping_address=DEMO_ADDRESS, notes="Demo order"),
            actor="demo",
        )
        if paid:
            move(session, order, S.AWAITING_PAYMENT, actor="demo")
            move(session, order, S.PAID, actor="demo", reason="Demo payment")
    await session.flush()


@dataclass(frozen=True, slots=True)
class StatusChanged:
    order: Order
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str


async def order_status_changes(
    services: ServiceContext,
    broadcast: Broadcast,
    load: Callable[[uuid.UUID], Awaitable[Order | None]],
    only: uuid.UUID | None,
) -> AsyncIterator[StatusChanged]:
    """Status changes of the caller's orders (staff: of every order of the tenant), or of the one
    order ``only``.

    Access is checked again for every event against the caller's live session and roles, and
    ``load`` reads the order afresh (the websocket context lives for the whole connection)."""
    principal = services.require_principal()
    async for event in domain_events(broadcast, ORDER_STATUS_CHANGED, principal.tenant_id):
        payload = event["payload"]
        order_id = uuid.UUID(payload["orderId"])
        if only is not None and order_id != only:
            continue
        principal = await live_principal(services.db, principal)
        services.principal = principal
        if uuid.UUID(payload["userId"]) != principal.user_id and not is_staff(principal):
            continue  # not worth a read: it is someone else's order
        order = await load(order_id)
        if order is None or not can_read_order(principal, order):
            continue
        yield StatusChanged(
            order=order,
            from_status=OrderStatus(payload["from"]) if payload.get("from") else None,
            to_status=OrderStatus(payload["to"]),
            actor=payload.get("actor", ""),
        )
