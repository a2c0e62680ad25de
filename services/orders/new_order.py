"""What a new order asks for (lines or the cart, addresses, notes, a discount code, a shipping
method and a payment method), and the checks of that input that need no database."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import FieldProblem
from core.lengths import MAX_DISCOUNT_CODE_LENGTH
from services.orders.cart import attributes_problem, path, quantity_problem
from services.orders.errors import OrderErrorCode

MAX_ORDER_LINES = 100
MAX_NOTES_CHARS = 2_000
MAX_PROMOTION_CODES = 5
MAX_PROMOTION_CODE_CHARS = MAX_DISCOUNT_CODE_LENGTH

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
            problems.append(FieldProblem(where, OrderErrorCode.REQUIRED, f"{graphql_name} is required."))
        elif name == "country":
            if value.upper() not in COUNTRY_CODES:
                problems.append(
                    FieldProblem(
                        where, OrderErrorCode.INVALID_COUNTRY, "Use an ISO 3166-1 alpha-2 code like DE."
                    )
                )
        elif len(value) > limit:
            problems.append(
                FieldProblem(
                    where, OrderErrorCode.TOO_LONG, f"{graphql_name} has at most {limit} characters."
                )
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
    # Any JSON value from the input: new_order_problems accepts only null or an object.
    attributes: object = None


@dataclass(frozen=True, slots=True)
class NewOrder:
    from_cart: bool = False
    items: list[NewOrderLine] | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    notes: str | None = None
    discount_code: str | None = None
    # Promotion codes (services/orders/promotions.py), as given; checked by promotion_code_problems.
    promotion_codes: tuple[str, ...] = ()
    submit: bool = False
    # services/orders/shipping.py: checked at checkout, against the products and the buyer.
    shipping_method_id: uuid.UUID | None = None
    payment_method_id: uuid.UUID | None = None

    def request(self) -> dict[str, Any]:
        """The canonical request for the idempotency fingerprint."""
        return asdict(self)


def new_order_problems(new: NewOrder) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if new.from_cart and new.items:
        problems.append(
            FieldProblem(
                path("items"), OrderErrorCode.INVALID_INPUT, "Order from the cart or from items, not both."
            )
        )
    elif not new.from_cart and not new.items:
        problems.append(
            FieldProblem(path("items"), OrderErrorCode.REQUIRED, "Give items, or fromCart: true.")
        )
    if new.items and len(new.items) > MAX_ORDER_LINES:
        problems.append(
            FieldProblem(
                path("items"),
                OrderErrorCode.TOO_MANY_ITEMS,
                f"An order has at most {MAX_ORDER_LINES} items.",
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
    # Whether an address is needed depends on the products (checkout: physical items ship).
    if new.shipping_address is not None:
        problems += address_problems("shippingAddress", new.shipping_address)
    if new.billing_address is not None:
        problems += address_problems("billingAddress", new.billing_address)
    if new.notes is not None and len(new.notes) > MAX_NOTES_CHARS:
        problems.append(
            FieldProblem(
                path("notes"), OrderErrorCode.TOO_LONG, f"Notes have at most {MAX_NOTES_CHARS} characters."
            )
        )
    return problems + promotion_code_problems(new)


def promotion_code_problems(new: NewOrder) -> list[FieldProblem]:
    """At most MAX_PROMOTION_CODES codes, none empty or too long, none twice (``discountCode``
    counts as one more)."""
    codes = list(new.promotion_codes)
    if len(codes) > MAX_PROMOTION_CODES:
        return [
            FieldProblem(
                path("promotionCodes"),
                OrderErrorCode.TOO_MANY_PROMOTION_CODES,
                f"An order takes at most {MAX_PROMOTION_CODES} promotion codes.",
            )
        ]
    problems: list[FieldProblem] = []
    seen = {new.discount_code.strip().upper()} if new.discount_code and new.discount_code.strip() else set()
    for i, code in enumerate(codes):
        where = path(f"promotionCodes.{i}")
        wanted = code.strip().upper()
        if not wanted:
            problems.append(FieldProblem(where, OrderErrorCode.REQUIRED, "A promotion code is not empty."))
        elif len(wanted) > MAX_PROMOTION_CODE_CHARS:
            problems.append(
                FieldProblem(
                    where,
                    OrderErrorCode.TOO_LONG,
                    f"A code has at most {MAX_PROMOTION_CODE_CHARS} characters.",
                )
            )
        elif wanted in seen:
            problems.append(
                FieldProblem(where, OrderErrorCode.PROMOTION_CODE_REPEATED, "This code is given twice.")
            )
        seen.add(wanted)
    return problems
