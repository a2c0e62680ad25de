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
    RefusalReason,
    MoneyErrorCode,
    TextErrorCode,
    IdentityErrorCode,
    CatalogErrorCode,
    OrderErrorCode,
    BillingErrorCode,
]
