"""Every error-code enum of the schema, each value described: the top-level ``extensions.code``
values and each domain's userError codes. They are printed in the SDL although UserError.code stays
a String, so that adding a code never breaks a client."""

from __future__ import annotations

from core.errors import ErrorCode
from core.lengths import TextErrorCode
from core.scopes import RefusalReason
from schema.enums import documented_enum
from services.billing.errors import BillingErrorCode
from services.catalog.errors import CatalogErrorCode
from services.dns.errors import DnsErrorCode
from services.identity.errors import IdentityErrorCode
from services.money import MoneyErrorCode
from services.notifications.errors import NotificationErrorCode
from services.orders.errors import OrderErrorCode
from services.platform.errors import PlatformErrorCode
from services.provisioning.errors import ProvisioningErrorCode
from services.streams.errors import StreamErrorCode
from services.tickets.errors import TicketErrorCode

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
    RefusalReason,
    "`extensions.reason` beside `extensions.code` when an API key or service token is refused.",
    {
        RefusalReason.API_KEY_INVALID: "UNAUTHENTICATED: no such API key.",
        RefusalReason.API_KEY_EXPIRED: "UNAUTHENTICATED: the API key's expiry has passed.",
        RefusalReason.API_KEY_REVOKED: "UNAUTHENTICATED: the API key was revoked.",
        RefusalReason.API_KEY_OWNER_INACTIVE: "UNAUTHENTICATED: the key's user or tenant is suspended.",
        RefusalReason.API_KEY_IP_NOT_ALLOWED: "FORBIDDEN: from outside the key's allowed IPs.",
        RefusalReason.API_KEY_RATE_LIMITED: "RATE_LIMITED: over the key's requests per minute.",
        RefusalReason.SERVICE_CLIENT_REVOKED: "UNAUTHENTICATED: its service client was revoked or deleted.",
        RefusalReason.INSUFFICIENT_SCOPE: "FORBIDDEN: the field needs a scope (@hasScope) not granted.",
        RefusalReason.SESSION_REQUIRED: "FORBIDDEN: for users' sign-in sessions, not keys or tokens.",
        RefusalReason.SERVICE_ONLY: "FORBIDDEN: for service principals and platform admins (@serviceOnly).",
        RefusalReason.IMPERSONATION_FORBIDDEN: "FORBIDDEN: an impersonation token may not change "
        "passwords, MFA, API keys or service clients.",
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
        # OAuth and OIDC sign-in (also the ?error=<code> of a callback's redirect to the frontend)
        ID.OAUTH_UNKNOWN_PROVIDER: "No sign-in provider of this name is enabled here.",
        ID.OAUTH_INVALID_STATE: "The sign-in's state is missing, forged, already used or another provider's.",
        ID.OAUTH_STATE_EXPIRED: "The sign-in took too long (oauth_state_ttl_seconds): start again.",
        ID.OAUTH_ACCESS_DENIED: "The user declined at the provider.",
        ID.OAUTH_PROVIDER_ERROR: "The provider answered an error, or its account could not be read.",
        ID.OAUTH_EXCHANGE_FAILED: "The provider refused the authorization code, or could not be reached.",
        ID.OAUTH_INVALID_ID_TOKEN: "The id_token's signature, issuer, audience, nonce or expiry is wrong.",
        ID.OAUTH_EMAIL_UNVERIFIED: "The provider has no verified email for the account: none is created.",
        ID.OAUTH_ACCOUNT_EXISTS: "An account of the tenant has this email: sign in to it, then link it.",
        ID.OAUTH_IDENTITY_IN_USE: "This provider account already signs in as another user.",
        # Sign-in providers: Telegram login, linked identities
        ID.TELEGRAM_INVALID_HASH: "The Telegram login data is malformed or not signed by this server's bot.",
        ID.TELEGRAM_AUTH_EXPIRED: "The Telegram login is too old: log in again.",
        ID.TELEGRAM_LOGIN_REUSED: "This Telegram login signed in once already: log in again.",
        ID.LAST_SIGN_IN_METHOD: "Your last way to sign in: set a password or link another provider first.",
        ID.MFA_SETUP_REQUIRED: "The tenant requires MFA of admins: set it up with the login's mfaChallenge.",
        ID.MFA_ALREADY_ENABLED: "MFA is on already: turn it off before setting it up again.",
        ID.MFA_NOT_SET_UP: "No MFA setup to verify: call setupMfa first.",
        ID.MFA_NOT_ENABLED: "MFA is not on: nothing to turn off.",
        ID.MFA_REQUIRED_BY_TENANT: "The tenant requires MFA of its admins: it cannot be turned off.",
        ID.INVALID_MFA_CODE: "Not the authenticator's current code.",
        ID.MFA_CODE_REUSED: "This code was accepted once already: wait for the next one.",
        ID.INVALID_RECOVERY_CODE: "Not one of the account's recovery codes.",
        ID.RECOVERY_CODE_USED: "This recovery code was used already (each works once).",
        ID.CODE_OR_RECOVERY_CODE: "Give exactly one of code and recoveryCode.",
        ID.INVALID_MFA_CHALLENGE: "The challenge is unknown, or not for this step: sign in again.",
        ID.MFA_CHALLENGE_EXPIRED: "The challenge expired: sign in again.",
        ID.MFA_CHALLENGE_USED: "The challenge completed a sign-in already: sign in again.",
        ID.OUT_OF_RANGE: "A security setting outside its bounds (stated in the input's description).",
        # MFA factors, email codes
        ID.INVALID_MFA_FACTOR: "The factorId is not the factor being set up (an older setup's).",
        ID.NOT_SMS_FACTOR: "Your MFA factor is an authenticator (TOTP): no code is texted.",
        ID.TOKEN_OR_CODE: "verifyEmail needs the link's token, the mail's code, or both.",
        # Invites and user administration
        ID.INVALID_INVITE: "The invite token is not one of ours.",
        ID.INVITE_EXPIRED: "The invite expired before it was accepted: ask for a new one.",
        ID.INVITE_REVOKED: "The invite was revoked (or replaced by a newer one of the address).",
        ID.INVITE_ALREADY_ACCEPTED: "The invite was accepted already: its token works once.",
        ID.INVITE_NOT_PENDING: "Only a pending invite can be revoked.",
        ID.ALREADY_MEMBER: "The invited email is already a user of the tenant.",
        ID.INVALID_ROLE: "No role given, or PLATFORM_ADMIN by someone who is none.",
        ID.ACCOUNT_BANNED: "The account is banned: no sign-in until the unblock date the message names.",
        ID.CANNOT_BAN_SELF: "You cannot ban your own account.",
        ID.CANNOT_DELETE_SELF: "You cannot delete your own account.",
        ID.USER_DELETED: "The user was deleted (anonymised): nothing about them can change.",
        # Registration, verification and password reset
        ID.EMAIL_OR_PHONE: "Give an email or a phone number (sign-in: exactly one of them).",
        ID.INVALID_PHONE: "Not a phone number in international form (+, country code, number).",
        ID.PHONE_TAKEN: "Another account of the tenant has this phone number.",
        ID.INVALID_USERNAME: "3 to 32 letters, digits, '.', '_' or '-', a letter or digit at each end.",
        ID.USERNAME_TAKEN: "Another account of the tenant has this username.",
        ID.TERMS_NOT_ACCEPTED: "The tenant requires acceptTerms: true to sign up.",
        ID.INVALID_AFFILIATE_CODE: "An affiliate code has up to 64 letters, digits, '_' or '-'.",
        ID.NO_EMAIL: "The account has no email address to verify.",
        ID.NO_PHONE: "The account has no phone number to verify.",
        ID.ALREADY_VERIFIED: "The address or number is verified already.",
        ID.INVALID_VERIFICATION_TOKEN: "Not our link, another tenant's, or its address changed since.",
        ID.VERIFICATION_TOKEN_USED: "The link or code was used already, or a newer one replaced it.",
        ID.VERIFICATION_TOKEN_EXPIRED: "The link or code expired: ask for a new one.",
        ID.INVALID_VERIFICATION_CODE: "Not the texted code, or no code is pending.",
        ID.VERIFICATION_ATTEMPTS_EXCEEDED: "Too many wrong codes: this one is dead; ask for a new one.",
        # API keys and service clients
        ID.INVALID_NETWORK: "An allowed IP is no IPv4/IPv6 address or CIDR network (host bits unset).",
        ID.INVALID_RATE_LIMIT: "Requests per minute go from 1 to 100000.",
        ID.INVALID_EXPIRY: "The expiry (or a ban's unblock date) lies in the past, or too far ahead.",
        ID.TOO_MANY_API_KEYS: "A user holds at most 50 active API keys: revoke one first.",
        ID.ALREADY_REVOKED: "The API key or service client was revoked already.",
        # Privacy
        ID.EXPORT_IN_PROGRESS: "An export of your data is queued or running: wait for it to finish.",
        ID.CONFIRMATION_REQUIRED: "Erasing needs your password (or, without one, the current session's id).",
        # Custom roles and permissions
        ID.UNKNOWN_PERMISSION: "Not a permission of the catalogue (the `permissions` query).",
        ID.ROLE_NAME_TAKEN: "The tenant has a role of this name (system role names included).",
        ID.INVALID_ROLE_NAME: "A role name has 1 to 64 printable characters.",
        ID.SYSTEM_ROLE_READ_ONLY: "System roles cannot be changed or deleted.",
        ID.ROLE_IN_USE: "Users still hold this role: remove it from them before deleting it.",
        ID.ROLE_NOT_FOUND: "The tenant has no such role.",
        ID.ROLE_ID_OR_NAME: "Give exactly one of roleId and roleName.",
        ID.PERMISSION_ID_OR_KEY: "Give exactly one of permissionId and permission.",
        ID.INVALID_PERMISSION: "A resource or action not of a-z, 0-9 and _ (from a letter), or a bad name.",
        ID.PERMISSION_TAKEN: "A built-in or custom permission has this resource:action already.",
        ID.PERMISSION_READ_ONLY: "Built-in permissions cannot be changed or deleted.",
        ID.PERMISSION_NOT_FOUND: "The catalogue has no custom permission of this id.",
        ID.PERMISSION_IN_USE: "Custom roles grant this permission: revoke it from them first.",
        ID.TOO_MANY_PERMISSIONS: "The platform has the most custom permissions allowed (200).",
        # User profile
        ID.INVALID_WEBSITE: "Not an http:// or https:// URL with a host (no spaces).",
        ID.INVALID_BIRTH_DATE: "A birth date in the future, or before 1900-01-01.",
        ID.UNKNOWN_AVATAR: "No picture of the avatar library (the `avatarLibrary` query) has this id.",
        ID.AVATAR_TOO_LARGE: "The uploaded image is over avatar_max_bytes (512 KiB by default).",
        ID.UNSUPPORTED_IMAGE: "The upload is not a PNG, JPEG, GIF or WebP image (judged by its bytes).",
        ID.INVALID_PREFERENCES: "The patch is no JSON object, or the result is too large or nested too deep.",
        ID.SAME_EMAIL: "The new address is the one the account has.",
        ID.INVALID_EMAIL_CHANGE_TOKEN: "No email change has this link.",
        ID.EMAIL_CHANGE_TOKEN_USED: "The link was used already, or a newer email change replaced it.",
        ID.EMAIL_CHANGE_TOKEN_EXPIRED: "The link has expired: ask for the change again.",
        # Wallets
        ID.INSUFFICIENT_BALANCE: "The debit is more than the balance holds (balances never go negative).",
        ID.INVALID_AMOUNT: "Zero, or beyond the largest amount or count one call may move.",
        ID.CURRENCY_MISMATCH: "The wallet is kept in another currency.",
        ID.REFERENCE_REUSED: "This reference was posted before with another kind or amount.",
        ID.DAILY_QUOTA_EXCEEDED: "More uses than today's remaining quota: wait for UTC midnight.",
        # Tenant administration
        ID.INVALID_SETTINGS: "The settings patch is no JSON object, or the result exceeds 64 KiB.",
        ID.QUOTA_EXCEEDED: "The tenant has reached its maxUsers or maxProducts quota.",
        ID.INVALID_QUOTA: "A quota outside its bounds, or a trial end without a time zone.",
        ID.TRIAL_EXPIRED: "The tenant is on TRIAL and its trialEndsAt has passed: no sign-in.",
        ID.CANNOT_DELETE_OWN_TENANT: "You cannot delete the tenant you belong to.",
        ID.TENANT_DELETED: "The tenant is deleted already.",
        ID.TENANT_NOT_DELETED: "Only a deleted tenant can be restored.",
        ID.RESTORE_PERIOD_OVER: "The tenant was deleted longer ago than the restore period.",
        ID.INVALID_URL: "Not an absolute https URL (no spaces, no user:password@).",
        ID.INVALID_COLOR: "Not a #RRGGBB colour.",
        ID.INVALID_TEXT: "Line breaks or other control characters in a one-line text.",
        ID.INVALID_HOSTNAME: "Not a hostname (letters, digits, inner hyphens; 2+ labels; no IP or port).",
        ID.DOMAIN_TAKEN: "Another tenant has verified this hostname.",
        ID.TOO_MANY_DOMAINS: "A tenant has at most 20 custom domains: remove one first.",
        ID.DOMAIN_CHALLENGE_EXPIRED: "The DNS challenge expired: add the domain again for a fresh one.",
        ID.DNS_RECORD_MISSING: "No TXT record at the challenge name (yet: DNS may take a while).",
        ID.DNS_RECORD_MISMATCH: "TXT records at the challenge name, but none holds the challenge value.",
        ID.DNS_LOOKUP_FAILED: "The DNS lookup timed out or failed: try again later.",
        ID.HTTP_FILE_MISSING: "The challenge URL did not answer the file (status other than 200).",
        ID.HTTP_FILE_MISMATCH: "The file at the challenge URL does not hold the challenge value.",
        ID.HTTP_FETCH_FAILED: "The challenge URL could not be fetched (no address, no connection, timeout).",
        ID.DOMAIN_ADDRESS_FORBIDDEN: "The hostname resolves to a private or reserved address: not fetched.",
        ID.INVALID_ORIGIN: "Not an origin scheme://host[:port] (https; http for localhost only; no path).",
        ID.TOO_MANY_ORIGINS: "A tenant lists at most 20 allowed origins.",
        ID.TENANT_SIGNUP_DISABLED: "This platform takes no self-service tenant signups.",
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
        B.INVALID_LINES: "An invoice has 1 to 100 lines.",
        B.INVALID_LINE_DESCRIPTION: "A line description is 1 to 500 characters.",
        B.INVALID_LINE_QUANTITY: "A line quantity is 1 to 1,000,000.",
        B.INVALID_LINE_AMOUNT: "A line's unit or tax amount is 0 to 10^12 minor units.",
        B.CUSTOMER_NOT_FOUND: "No user with this id in the tenant.",
        B.PAYMENT_PROVIDER_ERROR: "The payment provider failed or is unreachable: try again later.",
        B.PAYMENT_METHOD_REQUIRED: "Add a card first, or name one.",
        B.INVALID_CARD_TOKEN: "The provider does not know this card token.",
        B.CARD_REJECTED: "The provider declined the card.",
        B.GATEWAY_NOT_CONFIGURED: "This payment gateway is not configured on this server.",
        B.GATEWAY_CURRENCY_UNSUPPORTED: "The gateway does not take payments in this currency.",
        B.INVOICE_OR_ORDER_REQUIRED: "Name exactly one of the invoice or the order to pay.",
        B.ORDER_NOT_PAYABLE: "The order is not AWAITING_PAYMENT, or nothing is due.",
        B.PAYMENT_OR_ORDER_REQUIRED: "Name the payment or the order to refund.",
        B.PAYMENT_NOT_REFUNDABLE: "Only SUCCEEDED payments are refunded.",
        B.REFUND_EXCEEDS_PAYMENT: "More than what is left of the payment after earlier refunds.",
        B.REFUND_CURRENCY_MISMATCH: "A BALANCE refund: the buyer's wallet keeps another currency.",
        B.REFUND_DESTINATION_UNAVAILABLE: "A redirect gateway's payment goes back to the balance only.",
        B.TRANSFER_NOT_FAILED: "Only a FAILED transfer is retried (PENDING ones are sent by the job).",
        B.INVALID_URL: "Not an absolute http(s) URL of at most 2048 characters.",
        B.DISPUTE_ALREADY_RECORDED: "A dispute with this provider dispute id is recorded already.",
        B.DISPUTE_NOT_OPEN: "Evidence is submitted once, while the dispute is OPEN.",
        B.DISPUTE_CLOSED: "The dispute was closed (WON or LOST) already.",
        B.INVALID_EVIDENCE: "Give at least one piece of evidence.",
        B.INVALID_CODE: "A plan code takes a-z, 0-9, '.', '_' and '-' (stored lowercase).",
        B.INVALID_NAME: "The plan's name is empty or too long.",
        B.PLAN_CODE_TAKEN: "Another plan of the tenant has this code.",
        B.PLAN_INACTIVE: "This plan is no longer offered.",
        B.ALREADY_SUBSCRIBED: "You already subscribe to this plan (ACTIVE or PAUSED).",
        B.SAME_PLAN: "The billing subscription is on this plan already.",
        B.INVALID_EVENT_ID: "A usage event id is 1 to 128 of A-Z, a-z, 0-9, '_', '.', ':' and '-'.",
        B.INVALID_METRIC: "A metric is 1 to 64 of a-z, 0-9, '_', '.', ':' and '-', starting with a-z.",
        B.INVALID_USAGE_QUANTITY: "A usage quantity is a whole number from 0 to 10^12.",
        B.INVALID_USAGE_TIME: "Usage cannot be dated more than 5 minutes in the future.",
        B.INVALID_DIMENSIONS: "Dimensions are a small flat JSON object (at most 16 keys, 1000 characters).",
        B.TOO_MANY_RECORDS: "A batch records 1 to 100 usage events.",
        B.USAGE_EVENT_CONFLICT: "This event id was recorded with other usage (or twice in one batch).",
        B.UNKNOWN_METRIC: "No active pricing rule of the tenant prices this metric.",
        B.PERIOD_CLOSED: "The customer's usage of this period is billed already.",
        B.INVALID_PERIOD: "Not a valid period (YYYY-MM, not in the future) or time range.",
        B.INVALID_PRICING_RULE: "The pricing rule's prices or tiers do not fit its model.",
        B.METRIC_TAKEN: "Another pricing rule of the tenant prices this metric.",
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
        OR.PAYMENT_CAPTURED: "The order's payment took money that was not refunded: refund it instead.",
        OR.PAYMENT_IN_PROGRESS: "A payment of the order is open or processing: cancel or settle it first.",
        OR.ALREADY_DELIVERED: "An item's delivery e-mail went out already: the order cannot go back.",
        OR.ORDER_NOT_PAID: "Deliveries are for PAID, PROVISIONING and COMPLETED orders only.",
        OR.NO_DELIVERY: "The item has no delivery information yet: set it first.",
        OR.PROMOTION_CODE_UNKNOWN: "Not one of the tenant's promotion codes, or one that was deactivated.",
        OR.PROMOTION_CODE_NOT_STARTED: "The promotion code is not valid yet (its `startsAt` is ahead).",
        OR.PROMOTION_CODE_EXPIRED: "The promotion code's validity ended (`endsAt`).",
        OR.PROMOTION_CODE_USED_UP: "The promotion code was used `maxUses` times already.",
        OR.PROMOTION_CODE_USER_LIMIT: "You used this promotion code `maxUsesPerUser` times already.",
        OR.PROMOTION_CODE_NOT_ELIGIBLE: "The promotion code is for products that are not in the order.",
        OR.PROMOTION_CODE_CURRENCY_MISMATCH: "A fixed-amount promotion code for another currency.",
        OR.PROMOTION_CODE_REPEATED: "The same promotion code is given twice.",
        OR.TOO_MANY_PROMOTION_CODES: "An order takes at most 5 promotion codes.",
        OR.INVALID_PROMOTION_CODE: "The promotion code's definition does not hold (see the message).",
        OR.PROMOTION_CODE_TAKEN: "Another promotion code of the tenant reads the same (codes ignore case).",
        OR.SHIPPING_METHOD_UNKNOWN: "Not one of the tenant's shipping methods, or one that was deactivated.",
        OR.SHIPPING_METHOD_CURRENCY_MISMATCH: "The shipping method is priced in another currency.",
        OR.SHIPPING_METHOD_REQUIRED: "The order has items to ship: choose a shipping method.",
        OR.SHIPPING_NOT_NEEDED: "A digital-only order ships nothing: name no shipping method.",
        OR.INVALID_SHIPPING_METHOD: "The shipping method's definition does not hold (see the message).",
        OR.SHIPPING_METHOD_TAKEN: "Another shipping method of the tenant has this code (codes ignore case).",
        OR.PAYMENT_METHOD_UNKNOWN: "Not one of your saved payment methods.",
        OR.PAYMENT_METHOD_EXPIRED: "The saved card has expired: add another or name another.",
    },
)

