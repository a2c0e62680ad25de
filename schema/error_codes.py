"""Every error-code enum of the schema, each value described: the top-level ``extensions.code``
values and each domain's userError codes. They are printed in the SDL although UserError.code stays
a String, so that adding a code never breaks a client."""

from __future__ import annotations

from core.errors import ErrorCode
from core.lengths import TextErrorCode
from schema.enums import documented_enum
from services.billing.errors import BillingErrorCode
from services.catalog.errors import CatalogErrorCode
from services.identity.errors import IdentityErrorCode
from services.money import MoneyErrorCode
from services.orders.errors import OrderErrorCode

documented_enum(
    ErrorCode,
    "`extensions.code` of a top-level error. Mutation failures are `userErrors` instead, "
    "with a code of their domain's error-code enum.",
    {
        ErrorCode.UNAUTHENTICATED: "No valid sign-in, or the session has ended: sign in (again).",
        ErrorCode.FORBIDDEN: "Signed in, but your roles do not allow this.",
        ErrorCode.NOT_FOUND: "It does not exist, or is out of your reach (the same answer on purpose).",
        ErrorCode.BAD_USER_INPUT: "The request is at fault: syntax, validation, limits or argument values.",
        ErrorCode.BAD_REQUEST: "Not a GraphQL request: unparsable JSON, no query, a subscription over HTTP.",
        ErrorCode.CONFLICT: "E.g. an idempotency key reused with a different request.",
        ErrorCode.RATE_LIMITED: "Too many attempts: `extensions.retryAfter` gives the seconds to wait.",
        ErrorCode.INTERNAL_SERVER_ERROR: "A bug on our side (details hidden in production).",
        ErrorCode.SERVICE_UNAVAILABLE: "The database or Redis is unreachable for now: try again.",
    },
)

documented_enum(
    MoneyErrorCode,
    "userError codes of money inputs (amounts, currencies).",
    {
        MoneyErrorCode.INVALID_CURRENCY: "Not an ISO 4217 currency code we know.",
        MoneyErrorCode.INVALID_AMOUNT: "Not a whole number of minor units in range (or 0 where not allowed).",
    },
)

documented_enum(
    TextErrorCode,
    "userError code of any text input over its maximum length.",
    {TextErrorCode.TOO_LONG: "Longer than the field's maximum (stated in its description)."},
)

ID = IdentityErrorCode
documented_enum(
    IdentityErrorCode,
    "userError codes of the identity mutations (sign-in, accounts, users, tenants).",
    {
        ID.INVALID_CREDENTIALS: "Tenant, email or password is wrong (one answer for all three).",
        ID.ACCOUNT_SUSPENDED: "The account is suspended: it cannot sign in.",
        ID.TENANT_SUSPENDED: "The tenant is suspended or cancelled: nobody in it signs in.",
        ID.UNKNOWN_TENANT: "No tenant has this slug (registration).",
        ID.INVALID_REFRESH_TOKEN: "The refresh token is not one of ours.",
        ID.REFRESH_TOKEN_EXPIRED: "The session's refresh token expired: sign in again.",
        ID.REFRESH_TOKEN_REUSED: "A refresh token already traded came back: its session is ended.",
        ID.SESSION_REVOKED: "The session was signed out or revoked: sign in again.",
        ID.INVALID_EMAIL: "Not a usable email address.",
        ID.REQUIRED: "A required field is empty.",
        ID.TOO_LONG: "Over the field's maximum length (stated in its description).",
        ID.WEAK_PASSWORD: "Shorter than 8 characters, or a common password.",
        ID.UNCHANGED: "The new password is the current one.",
        ID.INVALID_SLUG: "A slug takes lowercase letters, digits and inner hyphens.",
        ID.RESERVED_SLUG: "Reserved for the platform (admin, api, graphql, platform, www, static, health).",
        ID.CONFLICT: "The email or slug is taken, or the row changed meanwhile: read it again.",
        ID.CONFUSABLE_EMAIL: "The email looks like another account's (Unicode TR39 confusables).",
        ID.FORBIDDEN: "A field only platform admins may set.",
        ID.CANNOT_SUSPEND_SELF: "You cannot suspend your own account.",
        ID.CANNOT_DEMOTE_SELF: "You cannot take the TENANT_ADMIN role from yourself.",
        ID.CANNOT_SUSPEND_OWN_TENANT: "You cannot suspend the tenant you are signed in to.",
        ID.INVALID_TRANSITION: "The status change is not allowed, e.g. reactivating a cancelled tenant.",
    },
)

