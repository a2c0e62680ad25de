"""The identity domain's userError codes."""

from __future__ import annotations

import enum


class IdentityErrorCode(enum.StrEnum):
    """userError codes of the identity mutations (sign-in, accounts, users, tenants)."""

    # Sign-in and sessions
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"  # tenant, email or password wrong (one answer for all)
    ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"
    TENANT_SUSPENDED = "TENANT_SUSPENDED"
    UNKNOWN_TENANT = "UNKNOWN_TENANT"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    REFRESH_TOKEN_EXPIRED = "REFRESH_TOKEN_EXPIRED"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # a rotated token came back: its session is ended
    SESSION_REVOKED = "SESSION_REVOKED"
    # Account and tenant input
    INVALID_EMAIL = "INVALID_EMAIL"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    UNCHANGED = "UNCHANGED"  # the new password is the current one
    INVALID_SLUG = "INVALID_SLUG"
    RESERVED_SLUG = "RESERVED_SLUG"
    # Administration
    CONFLICT = "CONFLICT"  # the email or slug is taken, or the row changed meanwhile
    CONFUSABLE_EMAIL = "CONFUSABLE_EMAIL"  # the email looks like another account's (TR39 skeleton)
    FORBIDDEN = "FORBIDDEN"  # a field only platform admins may set
    CANNOT_SUSPEND_SELF = "CANNOT_SUSPEND_SELF"
    CANNOT_DEMOTE_SELF = "CANNOT_DEMOTE_SELF"
    CANNOT_SUSPEND_OWN_TENANT = "CANNOT_SUSPEND_OWN_TENANT"
    INVALID_TRANSITION = "INVALID_TRANSITION"  # e.g. reactivating a cancelled tenant
    # OAuth and OIDC sign-in (REST callbacks redirect to the frontend with ?error=<code>)
    OAUTH_UNKNOWN_PROVIDER = "OAUTH_UNKNOWN_PROVIDER"  # no enabled provider has this name
    OAUTH_INVALID_STATE = "OAUTH_INVALID_STATE"  # missing, forged, already used or of another provider
    OAUTH_STATE_EXPIRED = "OAUTH_STATE_EXPIRED"  # the sign-in took longer than oauth_state_ttl_seconds
    OAUTH_ACCESS_DENIED = "OAUTH_ACCESS_DENIED"  # the user declined at the provider
    OAUTH_PROVIDER_ERROR = "OAUTH_PROVIDER_ERROR"  # the provider answered another error
    OAUTH_EXCHANGE_FAILED = "OAUTH_EXCHANGE_FAILED"  # the code was refused, or the provider unreachable
    OAUTH_INVALID_ID_TOKEN = "OAUTH_INVALID_ID_TOKEN"  # bad signature, issuer, audience, nonce or expiry
    OAUTH_EMAIL_UNVERIFIED = "OAUTH_EMAIL_UNVERIFIED"  # the provider has no verified address for them
    # The address belongs to an account of the tenant: sign in to it, then link the provider.
    OAUTH_ACCOUNT_EXISTS = "OAUTH_ACCOUNT_EXISTS"
    OAUTH_IDENTITY_IN_USE = "OAUTH_IDENTITY_IN_USE"  # linking an identity another user signs in with
    # Sign-in providers: Telegram login, linked identities (services/identity/telegram.py,
    # linked_identities.py)
    TELEGRAM_INVALID_HASH = "TELEGRAM_INVALID_HASH"  # the widget data is malformed or not signed by our bot
    TELEGRAM_AUTH_EXPIRED = "TELEGRAM_AUTH_EXPIRED"  # auth_date older than telegram_auth_max_age_seconds
    TELEGRAM_LOGIN_REUSED = "TELEGRAM_LOGIN_REUSED"  # this widget answer already signed in once
    LAST_SIGN_IN_METHOD = "LAST_SIGN_IN_METHOD"  # unlinking it would leave no way to sign in
    # Invites and user administration (bans, deletion, forced password change)
    INVALID_INVITE = "INVALID_INVITE"  # no invite has this token
    INVITE_EXPIRED = "INVITE_EXPIRED"
    INVITE_REVOKED = "INVITE_REVOKED"
    INVITE_ALREADY_ACCEPTED = "INVITE_ALREADY_ACCEPTED"  # the token is single use
    INVITE_NOT_PENDING = "INVITE_NOT_PENDING"  # revoking an accepted, revoked or expired invite
    ALREADY_MEMBER = "ALREADY_MEMBER"  # inviting an email that is already a user of the tenant
    INVALID_ROLE = "INVALID_ROLE"  # no roles, or one the caller may not grant
    # (an invite's expiry or a ban's unblock date in the past, or too far ahead: INVALID_EXPIRY)
    ACCOUNT_BANNED = "ACCOUNT_BANNED"  # sign-in refused until the unblock date (in the message)
    CANNOT_BAN_SELF = "CANNOT_BAN_SELF"
    CANNOT_DELETE_SELF = "CANNOT_DELETE_SELF"
    USER_DELETED = "USER_DELETED"  # the user was deleted (anonymised): nothing more to change
    # Registration, verification and password reset
    EMAIL_OR_PHONE = "EMAIL_OR_PHONE"  # neither given (register, reset), or both (login: exactly one)
    INVALID_PHONE = "INVALID_PHONE"  # not an international (E.164) number
    PHONE_TAKEN = "PHONE_TAKEN"
    INVALID_USERNAME = "INVALID_USERNAME"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    TERMS_NOT_ACCEPTED = "TERMS_NOT_ACCEPTED"  # the tenant requires acceptTerms: true
    INVALID_AFFILIATE_CODE = "INVALID_AFFILIATE_CODE"
    NO_EMAIL = "NO_EMAIL"  # verifying an email on an account without one
    NO_PHONE = "NO_PHONE"
    ALREADY_VERIFIED = "ALREADY_VERIFIED"
    INVALID_VERIFICATION_TOKEN = "INVALID_VERIFICATION_TOKEN"  # unknown, of another tenant, or wrong
    VERIFICATION_TOKEN_USED = "VERIFICATION_TOKEN_USED"  # single use (or replaced by a newer one)
    VERIFICATION_TOKEN_EXPIRED = "VERIFICATION_TOKEN_EXPIRED"
    INVALID_VERIFICATION_CODE = "INVALID_VERIFICATION_CODE"  # wrong code, or no code was requested
    VERIFICATION_ATTEMPTS_EXCEEDED = "VERIFICATION_ATTEMPTS_EXCEEDED"  # request a new code
    # Tenant administration (settings patch, quotas, trial, soft delete, branding, domains)
    INVALID_SETTINGS = "INVALID_SETTINGS"  # the patch is no JSON object, or the result too large
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"  # the tenant's maxUsers or maxProducts is reached
    INVALID_QUOTA = "INVALID_QUOTA"  # a quota out of range
    TRIAL_EXPIRED = "TRIAL_EXPIRED"  # the TRIAL tenant's trialEndsAt has passed: no sign-in
    CANNOT_DELETE_OWN_TENANT = "CANNOT_DELETE_OWN_TENANT"
    TENANT_DELETED = "TENANT_DELETED"  # deleting it twice
    TENANT_NOT_DELETED = "TENANT_NOT_DELETED"  # restoring one that is not deleted
    RESTORE_PERIOD_OVER = "RESTORE_PERIOD_OVER"  # deleted longer ago than tenantRestoreDays
    INVALID_URL = "INVALID_URL"  # a branding URL that is not an absolute https URL
    INVALID_COLOR = "INVALID_COLOR"  # a colour that is not #RRGGBB
    INVALID_TEXT = "INVALID_TEXT"  # control characters (line breaks) in a one-line text
    INVALID_HOSTNAME = "INVALID_HOSTNAME"
    DOMAIN_TAKEN = "DOMAIN_TAKEN"  # another tenant has verified this hostname
    TOO_MANY_DOMAINS = "TOO_MANY_DOMAINS"
    DOMAIN_CHALLENGE_EXPIRED = "DOMAIN_CHALLENGE_EXPIRED"  # add the domain again for a fresh challenge
    DNS_RECORD_MISSING = "DNS_RECORD_MISSING"  # no TXT record at the challenge name
    DNS_RECORD_MISMATCH = "DNS_RECORD_MISMATCH"  # TXT records there, none with the challenge value
    DNS_LOOKUP_FAILED = "DNS_LOOKUP_FAILED"  # the resolver timed out or failed: try again later
    # Tenants: HTTP_FILE domain checks, contacts and allowed origins, self-service signup
    HTTP_FILE_MISSING = "HTTP_FILE_MISSING"  # the challenge URL answered no file (not 200)
    HTTP_FILE_MISMATCH = "HTTP_FILE_MISMATCH"  # the file there does not hold the challenge value
    HTTP_FETCH_FAILED = "HTTP_FETCH_FAILED"  # no address, no connection or a timeout: try again later
    DOMAIN_ADDRESS_FORBIDDEN = "DOMAIN_ADDRESS_FORBIDDEN"  # the hostname points at a private address
    INVALID_ORIGIN = "INVALID_ORIGIN"  # not scheme://host[:port] (https; http for loopback only)
    TOO_MANY_ORIGINS = "TOO_MANY_ORIGINS"
    TENANT_SIGNUP_DISABLED = "TENANT_SIGNUP_DISABLED"  # this server takes no self-service signups
    # TOTP MFA and tenant security settings
    MFA_SETUP_REQUIRED = "MFA_SETUP_REQUIRED"  # login of an admin the tenant requires MFA of: set it up
    MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED"  # setting up or verifying MFA that is on already
    MFA_NOT_SET_UP = "MFA_NOT_SET_UP"  # verifying without a setup first
    MFA_NOT_ENABLED = "MFA_NOT_ENABLED"  # disabling MFA that is off
    MFA_REQUIRED_BY_TENANT = "MFA_REQUIRED_BY_TENANT"  # an admin disabling MFA the tenant requires
    INVALID_MFA_CODE = "INVALID_MFA_CODE"  # not the authenticator's current code
    MFA_CODE_REUSED = "MFA_CODE_REUSED"  # the code (its time step) was accepted once already
    INVALID_RECOVERY_CODE = "INVALID_RECOVERY_CODE"
    RECOVERY_CODE_USED = "RECOVERY_CODE_USED"  # each recovery code works once
    CODE_OR_RECOVERY_CODE = "CODE_OR_RECOVERY_CODE"  # give exactly one of code and recoveryCode
    INVALID_MFA_CHALLENGE = "INVALID_MFA_CHALLENGE"  # unknown, or not for this step
    MFA_CHALLENGE_EXPIRED = "MFA_CHALLENGE_EXPIRED"  # sign in again
    MFA_CHALLENGE_USED = "MFA_CHALLENGE_USED"  # a challenge completes one sign-in
    OUT_OF_RANGE = "OUT_OF_RANGE"  # a security setting outside its bounds
    # MFA factors (SMS), recovery code regeneration, admin reset; email codes
    INVALID_MFA_FACTOR = "INVALID_MFA_FACTOR"  # a factorId that is not the factor being set up
    NOT_SMS_FACTOR = "NOT_SMS_FACTOR"  # requestMfaCode without an SMS factor
    TOKEN_OR_CODE = "TOKEN_OR_CODE"  # verifyEmail: the link's token, its code, or both; not neither
    # API keys and service clients
    INVALID_NETWORK = "INVALID_NETWORK"  # an allowed IP that is no IPv4/IPv6 address or CIDR network
    INVALID_RATE_LIMIT = "INVALID_RATE_LIMIT"  # requests per minute out of 1..100000
    INVALID_EXPIRY = "INVALID_EXPIRY"  # an expiry in the past
    TOO_MANY_API_KEYS = "TOO_MANY_API_KEYS"  # 50 active keys per user
    ALREADY_REVOKED = "ALREADY_REVOKED"  # revoking a key or client twice
    # Privacy: export, erasure, consent
    EXPORT_IN_PROGRESS = "EXPORT_IN_PROGRESS"  # one export at a time: wait for the queued/running one
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"  # erase: the password, or the current session's id
    # Custom roles and permissions
    UNKNOWN_PERMISSION = "UNKNOWN_PERMISSION"  # not in the catalogue (built-in or custom)
    ROLE_NAME_TAKEN = "ROLE_NAME_TAKEN"  # a system or custom role of the tenant has this name
    INVALID_ROLE_NAME = "INVALID_ROLE_NAME"  # empty, too long or with control characters
    SYSTEM_ROLE_READ_ONLY = "SYSTEM_ROLE_READ_ONLY"  # system roles cannot be changed or deleted
    ROLE_IN_USE = "ROLE_IN_USE"  # deleting a custom role users still hold: remove it from them first
    ROLE_NOT_FOUND = "ROLE_NOT_FOUND"  # no such role in the tenant (another tenant's id included)
    ROLE_ID_OR_NAME = "ROLE_ID_OR_NAME"  # give exactly one of roleId and roleName
    # The permission catalogue (services/identity/permission_catalogue.py) and single grants
    PERMISSION_ID_OR_KEY = "PERMISSION_ID_OR_KEY"  # give exactly one of permissionId and permission
    INVALID_PERMISSION = "INVALID_PERMISSION"  # a resource/action not [a-z][a-z0-9_]*, or a bad name
    PERMISSION_TAKEN = "PERMISSION_TAKEN"  # a built-in or custom permission has this resource:action
    PERMISSION_READ_ONLY = "PERMISSION_READ_ONLY"  # built-in permissions cannot be changed or deleted
    PERMISSION_NOT_FOUND = "PERMISSION_NOT_FOUND"  # no custom permission has this id
    PERMISSION_IN_USE = "PERMISSION_IN_USE"  # custom roles grant it: revoke it first (delete, new key)
    TOO_MANY_PERMISSIONS = "TOO_MANY_PERMISSIONS"  # the platform has 200 custom permissions already
    # User profile: fields, avatar, preferences, email change (services/identity/profile.py, avatars.py)
    INVALID_WEBSITE = "INVALID_WEBSITE"  # not an http(s) URL with a host
    INVALID_BIRTH_DATE = "INVALID_BIRTH_DATE"  # in the future, or before 1900
    UNKNOWN_AVATAR = "UNKNOWN_AVATAR"  # no picture of the avatar library has this id
    AVATAR_TOO_LARGE = "AVATAR_TOO_LARGE"  # an upload over avatar_max_bytes
    UNSUPPORTED_IMAGE = "UNSUPPORTED_IMAGE"  # not a PNG, JPEG, GIF or WebP image (by its bytes)
    INVALID_PREFERENCES = "INVALID_PREFERENCES"  # no JSON object, too deep, or the result too large
    SAME_EMAIL = "SAME_EMAIL"  # changing the address to the one the account has
    INVALID_EMAIL_CHANGE_TOKEN = "INVALID_EMAIL_CHANGE_TOKEN"  # unknown, or of another tenant
    EMAIL_CHANGE_TOKEN_USED = "EMAIL_CHANGE_TOKEN_USED"  # single use (or replaced by a newer request)
    EMAIL_CHANGE_TOKEN_EXPIRED = "EMAIL_CHANGE_TOKEN_EXPIRED"
    # Wallet: balances, ledger entries and the daily usage quota
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"  # a debit beyond the balance (never negative)
    INVALID_AMOUNT = "INVALID_AMOUNT"  # zero, or beyond MAX_AMOUNT_MINOR (or the balance's cap)
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"  # the entry's currency is not the wallet's
    REFERENCE_REUSED = "REFERENCE_REUSED"  # the reference was posted with another kind or amount
    DAILY_QUOTA_EXCEEDED = "DAILY_QUOTA_EXCEEDED"  # more usage than today's remaining quota