PR = ProvisioningErrorCode
documented_enum(
    ProvisioningErrorCode,
    "userError codes of the provisioning mutations.",
    {
        PR.INVALID_TRANSITION: "The request's status does not allow this step (nothing changed).",
        PR.INVALID_PARAMETERS: "Parameters are a JSON object of at most 8 KiB and 5 levels of nesting.",
        PR.TOO_LONG: "Over the field's maximum length (stated in its description).",
        PR.PRODUCT_REQUIRED: "Name a product or a plan to set up.",
        PR.PRODUCT_NOT_PROVISIONED: "No product of the tenant with this id needs provisioning.",
        PR.PLAN_NOT_FOUND: "The tenant has no plan with this id.",
        PR.NOT_MANUAL: "The workers run this request: only manual ones are completed by hand.",
        PR.NO_STEP_LEFT: "Every step of the request is done already.",
        PR.NOT_RETRYABLE: "retryOperation: only a FAILED operation is retried.",
    },
)

ST = StreamErrorCode
documented_enum(
    StreamErrorCode,
    "userError codes of the stream and moderation mutations.",
    {
        ST.TOO_LONG: "Over the field's maximum length (stated in its description), or empty where required.",
        ST.TITLE_REQUIRED: "A stream needs a title.",
        ST.TOO_MANY_TAGS: "At most 20 tags.",
        ST.INVALID_TRANSITION: "The stream's status does not allow this (viewers of a stream not LIVE).",
        ST.INVALID_VIEWER_COUNT: "A viewer count is 0 or more.",
        ST.NOT_FOUND: "No such user or stream in your tenant.",
        ST.ALREADY_RESOLVED: "The report is closed already.",
    },
)

