"""The measured operations: each a pair (our query, PostGraphile's query) with the normalisation
that must make both answers equal, or ours alone with the answer it must give.

Ours are read by the platform admin (every tenant, no X-Tenant-Id); ids are Relay global ids,
PostGraphile's the raw uuid columns, so both are compared by uuid. Money is ``{amount currency}``
in ours, ``basePrice``/``salePrice``/``currency`` columns in PostGraphile's.

``levels`` are the relation levels of the selection: the root field plus every nested relation
(each one batched fetch); the SQL budget is levels + 1 statements per request.

PostGraphile 5 runs with its defaults (amber preset), which offer ``orderBy`` only on indexed
columns: its tenants are ordered by slug (the data set's slugs follow creation order, the platform
tenant's sorts last as it is created last) and order items by primary key, compared by position."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.dataset import Dataset

Json = Any
ORDER_ASC = "orderBy: [CREATED_AT_ASC, ROW_ID_ASC]"
SHIPPING = '{name: "Bench Shopper", line1: "1 Main St", city: "Berlin", postalCode: "10115", country: "DE"}'


@dataclass(frozen=True)
class Request:
    query: str
    variables: dict[str, Any] | None = None

    def body(self) -> str:
        payload: dict[str, Any] = {"query": self.query}
        if self.variables:
            payload["variables"] = self.variables
        return json.dumps(payload, separators=(",", ":"))


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    ours: Request
    canon_ours: Callable[[Json], Json]
    levels: int | None = None
    theirs: Request | None = None
    canon_theirs: Callable[[Json], Json] | None = None
    # Without a PostGraphile pair: what canon_ours must give.
    expected: Json = None
    # Our RPS / PostGraphile RPS at least (per worker).
    ratio_budget: float | None = None
    # M1: a Lua-driven mutation mix, not one fixed request.
    mix: bool = False


def gid(type_name: str, row_id: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def from_gid(global_id: str) -> str:
    _, _, raw = base64.b64decode(global_id).decode().partition(":")
    return str(uuid.UUID(raw))


def _uuid(raw: str) -> str:
    return str(uuid.UUID(raw))


def _money(value: Json) -> tuple[int, str]:
    return int(value["amount"]), value["currency"]


def _their_price(node: Json) -> tuple[int, str]:
    sale = node["salePrice"]
    return int(sale if sale is not None else node["basePrice"]), node["currency"]


# -- Q1, Q2: products ---------------------------------------------------------------------------

PRODUCT_OURS = "id sku name price { amount currency }"
PRODUCT_THEIRS = "rowId sku name basePrice salePrice currency"
CATEGORY_OURS = "category { id name }"
CATEGORY_THEIRS = "categoryByCategoryId { rowId name }"


def _product_ours(node: Json) -> Json:
    return [from_gid(node["id"]), node["sku"], node["name"], _money(node["price"])]


def _product_theirs(node: Json) -> Json:
    return [_uuid(node["rowId"]), node["sku"], node["name"], _their_price(node)]


def _q1_ours(data: Json) -> Json:
    node = data["product"]
    category = node["category"]
    return [*_product_ours(node), category and [from_gid(category["id"]), category["name"]]]


def _q1_theirs(data: Json) -> Json:
    node = data["productByRowId"]
    category = node["categoryByCategoryId"]
    return [*_product_theirs(node), category and [_uuid(category["rowId"]), category["name"]]]


# -- Q3: orders -> user, items -> product -------------------------------------------------------


def _items(items: list[Json], product: str) -> Json:
    return [[i["position"], i[product]["name"]] for i in sorted(items, key=lambda i: int(i["position"]))]


def _q3_ours(data: Json) -> Json:
    return [
        [from_gid(o["id"]), o["number"], o["user"]["email"], _items(o["items"], "product")]
        for o in data["orders"]["nodes"]
    ]


def _q3_theirs(data: Json) -> Json:
    return [
        [
            _uuid(o["rowId"]),
            o["number"],
            o["userByUserId"]["email"],
            _items(o["orderItemsByOrderId"]["nodes"], "productByProductId"),
        ]
        for o in data["allOrders"]["nodes"]
    ]


# -- Q4t, R: users -> orders ----------------------------------------------------------------------

ORDER_OURS = "id number total { amount currency }"
ORDER_THEIRS = "rowId number total currency"


def _orders_ours(connection: Json) -> Json:
    return [[from_gid(o["id"]), o["number"], _money(o["total"])] for o in connection["nodes"]]


def _orders_theirs(connection: Json) -> Json:
    return [[_uuid(o["rowId"]), o["number"], (int(o["total"]), o["currency"])] for o in connection["nodes"]]


def _user_ours(user: Json) -> Json:
    return [from_gid(user["id"]), user["email"], _orders_ours(user["orders"])]


def _user_theirs(user: Json) -> Json:
    return [_uuid(user["rowId"]), user["email"], _orders_theirs(user["ordersByUserId"])]


def _q4_ours(data: Json) -> Json:
    return [_user_ours(data[f"u{i}"]) for i in range(len(data))]


def _q4_theirs(data: Json) -> Json:
    return [_user_theirs(data[f"u{i}"]) for i in range(len(data))]


def _r_ours(data: Json) -> Json:
    return [
        [from_gid(t["id"]), t["slug"], [_user_ours(u) for u in t["users"]["nodes"]]]
        for t in data["tenants"]["nodes"]
    ]


def _r_theirs(data: Json) -> Json:
    return [
        [_uuid(t["rowId"]), t["slug"], [_user_theirs(u) for u in t["usersByTenantId"]["nodes"]]]
        for t in data["allTenants"]["nodes"]
    ]


# -- Q5: _entities --------------------------------------------------------------------------------


def _q5_ours(data: Json) -> Json:
    return [from_gid(entity["id"]) for entity in data["_entities"]]


def build(data: Dataset) -> list[Operation]:
    product = data.product_with_category or data.product_ids[0]
    users = data.user_ids[:10]
    q4_ours = " ".join(
        f'u{i}: user(id: "{gid("User", u)}") {{ id email orders(first: 5) {{ nodes {{ {ORDER_OURS} }} }} }}'
        for i, u in enumerate(users)
    )
    q4_theirs = " ".join(
        f'u{i}: userByRowId(rowId: "{u}") {{ rowId email ordersByUserId(first: 5, {ORDER_ASC}) '
        f"{{ nodes {{ {ORDER_THEIRS} }} }} }}"
        for i, u in enumerate(users)
    )
    entities = data.product_ids[:100]
    return [
        Operation(
            "Q1", "product by id (with category)",
            Request(f'{{ product(id: "{gid("Product", product)}") {{ {PRODUCT_OURS} {CATEGORY_OURS} }} }}'),
            _q1_ours, levels=2,
            theirs=Request(
                f'{{ productByRowId(rowId: "{product}") {{ {PRODUCT_THEIRS} {CATEGORY_THEIRS} }} }}'
            ),
            canon_theirs=_q1_theirs, ratio_budget=0.5,
        ),
        Operation(
            "Q2", "first 50 products",
            Request(
                "{ products(first: 50, orderBy: {field: CREATED_AT, direction: ASC}) "
                f"{{ nodes {{ {PRODUCT_OURS} }} }} }}"
            ),
            lambda d: [_product_ours(n) for n in d["products"]["nodes"]], levels=1,
            theirs=Request(f"{{ allProducts(first: 50, {ORDER_ASC}) {{ nodes {{ {PRODUCT_THEIRS} }} }} }}"),
            canon_theirs=lambda d: [_product_theirs(n) for n in d["allProducts"]["nodes"]], ratio_budget=0.5,
        ),
        Operation(
            "Q3", "20 orders -> user.email, items -> product.name",
            Request(
                "{ orders(first: 20, orderBy: {field: CREATED_AT, direction: ASC}) "
                "{ nodes { id number user { email } items { position product { name } } } } }"
            ),
            _q3_ours, levels=4,
            theirs=Request(
                f"{{ allOrders(first: 20, {ORDER_ASC}) {{ nodes {{ rowId number userByUserId {{ email }} "
                "orderItemsByOrderId(orderBy: [PRIMARY_KEY_ASC]) "
                "{ nodes { position productByProductId { name } } } } } }"
            ),
            canon_theirs=_q3_theirs, ratio_budget=0.25,
        ),
        Operation(
            "Q4t", "10 users (aliases) -> 5 orders each",
            Request(f"{{ {q4_ours} }}"), _q4_ours, levels=2,
            theirs=Request(f"{{ {q4_theirs} }}"), canon_theirs=_q4_theirs, ratio_budget=0.25,
        ),
        Operation(
            "R", "10 tenants -> 10 users -> 5 orders",
            Request(
                "{ tenants(first: 10, orderBy: {field: CREATED_AT, direction: ASC}) { nodes { id slug "
                f"users(first: 10) {{ nodes {{ id email orders(first: 5) {{ nodes {{ {ORDER_OURS} }} }} }} "
                "} } } }"
            ),
            _r_ours, levels=3,
            theirs=Request(
                f"{{ allTenants(first: 10, orderBy: [SLUG_ASC]) {{ nodes {{ rowId slug "
                f"usersByTenantId(first: 10, {ORDER_ASC}) {{ nodes {{ rowId email "
                f"ordersByUserId(first: 5, {ORDER_ASC}) {{ nodes {{ {ORDER_THEIRS} }} }} }} }} }} }} }}"
            ),
            canon_theirs=_r_theirs,
        ),
        Operation(
            "Q5", f"_entities with {len(entities)} Product representations",
            Request(
                "query($r: [_Any!]!) { _entities(representations: $r) "
                f"{{ ... on Product {{ {PRODUCT_OURS} }} }} }}",
                {"r": [{"__typename": "Product", "id": gid("Product", p)} for p in entities]},
            ),
            _q5_ours, levels=1, expected=[str(p) for p in entities],
        ),
        Operation(
            "M1", "mutation mix: addToCart -> createOrder (idempotency key) -> submitOrder",
            Request(""), lambda d: d, mix=True,
        ),
    ]  # fmt: skip


# -- M1: the three mutations, shared by the serial run and the wrk Lua script -------------------

ADD_TO_CART = (
    'mutation { addToCart(input: {productId: "%s", quantity: 1}) { cart { itemCount } userErrors { code } } }'
)
CREATE_ORDER = (
    'mutation { createOrder(input: {items: [{productId: "%s", quantity: 1}], idempotencyKey: "%s", '
    "shippingAddress: " + SHIPPING + "}) { order { id status user { id } } userErrors { code } } }"
)
SUBMIT_ORDER = 'mutation { submitOrder(input: {id: "%s"}) { order { id status } userErrors { code } } }'


def mutation_errors(body: Json) -> list[str]:
    """GraphQL errors and userErrors of one M1 response."""
    problems = [str(e.get("message")) for e in body.get("errors") or []]
    for payload in (body.get("data") or {}).values():
        problems += [str(e.get("code")) for e in (payload or {}).get("userErrors") or []]
    return problems
