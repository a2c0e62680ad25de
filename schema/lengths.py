"""The maximum length of every string input of the schema, in one table (schema coordinates:
``Type.field`` for an input field, ``Type.field(argument:)`` for an argument).

subgraph/lengths.py states each limit in the field's description and checks the limits of
``BEFORE_RESOLVING`` before the resolver runs. Strings over any limit are refused anyway by the
request-wide backstop (MAX_STRING_LENGTH, subgraph/strings.py). tests/test_lengths.py fails when a
string input of the schema is missing here."""

from __future__ import annotations

from core.lengths import (
    CURRENCY_CODE_LENGTH,
    MAX_CURSOR_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_DISCOUNT_CODE_LENGTH,
    MAX_DOCUMENT_NUMBER_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_PREFIX_LENGTH,
    MAX_SEARCH_LENGTH,
    MAX_TENANT_SLUG_LENGTH,
    MAX_TOKEN_LENGTH,
    MAX_URL_LENGTH,
)
from core.phones import MAX_PHONE_INPUT_LENGTH
from services.audit import MAX_ACTION, MAX_TARGET_ID, MAX_TARGET_TYPE
from services.billing.disputes import MAX_EVIDENCE_TEXT, MAX_PROVIDER_DISPUTE_ID
from services.billing.invoice_creation import MAX_DESCRIPTION as MAX_INVOICE_LINE_DESCRIPTION
from services.billing.payments import MAX_CARD_TOKEN_LENGTH
from services.billing.payouts import MAX_URL_CHARS as MAX_ONBOARDING_URL
from services.billing.plans import MAX_PLAN_CODE_LENGTH
from services.billing.refund_processing import MAX_DETAILS as MAX_REFUND_DETAILS
from services.billing.refunds import MAX_REASON as MAX_REFUND_REASON
from services.billing.usage import MAX_EVENT_ID
from services.catalog.products import MAX_NAME as MAX_PRODUCT_NAME
from services.catalog.reviews import MAX_COMMENT
from services.catalog.validation import MAX_SKU_LENGTH, MAX_SLUG_LENGTH
from services.dns.records import MAX_TEXT as MAX_DNS_CONTENT
from services.dns.reverse import MAX_ADDRESS_INPUT
from services.dns.templates import MAX_TEMPLATE_DESCRIPTION, MAX_TEMPLATE_NAME
from services.dns.zonefile import MAX_ZONE_FILE
from services.dns.zones import MAX_ZONE_INPUT
from services.idempotency import MAX_KEY_LENGTH
from services.identity.api_keys import MAX_NAME_CHARS as MAX_API_KEY_NAME
from services.identity.api_keys import MAX_NETWORK_CHARS
from services.identity.api_keys import MAX_REASON_CHARS as MAX_REVOKE_REASON
from services.identity.contacts import MAX_USERNAME_LENGTH
from services.identity.domains import MAX_HOSTNAME_LENGTH
from services.identity.impersonation import MAX_REASON_LENGTH as MAX_IMPERSONATION_REASON
from services.identity.mfa import MAX_CODE_LENGTH as MAX_MFA_CODE_LENGTH
from services.identity.mfa import MAX_LABEL_LENGTH as MAX_MFA_LABEL_LENGTH
from services.identity.oauth import (
    MAX_CODE_LENGTH,
    MAX_CODE_VERIFIER_LENGTH,
    MAX_PROVIDER_LENGTH,
    MAX_STATE_LENGTH,
)
from services.identity.origins import MAX_ORIGIN_LENGTH
from services.identity.permission_catalogue import (
    MAX_PART_LENGTH,
    MAX_PERMISSION_DESCRIPTION,
    MAX_PERMISSION_NAME,
)
from services.identity.profile import (
    MAX_ABOUT_LENGTH,
    MAX_COMPANY_LENGTH,
    MAX_SLOGAN_LENGTH,
    MAX_WEBSITE_LENGTH,
)
from services.identity.registration import MAX_AFFILIATE_CODE_LENGTH
from services.identity.roles import MAX_PERMISSION_LENGTH, MAX_ROLE_DESCRIPTION, MAX_ROLE_NAME
from services.identity.sessions import MAX_DEVICE_ID_LENGTH, MAX_DEVICE_NAME_LENGTH
from services.identity.telegram import MAX_TELEGRAM_FIELD_LENGTH
from services.identity.tenant_profile import COLOR_LENGTH, MAX_FROM_NAME_LENGTH
from services.identity.user_admin import MAX_BAN_REASON_LENGTH
from services.identity.verification import MAX_CODE_LENGTH as MAX_PHONE_CODE_LENGTH
from services.identity.wallet import MAX_REASON_LENGTH as MAX_WALLET_REASON
from services.identity.wallet import MAX_REFERENCE_LENGTH as MAX_WALLET_REFERENCE
from services.notifications import inbox as notification_inbox
from services.notifications.templates import MAX_TEMPLATE_CHARS
from services.orders.delivery import MAX_CARRIER_CHARS, MAX_CONTENT_CHARS, MAX_TRACKING_CHARS, MAX_URL_CHARS
from services.orders.new_order import ADDRESS_FIELDS, MAX_NOTES_CHARS
from services.orders.orders import MAX_REASON_CHARS as MAX_TRANSITION_REASON
from services.orders.shipping import MAX_CODE_CHARS as MAX_SHIPPING_CODE
from services.orders.shipping import MAX_NAME_CHARS as MAX_SHIPPING_NAME
from services.platform import announcements, flags
from services.platform import help as platform_help
from services.platform.maintenance import MAX_MESSAGE as MAX_MAINTENANCE_MESSAGE
from services.platform.texts import MAX_NAME as MAX_PLATFORM_NAME
from services.provisioning.requests import MAX_REASON_CHARS as MAX_PROVISIONING_REASON
from services.streams import moderation
from services.streams import streams as stream_limits
from services.tickets import tickets as ticket_limits