PL = PlatformErrorCode
documented_enum(
    PlatformErrorCode,
    "userError codes of the platform-operations mutations (maintenance, announcements, flags, "
    "help links, client error reports).",
    {
        PL.TOO_LONG: "Over the field's maximum length (stated in its description).",
        PL.REQUIRED: "The field may not be empty.",
        PL.INVALID_WINDOW: "An announcement ends after it starts; times carry a timezone offset.",
        PL.INVALID_NAME: "A name or key is 1 to 64 of a-z, 0-9, '.', '_' and '-'.",
        PL.INVALID_URL: "A help link is an http(s) URL.",
        PL.TOO_LARGE: "A client error report is at most 64 KiB (16 KiB of extra JSON).",
    },
)

NE = NotificationErrorCode
documented_enum(
    NotificationErrorCode,
    "userError codes of the notification mutations.",
    {
        NE.NOT_FOUND: "No notification of yours has this id (anyone else's looks the same).",
        NE.TOO_MANY: "More ids, recipients or changes than one call takes (see the message).",
        NE.REQUIRED: "The field needs a value: a title, at least one id or recipient.",
        NE.TOO_LONG: "Over the field's maximum size (stated in its description).",
        NE.INVALID_LINK: "A link is an https URL or a path of the app starting with /.",
        NE.USER_NOT_FOUND: "A recipient is no user of the tenant.",
        NE.DUPLICATE: "The same type and channel were named twice.",
        NE.INVALID_SUBSCRIPTION: "A push endpoint (https) or key (p256dh: 65 bytes, auth: 16) "
        "that does not hold.",
        NE.TEMPLATE_SYNTAX: "The template does not parse, or fails as it renders (the message says where).",
        NE.TEMPLATE_UNDEFINED: "The template names a variable that does not exist.",
        NE.TEMPLATE_FORBIDDEN: "The template reaches for something outside its sandbox.",
        NE.TEMPLATE_TOO_LARGE: "The rendered result is too long, or took too long to render.",
    },
)