K = CatalogErrorCode
documented_enum(
    CatalogErrorCode,
    "userError codes of the catalog mutations.",
    {
        K.REQUIRED: "A required field is empty or null.",
        K.TOO_LONG: "Over the field's maximum length (stated in its description).",
        K.INVALID_SKU: "A SKU takes letters, digits, '-', '_' and '.'.",
        K.INVALID_SLUG: "A slug takes lowercase letters, digits and inner hyphens.",
        K.INVALID_URL: "Not an absolute http(s) URL.",
        K.INVALID_QUANTITY: "A stock quantity is a whole number, 0 or more.",
        K.INVALID_ATTRIBUTES: "Attributes must be a JSON object.",
        K.TOO_MANY_ATTRIBUTES: "At most 100 attribute keys.",
        K.TOO_MANY_IMAGES: "At most 20 image URLs.",
        K.CURRENCY_MISMATCH: "The sale price is in another currency than the base price.",
        K.SALE_ABOVE_BASE: "The sale price is above the base price.",
        K.NOT_FOUND: "A referenced product, category or brand does not exist or is out of reach.",
        K.CONFLICT: "The SKU or slug is taken, or you reviewed this product already.",
        K.PRODUCT_ORDERED: "The product was ordered: archive it instead of deleting it.",
        K.CYCLE: "A category cannot move below itself.",
        K.TOO_DEEP: "Categories nest at most 50 levels.",
        K.INVALID_RATING: "Rate from 1 to 5.",
        K.NOT_A_BUYER: "Only buyers of a product review it.",
    },
)

B = BillingErrorCode
documented_enum(
    BillingErrorCode,
    "userError codes of the billing mutations (money inputs use MoneyErrorCode).",
    {
        B.INVALID_TRANSITION: "The invoice, payment or billing subscription's status does not allow it.",
        B.INVALID_DUE_DATE: "The due date must be in the future.",
        B.ORDER_CANCELLED: "A cancelled order is not invoiced.",
        B.ORDER_ALREADY_INVOICED: "The order has an invoice already.",
        B.INVOICE_NOT_SENDABLE: "Only OPEN, OVERDUE and PAID invoices are sent.",
        B.INVOICE_NOT_PAYABLE: "The invoice is not OPEN or OVERDUE, or nothing is due.",
        B.PAYMENT_PROVIDER_ERROR: "The payment provider failed or is unreachable: try again later.",
        B.PAYMENT_METHOD_REQUIRED: "Add a card first, or name one.",
        B.INVALID_CARD_TOKEN: "The provider does not know this card token.",
        B.CARD_REJECTED: "The provider declined the card.",
        B.PAYMENT_OR_ORDER_REQUIRED: "Name the payment or the order to refund.",
        B.PAYMENT_NOT_REFUNDABLE: "Only SUCCEEDED payments are refunded.",
        B.REFUND_EXCEEDS_PAYMENT: "More than what is left of the payment after earlier refunds.",
        B.INVALID_CODE: "A plan code takes a-z, 0-9, '.', '_' and '-' (stored lowercase).",
        B.INVALID_NAME: "The plan's name is empty or too long.",
        B.PLAN_CODE_TAKEN: "Another plan of the tenant has this code.",
        B.PLAN_INACTIVE: "This plan is no longer offered.",
        B.ALREADY_SUBSCRIBED: "You already subscribe to this plan (ACTIVE or PAUSED).",
        B.SAME_PLAN: "The billing subscription is on this plan already.",
    },
)

OR = OrderErrorCode
documented_enum(
    OrderErrorCode,
    "userError codes of the cart and order mutations.",
    {
        OR.REQUIRED: "A required field is empty.",
        OR.TOO_LONG: "Over the field's maximum length (stated in its description).",
        OR.INVALID_INPUT: "The input does not hold together, e.g. `items` and `fromCart` both given.",
        OR.INVALID_COUNTRY: "Not an ISO 3166-1 alpha-2 country code (e.g. DE).",
        OR.INVALID_QUANTITY: "A quantity is a whole number from 1 to 10000.",
        OR.INVALID_ATTRIBUTES: "Attributes must be a small JSON object (at most 2000 characters).",
        OR.TOO_MANY_ITEMS: "An order has at most 100 lines.",
        OR.CART_FULL: "A cart holds at most 100 products.",
        OR.NOT_IN_CART: "The product is not in the cart.",
        OR.EMPTY_CART: "The cart is empty: nothing to order.",
        OR.PRODUCT_UNAVAILABLE: "The product does not exist or is not ACTIVE.",
        OR.OUT_OF_STOCK: "Not enough stock for the quantity asked.",
        OR.CURRENCY_MISMATCH: "One cart, one order: one currency.",
        OR.INVALID_DISCOUNT_CODE: "Not one of the tenant's discount codes, or one for another currency.",
        OR.AMOUNT_TOO_LARGE: "The order's total would exceed the largest amount we take.",
        OR.TAX_RATE_MISCONFIGURED: "The tenant's `taxRateBps` setting is not a valid rate: ask its admin.",
        OR.INVALID_TRANSITION: "The order's status does not allow this step.",
        OR.INVALID_AMOUNT: "A refund beyond what is left of the order's total.",
    },
)


ERROR_CODES: list[type] = [
    ErrorCode,
    MoneyErrorCode,
    TextErrorCode,
    IdentityErrorCode,
    CatalogErrorCode,
    OrderErrorCode,
    BillingErrorCode,
]