# ID arguments and input fields, and the page cursors (String arguments of these names), all
# checked before resolving.
ID_LENGTH = MAX_ID_LENGTH
CURSOR_ARGUMENTS = frozenset({"after", "before"})
CURSOR_LENGTH = MAX_CURSOR_LENGTH


USAGE_METRIC_LENGTH = 64
USAGE_PERIOD_LENGTH = 7  # YYYY-MM


def _inputs(type_name: str, limit: int, *fields: str) -> dict[str, int]:
    return {f"{type_name}.{field}": limit for field in fields}


# Checked by the domain's service, which answers its own userError (beside every other problem of
# the input at once); the table states them.
BY_SERVICES: dict[str, int] = {
    # audit (services/audit.py, services/identity/impersonation.py: BAD_USER_INPUT naming the field)
    **_inputs("RecordAuditEntryInput", MAX_ACTION, "action"),
    **_inputs("RecordAuditEntryInput", MAX_TARGET_TYPE, "targetType"),
    **_inputs("RecordAuditEntryInput", MAX_TARGET_ID, "targetId"),
    **_inputs("ImpersonateUserInput", MAX_IMPERSONATION_REASON, "reason"),
    # identity
    **_inputs("LoginInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("LoginInput", MAX_EMAIL_LENGTH, "email"),
    **_inputs("LoginInput", MAX_PASSWORD_LENGTH, "password"),
    **_inputs("RegisterInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("RegisterInput", MAX_EMAIL_LENGTH, "email"),
    **_inputs("RegisterInput", MAX_NAME_LENGTH, "fullName"),
    **_inputs("RegisterInput", MAX_PASSWORD_LENGTH, "password"),
    **_inputs("RefreshInput", MAX_TOKEN_LENGTH, "refreshToken"),
    # registration, verification, reset (services/identity/registration.py, verification.py)
    **_inputs("LoginInput", MAX_PHONE_INPUT_LENGTH, "phone"),
    **_inputs("RegisterInput", MAX_PHONE_INPUT_LENGTH, "phone"),
    **_inputs("RegisterInput", MAX_NAME_LENGTH, "firstName", "lastName"),
    **_inputs("RegisterInput", MAX_USERNAME_LENGTH, "username"),
    **_inputs("RegisterInput", MAX_AFFILIATE_CODE_LENGTH, "affiliateCode"),
    **_inputs("RequestPasswordResetInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("RequestPasswordResetInput", MAX_EMAIL_LENGTH, "email"),
    **_inputs("RequestPasswordResetInput", MAX_PHONE_INPUT_LENGTH, "phone"),
    **_inputs("VerifyEmailInput", MAX_TOKEN_LENGTH, "token"),
    **_inputs("VerifyEmailInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("VerifyPhoneInput", MAX_PHONE_CODE_LENGTH, "code"),
    **_inputs("ResetPasswordInput", MAX_TOKEN_LENGTH, "token"),
    **_inputs("ResetPasswordInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("ResetPasswordInput", MAX_PASSWORD_LENGTH, "newPassword"),
    # sessions (services/identity/sessions.py)
    **_inputs("LoginInput", MAX_DEVICE_ID_LENGTH, "deviceId"),
    **_inputs("LoginInput", MAX_DEVICE_NAME_LENGTH, "deviceName"),
    **_inputs("RegisterInput", MAX_DEVICE_ID_LENGTH, "deviceId"),
    **_inputs("RegisterInput", MAX_DEVICE_NAME_LENGTH, "deviceName"),
    **_inputs("LogoutInput", MAX_TOKEN_LENGTH, "refreshToken"),
    # OAuth (services/identity/oauth.py)
    **_inputs("LoginWithOAuthInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **{
        f"{type_name}.{field}": limit
        for type_name in ("LoginWithOAuthInput", "LinkOAuthIdentityInput")
        for field, limit in (
            ("code", MAX_CODE_LENGTH),
            ("redirectUri", MAX_URL_LENGTH),
            ("codeVerifier", MAX_CODE_VERIFIER_LENGTH),
        )
    },
    # sign-in providers (services/identity/oauth.py, telegram.py)
    **_inputs("LoginWithOAuthInput", MAX_STATE_LENGTH, "state"),
    **_inputs("OAuthAuthorizationUrlInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("OAuthAuthorizationUrlInput", MAX_URL_LENGTH, "redirectUri"),
    **_inputs("OAuthAuthorizationUrlInput", MAX_STATE_LENGTH, "state"),
    **_inputs("LoginWithTelegramInput", MAX_TENANT_SLUG_LENGTH, "tenantSlug"),
    **_inputs("ChangePasswordInput", MAX_PASSWORD_LENGTH, "currentPassword", "newPassword"),
    **_inputs("UpdateMeInput", MAX_NAME_LENGTH, "fullName"),
    # profile (services/identity/profile.py)
    **_inputs("UpdateMeInput", MAX_SLOGAN_LENGTH, "slogan"),
    **_inputs("UpdateMeInput", MAX_COMPANY_LENGTH, "companyName"),
    **_inputs("UpdateMeInput", MAX_ABOUT_LENGTH, "aboutMe"),
    **_inputs("UpdateMeInput", MAX_WEBSITE_LENGTH, "website"),
    **_inputs("RequestEmailChangeInput", MAX_EMAIL_LENGTH, "newEmail"),
    **_inputs("RequestEmailChangeInput", MAX_PASSWORD_LENGTH, "currentPassword"),
    **_inputs("UpdateUserInput", MAX_NAME_LENGTH, "fullName"),
    **_inputs("UpdateUserInput", MAX_EMAIL_LENGTH, "email"),
    **_inputs("CreateTenantInput", MAX_TENANT_SLUG_LENGTH, "slug"),
    **_inputs("CreateTenantInput", MAX_NAME_LENGTH, "name", "adminFullName"),
    **_inputs("CreateTenantInput", MAX_EMAIL_LENGTH, "contactEmail", "adminEmail"),
    **_inputs("CreateTenantInput", MAX_PASSWORD_LENGTH, "adminPassword"),
    **_inputs("UpdateTenantInput", MAX_NAME_LENGTH, "name"),
    **_inputs("UpdateTenantInput", MAX_EMAIL_LENGTH, "contactEmail"),
    **_inputs("SetupMfaInput", MAX_TOKEN_LENGTH, "challenge"),
    **_inputs("VerifyMfaSetupInput", MAX_TOKEN_LENGTH, "challenge"),
    **_inputs("VerifyMfaSetupInput", MAX_MFA_CODE_LENGTH, "code"),
    **_inputs("CompleteMfaLoginInput", MAX_TOKEN_LENGTH, "challenge"),
    **_inputs("CompleteMfaLoginInput", MAX_MFA_CODE_LENGTH, "code", "recoveryCode"),
    **_inputs("DisableMfaInput", MAX_MFA_CODE_LENGTH, "code"),
    **_inputs("RegenerateRecoveryCodesInput", MAX_MFA_CODE_LENGTH, "code"),
    **_inputs("SetupMfaInput", MAX_MFA_LABEL_LENGTH, "label"),
    **_inputs("VerifyEmailInput", MAX_PHONE_CODE_LENGTH, "code"),
    # invites and user administration (services/identity/invites.py, user_admin.py)
    **_inputs("CreateInviteInput", MAX_EMAIL_LENGTH, "email"),
    **_inputs("AcceptInviteInput", MAX_TOKEN_LENGTH, "token"),
    **_inputs("AcceptInviteInput", MAX_PASSWORD_LENGTH, "password"),
    **_inputs("AcceptInviteInput", MAX_NAME_LENGTH, "fullName"),
    **_inputs("CreateUserInput", MAX_EMAIL_LENGTH, "email"),
    **_inputs("CreateUserInput", MAX_NAME_LENGTH, "fullName"),
    **_inputs("CreateUserInput", MAX_PASSWORD_LENGTH, "password"),
    **_inputs("BanUserInput", MAX_BAN_REASON_LENGTH, "reason"),
    # tenant administration (services/identity/tenant_profile.py, domains.py)
    **_inputs("UpdateTenantBrandingInput", MAX_NAME_LENGTH, "displayName"),
    **_inputs("UpdateTenantBrandingInput", MAX_FROM_NAME_LENGTH, "emailFromName"),
    **_inputs("UpdateTenantBrandingInput", COLOR_LENGTH, "primaryColor", "secondaryColor"),
    **_inputs(
        "UpdateTenantBrandingInput",
        MAX_URL_LENGTH,
        "logoUrl",
        "logoDarkUrl",
        "faviconUrl",
        "supportUrl",
        "termsUrl",
        "privacyUrl",
    ),
    **_inputs("AddTenantDomainInput", MAX_HOSTNAME_LENGTH, "hostname"),
    **_inputs("UpdateTenantContactInput", MAX_NAME_LENGTH, "contactName"),
    **_inputs("UpdateTenantContactInput", MAX_EMAIL_LENGTH, "contactEmail", "billingEmail"),
    **_inputs("UpdateTenantContactInput", MAX_PHONE_INPUT_LENGTH, "contactPhone"),
    **_inputs("UpdateTenantContactInput", MAX_ORIGIN_LENGTH, "allowedOrigins"),
    **_inputs("SignUpTenantInput", MAX_TENANT_SLUG_LENGTH, "slug"),
    **_inputs("SignUpTenantInput", MAX_NAME_LENGTH, "name", "contactName"),
    **_inputs("SignUpTenantInput", MAX_EMAIL_LENGTH, "contactEmail"),
    **_inputs("SignUpTenantInput", MAX_PHONE_INPUT_LENGTH, "contactPhone"),
    **_inputs("SignUpTenantInput", MAX_PASSWORD_LENGTH, "password"),
    # API keys and service clients (services/identity/api_keys.py, service_clients.py)
    **_inputs("CreateApiKeyInput", MAX_API_KEY_NAME, "name"),
    **_inputs("CreateApiKeyInput", MAX_NETWORK_CHARS, "allowedIps"),  # each of them
    **_inputs("CreateServiceClientInput", MAX_API_KEY_NAME, "name"),
    **_inputs("RevokeApiKeyInput", MAX_REVOKE_REASON, "reason"),
    **_inputs("RevokeServiceClientInput", MAX_REVOKE_REASON, "reason"),
    # catalog
    **{
        coordinate: limit
        for kind, url in (("Brand", "logoUrl"), ("Category", "imageUrl"))
        for action in ("Create", "Update")
        for coordinate, limit in {
            f"{action}{kind}Input.name": MAX_NAME_LENGTH,
            f"{action}{kind}Input.slug": MAX_SLUG_LENGTH,
            f"{action}{kind}Input.description": MAX_DESCRIPTION_LENGTH,
            f"{action}{kind}Input.{url}": MAX_URL_LENGTH,
        }.items()
    },
    **{
        coordinate: limit
        for action in ("Create", "Update")
        for coordinate, limit in {
            f"{action}ProductInput.sku": MAX_SKU_LENGTH,
            f"{action}ProductInput.name": MAX_PRODUCT_NAME,
            f"{action}ProductInput.description": MAX_DESCRIPTION_LENGTH,
            f"{action}ProductInput.imageUrls": MAX_URL_LENGTH,  # each of them
            f"{action}ReviewInput.comment": MAX_COMMENT,
        }.items()
    },
    # money: an ISO 4217 code (services/money.py), INVALID_CURRENCY otherwise
    **_inputs("MoneyInput", CURRENCY_CODE_LENGTH, "currency"),
    # orders
    **{f"PostalAddressInput.{graphql}": limit for _, graphql, limit, _ in ADDRESS_FIELDS},
    **_inputs("CreateOrderInput", MAX_NOTES_CHARS, "notes"),
    # promotion codes (services/orders/new_order.py, promotions.py: TOO_LONG, INVALID_PROMOTION_CODE)
    **_inputs("CreateOrderInput", MAX_DISCOUNT_CODE_LENGTH, "promotionCodes"),  # each of them
    **_inputs("CreatePromotionCodeInput", MAX_DISCOUNT_CODE_LENGTH, "code"),
    **_inputs("UpdatePromotionCodeInput", MAX_DISCOUNT_CODE_LENGTH, "code"),
    # seller onboarding (services/billing/payouts.py: INVALID_URL)
    **_inputs("StartSellerOnboardingInput", MAX_ONBOARDING_URL, "returnUrl", "refreshUrl"),
    # shipping methods (services/orders/shipping.py: INVALID_SHIPPING_METHOD)
    **{f"{action}ShippingMethodInput.code": MAX_SHIPPING_CODE for action in ("Create", "Update")},
    **{f"{action}ShippingMethodInput.name": MAX_SHIPPING_NAME for action in ("Create", "Update")},
    **_inputs("OrderTransitionInput", MAX_TRANSITION_REASON, "reason"),
    # provisioning (services/provisioning/requests.py: TOO_LONG)
    **_inputs("ProvisioningTransitionInput", MAX_PROVISIONING_REASON, "reason"),
    # support tickets (services/tickets/tickets.py: TOO_LONG)
    **{
        f"{action}TicketInput.{field}": limit
        for action in ("Create", "Update")
        for field, limit in (
            ("subject", ticket_limits.MAX_SUBJECT_CHARS),
            ("description", ticket_limits.MAX_DESCRIPTION_CHARS),
            ("category", ticket_limits.MAX_CATEGORY_CHARS),
        )
    },
    **_inputs("AddTicketCommentInput", ticket_limits.MAX_COMMENT_CHARS, "body"),
    # notifications (services/notifications/inbox.py: TOO_LONG)
    **_inputs("SendNotificationInput", notification_inbox.MAX_TITLE, "title"),
    **_inputs("SendNotificationInput", notification_inbox.MAX_BODY, "body"),
    **_inputs("SendNotificationInput", notification_inbox.MAX_LINK, "link"),
    # live streams and moderation (services/streams/: TOO_LONG; a tag's limit is each tag's)
    **{
        f"{action}StreamInput.{field}": limit
        for action in ("Create", "Update")
        for field, limit in (
            ("title", stream_limits.MAX_TITLE),
            ("description", stream_limits.MAX_DESCRIPTION),
            ("category", stream_limits.MAX_CATEGORY),
            ("tags", stream_limits.MAX_TAG),
        )
    },
    **_inputs("ReportContentInput", moderation.MAX_REASON, "reason"),
    **_inputs("ReportContentInput", moderation.MAX_DETAILS, "details"),
    **_inputs("ResolveReportInput", moderation.MAX_NOTE, "note"),
    # platform operations (services/platform/: TOO_LONG, INVALID_NAME)
    **_inputs("CreateAnnouncementInput", announcements.MAX_TITLE, "title"),
    **_inputs("CreateAnnouncementInput", announcements.MAX_CONTENT, "content"),
    **_inputs("SetFeatureFlagInput", MAX_PLATFORM_NAME, "name"),
    **_inputs("SetFeatureFlagInput", flags.MAX_DESCRIPTION, "description"),
    **_inputs("UpsertHelpLinkInput", MAX_PLATFORM_NAME, "key"),
    **_inputs("UpsertHelpLinkInput", platform_help.MAX_TITLE, "title"),
    **_inputs("UpsertHelpLinkInput", platform_help.MAX_URL, "url"),
    **_inputs("ReportClientErrorInput", platform_help.MAX_MESSAGE, "message"),
    **_inputs("ReportClientErrorInput", platform_help.MAX_STACK, "stack"),
    **_inputs("ReportClientErrorInput", platform_help.MAX_URL, "url"),
    **_inputs("ReportClientErrorInput", platform_help.MAX_USER_AGENT, "userAgent"),
    **_inputs("SetMaintenanceModeInput", MAX_MAINTENANCE_MESSAGE, "message"),
    # idempotency keys (services/idempotency.py: BAD_USER_INPUT), with the Idempotency-Key header
    **{
        f"{type_name}.idempotencyKey": MAX_KEY_LENGTH
        for type_name in (
            "CreateOrderInput",
            "OrderTransitionInput",
            "CreatePaymentIntentInput",
            "ConfirmPaymentIntentInput",
            "CreateInvoiceInput",
            "DeliverOrderItemInput",
            "ProcessInvoicePaymentInput",
            "StartGatewayPaymentInput",
        )
    },
    # order item delivery (services/orders/delivery.py)
    **_inputs("SetOrderItemDeliveryInput", MAX_CONTENT_CHARS, "content"),
    **_inputs("SetOrderItemDeliveryInput", MAX_URL_CHARS, "downloadUrl", "trackingUrl"),
    **_inputs("SetOrderItemDeliveryInput", MAX_CARRIER_CHARS, "carrier"),
    **_inputs("SetOrderItemDeliveryInput", MAX_TRACKING_CHARS, "trackingNumber"),
    # standalone invoices (services/billing/invoice_creation.py)
    **_inputs("CreateInvoiceInput", CURRENCY_CODE_LENGTH, "currency"),
    **_inputs("InvoiceLineInput", MAX_INVOICE_LINE_DESCRIPTION, "description"),
    # usage and rating (services/billing/usage.py, pricing_rules.py): a metric is 1 to 64 of
    # a-z0-9_.:- (INVALID_METRIC), a period YYYY-MM (INVALID_PERIOD)
    **_inputs("RecordUsageInput", MAX_EVENT_ID, "eventId"),
    **_inputs("RecordUsageInput", USAGE_METRIC_LENGTH, "metric"),
    **_inputs("CreatePricingRuleInput", USAGE_METRIC_LENGTH, "metric"),
    **_inputs("PricingInput", CURRENCY_CODE_LENGTH, "currency"),
    **_inputs("BillUsageInput", USAGE_PERIOD_LENGTH, "period"),
    "Query.calculateRating(period:)": USAGE_PERIOD_LENGTH,
    # billing
    **_inputs("AddPaymentMethodInput", MAX_CARD_TOKEN_LENGTH, "cardToken"),
    **_inputs("CreatePlanInput", MAX_PLAN_CODE_LENGTH, "code"),
    **_inputs("CreatePlanInput", MAX_NAME_LENGTH, "name"),
    **_inputs("SendInvoiceInput", MAX_EMAIL_LENGTH, "to"),
    # wallets (services/identity/wallet.py)
    **_inputs("PostWalletEntryInput", MAX_WALLET_REASON, "reason"),
    **_inputs("PostWalletEntryInput", MAX_WALLET_REFERENCE, "reference"),
}

# Checked before the resolver runs: query arguments (BAD_USER_INPUT) and the mutation inputs no
# service checks (a userError TOO_LONG naming the field).
BEFORE_RESOLVING: dict[str, int] = {
    # DNS (services/dns/): names as typed (Unicode names grow in punycode), record content, zone files
    **_inputs("TicketFilterInput", ticket_limits.MAX_CATEGORY_CHARS, "category"),
    **_inputs("StreamFilterInput", stream_limits.MAX_CATEGORY, "category"),
    # notifications: push subscriptions (a URL; base64url keys of 65 and 16 bytes), templates
    **{
        f"{t}.endpoint": MAX_URL_LENGTH
        for t in ("RegisterPushSubscriptionInput", "UnregisterPushSubscriptionInput")
    },
    **_inputs("RegisterPushSubscriptionInput", 100, "p256dh"),
    **_inputs("RegisterPushSubscriptionInput", 50, "auth"),
    **_inputs("NotificationTemplateInput", MAX_TEMPLATE_CHARS, "bodyText", "bodyHtml"),
    **_inputs("NotificationTemplateInput", 500, "subject"),
    **_inputs("MarkAllNotificationsReadInput", MAX_ID_LENGTH, "clientMutationId"),
    "Mutation.clearFeatureFlagOverride(name:)": MAX_PLATFORM_NAME,
    "Mutation.deleteHelpLink(key:)": MAX_PLATFORM_NAME,
    **_inputs("DnsZoneFilterInput", MAX_SEARCH_LENGTH, "search"),
    **_inputs("AdminDnsZoneFilterInput", MAX_SEARCH_LENGTH, "search"),
    **_inputs("DnsRecordFilterInput", MAX_ZONE_INPUT, "name"),
    **_inputs("CreateDnsZoneInput", MAX_ZONE_INPUT, "name"),
    **{f"{t}.name": MAX_ZONE_INPUT for t in ("DnsRecordInput", "DnsRecordChangeInput")},
    **{f"{t}.content": MAX_DNS_CONTENT for t in ("DnsRecordInput", "DnsRecordChangeInput")},
    **{f"{t}.tag": 16 for t in ("DnsRecordInput", "DnsRecordChangeInput")},
    **_inputs("ImportDnsZoneInput", MAX_ZONE_FILE, "zoneFile"),
    **_inputs("CreateDnsZoneTemplateInput", MAX_TEMPLATE_NAME, "name"),
    **_inputs("CreateDnsZoneTemplateInput", MAX_TEMPLATE_DESCRIPTION, "description"),
    **_inputs("SetReverseDnsInput", MAX_ADDRESS_INPUT, "ip"),
    **_inputs("SetReverseDnsInput", MAX_ZONE_INPUT, "ptr"),
    **_inputs("ReverseDnsIpInput", MAX_ADDRESS_INPUT, "ip"),
    **_inputs("AllocateIpAddressInput", MAX_ADDRESS_INPUT, "ip"),
    "Query.reverseDns(ip:)": MAX_ADDRESS_INPUT,
    **_inputs("ConfirmEmailChangeInput", MAX_TOKEN_LENGTH, "token"),
    # identity
    "Query.tenantBySlug(slug:)": MAX_TENANT_SLUG_LENGTH,
    "Query.oauthProviders(tenantSlug:)": MAX_TENANT_SLUG_LENGTH,
    "Query.inviteByToken(token:)": MAX_TOKEN_LENGTH,
    "Query.tenantByDomain(hostname:)": MAX_HOSTNAME_LENGTH,
    "Query.tenantByName(name:)": MAX_NAME_LENGTH,
    **_inputs("LoginWithOAuthInput", MAX_PROVIDER_LENGTH, "provider"),
    **_inputs("EraseMeInput", MAX_PASSWORD_LENGTH, "password"),
    **_inputs("LinkOAuthIdentityInput", MAX_PROVIDER_LENGTH, "provider"),
    **_inputs("OAuthAuthorizationUrlInput", MAX_PROVIDER_LENGTH, "provider"),
    **_inputs(
        "TelegramAuthDataInput",
        MAX_TELEGRAM_FIELD_LENGTH,
        "id",
        "authDate",
        "hash",
        "firstName",
        "lastName",
        "username",
    ),
    **_inputs("TelegramAuthDataInput", MAX_URL_LENGTH, "photoUrl"),
    **_inputs("UserFilterInput", MAX_SEARCH_LENGTH, "search"),
    **_inputs("UsageFilterInput", USAGE_METRIC_LENGTH, "metric"),
    **_inputs("TenantFilterInput", MAX_SEARCH_LENGTH, "search"),
    # audit
    **_inputs("AuditLogFilterInput", MAX_ACTION, "action"),
    **_inputs("AuditLogFilterInput", MAX_TARGET_TYPE, "targetType"),
    **_inputs("AuditLogFilterInput", MAX_TARGET_ID, "targetId"),
    # custom roles (services/identity/roles.py)
    **_inputs("CreateRoleInput", MAX_ROLE_NAME, "name"),
    **_inputs("UpdateRoleInput", MAX_ROLE_NAME, "name", "roleName"),
    **_inputs("RoleRefInput", MAX_ROLE_NAME, "roleName"),
    **_inputs("UserRoleInput", MAX_ROLE_NAME, "roleName"),
    **_inputs("CreateRoleInput", MAX_ROLE_DESCRIPTION, "description"),
    **_inputs("UpdateRoleInput", MAX_ROLE_DESCRIPTION, "description"),
    **_inputs("CreateRoleInput", MAX_PERMISSION_LENGTH, "permissions"),  # each of them
    **_inputs("UpdateRoleInput", MAX_PERMISSION_LENGTH, "permissions"),
    **_inputs("RolePermissionInput", MAX_ROLE_NAME, "roleName"),
    **_inputs("RolePermissionInput", MAX_PERMISSION_LENGTH, "permission"),
    # the permission catalogue (services/identity/permission_catalogue.py)
    **_inputs("PermissionFilterInput", MAX_PART_LENGTH, "resource"),
    **_inputs("CreatePermissionInput", MAX_PART_LENGTH, "resource", "action"),
    **_inputs("UpdatePermissionInput", MAX_PART_LENGTH, "resource", "action"),
    **_inputs("CreatePermissionInput", MAX_PERMISSION_NAME, "name"),
    **_inputs("UpdatePermissionInput", MAX_PERMISSION_NAME, "name"),
    **_inputs("CreatePermissionInput", MAX_PERMISSION_DESCRIPTION, "description"),
    **_inputs("UpdatePermissionInput", MAX_PERMISSION_DESCRIPTION, "description"),
    # wallets
    **_inputs("PostWalletEntryInput", CURRENCY_CODE_LENGTH, "currency"),
    # catalog
    **{
        f"Query.{field}(tenantSlug:)": MAX_TENANT_SLUG_LENGTH
        for field in ("products", "product", "categories", "brands", "productSuggestions")
    },
    "Query.productSuggestions(prefix:)": MAX_PREFIX_LENGTH,
    **{
        f"{type_name}.search": MAX_SEARCH_LENGTH
        for type_name in ("ProductFilterInput", "CategoryFilterInput", "BrandFilterInput")
    },
    **_inputs("ProductFilterInput", CURRENCY_CODE_LENGTH, "currency"),
    # orders
    **_inputs("OrderFilterInput", MAX_SEARCH_LENGTH, "search"),
    **_inputs("CreateOrderInput", MAX_DISCOUNT_CODE_LENGTH, "discountCode"),
    "Query.validatePromotionCode(code:)": MAX_DISCOUNT_CODE_LENGTH,
    **_inputs("SubscribeInput", MAX_DISCOUNT_CODE_LENGTH, "promotionCode"),
    # billing
    "Query.invoiceByNumber(number:)": MAX_DOCUMENT_NUMBER_LENGTH,
    **_inputs("InvoiceFilterInput", CURRENCY_CODE_LENGTH, "currency"),
    **_inputs("RequestRefundInput", MAX_REFUND_REASON, "reason"),
    **_inputs("RequestRefundInput", MAX_REFUND_DETAILS, "details"),
    **_inputs("OpenDisputeInput", MAX_REFUND_REASON, "reason"),
    **_inputs("OpenDisputeInput", MAX_PROVIDER_DISPUTE_ID, "providerDisputeId"),
    **_inputs(
        "DisputeEvidenceInput",
        MAX_EVIDENCE_TEXT,
        "productDescription",
        "customerName",
        "customerEmailAddress",
        "billingAddress",
        "shippingCarrier",
        "shippingTrackingNumber",
        "shippingDate",
        "serviceDate",
        "accessActivityLog",
        "refundPolicyDisclosure",
        "refundRefusalExplanation",
        "uncategorizedText",
    ),
}