DN = DnsErrorCode
documented_enum(
    DnsErrorCode,
    "userError codes of the DNS mutations (zones, records, templates, reverse DNS).",
    {
        DN.REQUIRED: "A field the record type needs is missing.",
        DN.TOO_LONG: "Over the field's maximum length (stated in its description).",
        DN.INVALID_ZONE_NAME: "Not a zone FQDN: 2+ labels of letters, digits and inner hyphens, each at most "
        "63 characters, at most 253 in all (Unicode names are IDNA-encoded).",
        DN.ZONE_TAKEN: "This zone is hosted here already (by whom is not told).",
        DN.INVALID_NAME: "Not a record name (labels, '_' service labels, a leading '*').",
        DN.NAME_OUTSIDE_ZONE: "An absolute name that is not inside the zone.",
        DN.INVALID_TTL: "A TTL is 60 to 86400 seconds.",
        DN.INVALID_ADDRESS: "Not an IPv4 (A) or IPv6 (AAAA) address.",
        DN.INVALID_TARGET: "The target (CNAME, MX, NS, SRV, PTR) is not a hostname.",
        DN.INVALID_PRIORITY: "An MX preference or SRV priority is 0 to 65535 (and required).",
        DN.INVALID_WEIGHT: "An SRV weight is 0 to 65535 (and required).",
        DN.INVALID_PORT: "An SRV port is 0 to 65535 (and required).",
        DN.INVALID_TEXT: "TXT text holds no line breaks or control characters.",
        DN.INVALID_CAA: "CAA flags 0 or 128, tag issue/issuewild/iodef, a value that fits the tag.",
        DN.INVALID_SOA: "An SOA timer outside its bounds (stated in the field's description).",
        DN.NOT_APPLICABLE: "A field the record type does not take (e.g. a priority on an A record).",
        DN.CNAME_AT_APEX: "The zone apex cannot hold a CNAME.",
        DN.CNAME_CONFLICT: "A CNAME is the only record at its name.",
        DN.APEX_NS_MANAGED: "The apex NS records are the zone's assigned nameservers.",
        DN.DUPLICATE_RECORD: "The zone has this record already (or the input names it twice).",
        DN.TOO_MANY_RECORDS: "A zone holds at most 1000 records.",
        DN.TOO_MANY_OPERATIONS: "At most 100 operations in one bulk call.",
        DN.NOT_FOUND: "A record, template, tenant or address that does not exist or is out of reach.",
        DN.ZONE_SUSPENDED: "The zone is suspended: nothing of it changes.",
        DN.ZONE_FILE_TOO_LARGE: "A zone file is at most 20000 characters.",
        DN.ZONE_FILE_SYNTAX: "A line of the zone file does not parse (the message says why).",
        DN.UNSUPPORTED_TYPE: "A record type we do not host (A, AAAA, CNAME, MX, TXT, NS, SRV, CAA, PTR).",
        DN.INVALID_TEMPLATE: "The template's name or records do not hold (or do not fit the zone).",
        DN.TEMPLATE_TAKEN: "Another template has this name.",
        DN.ADDRESS_TAKEN: "The address is allocated already.",
        DN.ADDRESS_NOT_ALLOCATED: "The address is not allocated to your tenant.",
    },
)

TK = TicketErrorCode
documented_enum(
    TicketErrorCode,
    "userError codes of the support ticket mutations.",
    {
        TK.INVALID_TRANSITION: "The ticket's status does not allow this move (nothing changed).",
        TK.REQUIRED: "A required text (subject, description, comment) is empty.",
        TK.TOO_LONG: "Over the field's maximum length (stated in its description).",
        TK.NOT_FOUND: "The related order or provisioning request does not exist or is out of your reach.",
        TK.NOT_ALLOWED: "Only support staff set this (the priority, an internal note).",
        TK.ASSIGNEE_NOT_AGENT: "Not an active support agent or staff member of the tenant.",
        TK.REOPEN_WINDOW_EXPIRED: "The reopening window after resolution has passed: open a new ticket.",
        TK.TICKET_CLOSED: "A CLOSED ticket takes no comments: reopen it first.",
    },
)


ERROR_CODES: list[type] = [
    ErrorCode,
    RefusalReason,
    MoneyErrorCode,
    TextErrorCode,
    IdentityErrorCode,
    CatalogErrorCode,
    OrderErrorCode,
    BillingErrorCode,
    DnsErrorCode,
    ProvisioningErrorCode,
    StreamErrorCode,
    PlatformErrorCode,
    TicketErrorCode,
    NotificationErrorCode,
]
