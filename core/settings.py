"""Settings from environment variables (prefix TENANTGRAPH_); defaults serve the embedded run."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.oauth_settings import OAuthProviderSettings, ProviderName
from core.token_keys import HMAC_ALGORITHMS, KeyProblems, TokenKeys, load_token_keys

DEVELOPMENT_SIGNING_KEY = "development-only-signing-key-change-me-in-production!"
MIN_SIGNING_KEY_BYTES = 32
DEVELOPMENT_MFA_KEY = "development-only-mfa-encryption-key-change-me!"


class ConfigurationError(RuntimeError):
    """The server refuses to start with these settings."""


# The whole schema ("all") or one domain group of the split deployment (subgraph/groups.py).
SubgraphName = Literal["all", "identity", "commerce", "operations", "support"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTGRAPH_", env_file=None, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./tenantgraph.db"
    # memory:// keeps events inside one process (embedded run); redis://host:port/db shares them.
    broadcast_url: str = "memory://"
    # Rate-limit counters; empty means "the broadcast Redis if there is one, else memory".
    redis_url: str = ""

    # Access tokens (core/token_keys.py): HS256/384/512 sign with jwt_signing_key; RS256/384/512,
    # PS256/384/512, ES256/384/512 and EdDSA with a private key (PEM, in the variable or a file),
    # whose public half is served at /.well-known/jwks.json with jwt_public_keys (earlier public
    # keys, PEM blocks, still accepted while their tokens live). jwt_key_id names the current key
    # (the tokens' kid header); empty: its RFC 7638 thumbprint.
    jwt_signing_key: str = DEVELOPMENT_SIGNING_KEY
    jwt_algorithm: str = "HS256"
    jwt_private_key: str = ""
    jwt_private_key_file: str = ""
    jwt_public_keys: str = ""
    jwt_key_id: str = ""
    jwt_issuer: str = "tenantgraph"
    jwt_audience: str = "tenantgraph-api"
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    # The httpOnly cookie that carries the refresh token for browser sign-ins (OAuth callbacks set
    # it; refresh and logout read it when the input has no token).
    refresh_cookie_name: str = "tenantgraph_refresh"
    # OAuth / OIDC sign-in (core/oauth_settings.py): a JSON object of provider name to settings.
    oauth_providers: dict[ProviderName, OAuthProviderSettings] = Field(default_factory=dict)
    # How long a started OAuth sign-in may take (its state and PKCE verifier expire then).
    oauth_state_ttl_seconds: int = Field(default=600, gt=0)
    # Telegram Login Widget sign-in (services/identity/telegram.py): the bot's token (empty: off)
    # and how old the widget's auth_date may be.
    telegram_bot_token: str = ""
    telegram_auth_max_age_seconds: int = Field(default=600, gt=0)
    # This server's public base URL (e.g. https://api.example.com) for OAuth callback and start
    # URLs; empty: the URL each request arrived at (set it behind a proxy).
    public_url: str = ""

    # Invites: how long an invite's accept link works unless its admin set the expiry.
    invite_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    # Tenant administration: a soft-deleted tenant may be restored for this many days.
    tenant_restore_days: int = Field(default=30, ge=0)
    # Custom-domain verification: the TXT record `<prefix>.<hostname>` must hold the challenge,
    # which expires after domain_challenge_ttl_seconds. dns_nameserver empty: the system's resolvers.
    domain_challenge_prefix: str = "_tenantgraph-challenge"
    domain_challenge_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    dns_nameserver: str = ""
    dns_port: int = Field(default=53, gt=0, lt=65536)
    dns_timeout_seconds: float = Field(default=5.0, gt=0)
    # DNS zones (services/dns/): the nameservers every hosted zone is assigned (comma-separated
    # hostnames; the parent must delegate to them), the SOA's mname (empty: the first nameserver)
    # and rname (the hostmaster mailbox as a domain name), and the resolvers NS delegation is
    # checked against (comma-separated ip or ip:port; empty: dns_nameserver above, else the system's).
    dns_zone_nameservers: str = "ns1.tenantgraph.test,ns2.tenantgraph.test"
    dns_soa_mname: str = ""
    dns_soa_rname: str = "hostmaster.tenantgraph.test"
    dns_delegation_resolvers: str = ""
    dns_delegation_timeout_seconds: float = Field(default=3.0, gt=0)
    # HTTP_FILE domain checks (services/identity/domain_checks.py): GET http://<hostname>:<port>
    # /.well-known/tenantgraph-challenge/<token>, addresses from the resolver above; private,
    # loopback and link-local addresses refused unless allowed (tests, closed networks).
    domain_http_port: int = Field(default=80, gt=0, lt=65536)
    domain_http_timeout_seconds: float = Field(default=5.0, gt=0)
    domain_http_allow_private_addresses: bool = False
    # Self-service tenant signup (signUpTenant): off unless enabled; the tenant starts as TRIAL
    # for this many days; sign-ups per client IP per auth_rate_limit_window_seconds.
    tenant_signup_enabled: bool = False
    tenant_signup_trial_days: int = Field(default=14, gt=0, le=365)
    tenant_signup_rate_limit_per_ip: int = Field(default=5, gt=0)
    # CORS: origins tenants list (Tenant.allowedOrigins) are re-read at most this often per process.
    tenant_origins_refresh_seconds: float = Field(default=30.0, ge=0)
    # User profile (services/identity/profile.py, avatars.py): an uploaded avatar's largest size,
    # how long an email-change link works, and the largest preferences document (JSON bytes).
    avatar_max_bytes: int = Field(default=512 * 1024, gt=0)
    email_change_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    preferences_max_bytes: int = Field(default=16 * 1024, gt=0)

    production: bool = False
    # GraphiQL at GET /graphql, from our own assets (server/graphiql.py); unset: on in development,
    # off in production.
    graphiql: bool | None = None
    # The live demo dashboard at GET /demo (server/demo_dashboard.py; it signs in as a demo user
    # whose password it carries); unset: on in development, off in production.
    demo_dashboard: bool | None = None
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    frontend_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1024 * 1024

    # Sign-in protection: attempts per window, per account and per client IP.
    auth_rate_limit_per_account: int = 10
    auth_rate_limit_per_ip: int = 50
    auth_rate_limit_window_seconds: int = 60
    # TOTP MFA (services/identity/totp.py): secrets are stored encrypted (AES-GCM) under a key
    # derived from this one; production refuses the default. Changing it makes every stored secret
    # unreadable (those users set MFA up again).
    mfa_encryption_key: str = DEVELOPMENT_MFA_KEY
    # How long the challenge a login answers for an MFA user (or an admin who must set MFA up)
    # stays good.
    mfa_challenge_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    # Verification and password reset (services/identity/verification.py): how long an email
    # link, an SMS code and a reset link work; wrong codes per code; mails and SMS one account (or
    # address) may ask for per rate-limit window.
    email_verification_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    phone_code_ttl_seconds: int = Field(default=600, gt=0)
    password_reset_ttl_seconds: int = Field(default=3600, gt=0)
    verification_max_attempts: int = Field(default=5, ge=1)
    verification_requests_per_account: int = Field(default=5, ge=1)

    # Query protection.
    max_query_depth: int = 12
    max_aliases: int = 30
    # Tokens of one document: parsing and validating one costs up to 40 microseconds a token here.
    max_tokens: int = Field(default=800, ge=1)
    # Longer documents are refused before they are lexed (comments and strings count too).
    max_document_chars: int = Field(default=32 * 1024, ge=1024)
    # Fragment definitions in one document, and directives on one field, fragment or definition.
    max_fragments: int = Field(default=50, ge=0)
    max_directives_per_field: int = Field(default=5, ge=0)
    # The most an operation may cost (subgraph/cost.py); each operation of a batch on its own.
    max_query_cost: int = Field(default=10_000, ge=1)
    # Operations in one batched (JSON array) request.
    max_batch_operations: int = Field(default=10, ge=1)
    # Sent by the federation gateway as X-Gateway-Secret: in production `_service { sdl }` (the
    # whole schema) answers only it or a platform admin. Empty: only platform admins.
    gateway_secret: str = ""
    # Representations one request may ask `_entities` for (a gateway batches per entity type).
    max_entities: int = Field(default=100, ge=1)
    # Any string of a request (variable or literal) longer than this is refused before anything
    # runs; each input field has its own, smaller limit too (schema/lengths.py).
    max_string_length: int = Field(default=20_000, ge=1)

    # Websockets, both protocols (server/websocket_limits.py). A connection that has not sent
    # connection_init within this many seconds is closed with 4408.
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    # Operations running at once on one connection (subscriptions, and queries or mutations sent
    # over it while they run); one more is answered with a RATE_LIMITED error message.
    ws_max_subscriptions_per_connection: int = Field(default=100, ge=1)
    # Open connections of one user, counted by each server process on its own; one more is refused
    # with 4429.
    ws_max_connections_per_user: int = Field(default=20, ge=1)
    # The largest message (UTF-8 bytes) a client may send; a bigger one closes the connection (1009).
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=1024)

    outbox_poll_seconds: float = 1.0
    # Each process keeps the access state of sign-in sessions (ended? suspended? roles) in memory,
    # dropped by events when it changes; an entry is re-read after this many seconds at the latest
    # (0: read on every request). Never trusted while the broadcast link is down.
    access_cache_seconds: float = Field(default=10.0, ge=0)
    # API keys (services/identity/api_keys.py): requests per minute of a key created without its
    # own limit; how often last use and usage counts are written (at most this much is lost if a
    # process dies). Service tokens (POST /oauth/token) live this many seconds.
    api_key_rate_limit_per_minute: int = Field(default=600, ge=1, le=100_000)
    api_key_usage_flush_seconds: float = Field(default=10.0, gt=0)
    service_token_ttl_seconds: int = Field(default=3600, gt=0)
    # Privacy: personal data exports are collected by a worker polling this often; the mailed
    # download link (public_url, else frontend_url) works once, for this many seconds.
    data_export_poll_seconds: float = Field(default=2.0, gt=0)
    data_export_link_seconds: int = Field(default=24 * 3600, gt=0)
    # A job RUNNING this long was left by a dead process: a worker takes it up again, at most
    # data_export_max_attempts times in all (then it is FAILED).
    data_export_stale_seconds: int = Field(default=900, gt=0)
    data_export_max_attempts: int = Field(default=3, ge=1)
    # Web Push (services/notifications/push.py): the VAPID key pair's private key (base64url of
    # the raw 32-byte P-256 key; empty: no push is sent) and the contact it names (a mailto: or
    # https: URL); the push worker polls this often; subscription endpoints must be https unless
    # web_push_allow_http (tests and development).
    web_push_vapid_private_key: str = ""
    web_push_vapid_subject: str = "mailto:admin@example.com"
    web_push_poll_seconds: float = Field(default=1.0, gt=0)
    web_push_allow_http: bool = False
    # Wallets (services/identity/wallet.py): the currency of new wallets (ISO 4217), and each
    # user's usage quota unless setWalletQuota gave them their own.
    wallet_currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    wallet_daily_quota: int = Field(default=20, ge=0, le=1_000_000)
    wallet_parallel_ceiling: int = Field(default=1, ge=0, le=1000)

    # Billing. Outgoing mail: smtp://[user:password@]host:port (smtps:// for TLS); empty keeps
    # queued messages in the mail_messages table (the embedded run and the demo read them there).
    smtp_url: str = ""
    mail_from: str = "billing@tenantgraph.example"
    mail_poll_seconds: float = Field(default=2.0, gt=0)
    # A message that keeps failing (4xx, connection errors) is tried this many times, waiting
    # mail_retry_seconds after the first failure, doubling after each (at most an hour), then FAILED:
    # the defaults wait out about two hours of SMTP outage.
    mail_max_attempts: int = Field(default=8, ge=1, le=100)
    mail_retry_seconds: float = Field(default=60.0, ge=0)
    # Overdue invoices and subscription renewals are checked this often (0 turns the job off).
    billing_jobs_seconds: float = Field(default=60.0, ge=0)
    # Provisioning workers (services/provisioning/worker.py): each server process runs
    # provisioning_workers_in_server of them (one on SQLite) unless provisioning_worker_in_server is
    # false (then run `tenantgraph worker` processes); they look for work every
    # provisioning_poll_seconds (0: never)
    # and hold a request for provisioning_lease_seconds, renewed while a step runs; a worker not seen
    # for provisioning_worker_stale_seconds is no longer counted as live. With
    # provisioning_auto_start (unset: on in development, off in production) the workers start
    # PENDING requests themselves, as the orchestrating service would (the demo has none).
    provisioning_worker_in_server: bool = True
    provisioning_workers_in_server: int = Field(default=2, ge=1, le=16)
    provisioning_auto_start: bool | None = None
    provisioning_poll_seconds: float = Field(default=1.0, ge=0)
    provisioning_lease_seconds: float = Field(default=30.0, gt=0)
    provisioning_worker_stale_seconds: float = Field(default=30.0, gt=0)
    # The simulated cloud provider (services/provisioning/provider.py): seconds per step, and
    # failure injection: comma-separated step names that always fail (e.g. "DEPLOY"). A request's
    # parameters may inject a failure of their own: {"simulate": {"failStep": "DEPLOY"}}.
    provisioning_step_seconds: float = Field(default=1.0, ge=0, le=600)
    provisioning_fail_steps: str = ""
    # Live streams (services/streams): the RTMP URL streamers push to (shown with their key), and
    # the shared secret the ingest server (nginx-rtmp on_publish / on_publish_done) sends as the
    # form field or query parameter `secret`; production refuses the default.
    stream_rtmp_ingest_url: str = "rtmp://localhost:1935/live"
    stream_ingest_secret: str = "development-only-stream-ingest-secret"
    # Maintenance mode (services/platform/maintenance.py): how long a process trusts its cached
    # state when no change event has come (the events make it exact sooner).
    maintenance_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # Client error reports (reportClientError): reports per user per rate-limit window
    # (auth_rate_limit_window_seconds, the one window of services/ratelimit.py).
    client_error_reports_per_window: int = Field(default=20, gt=0)
    # A ticket's requester may reopen it for this many days after it was SOLVED or CLOSED (staff
    # always may).
    ticket_reopen_window_days: int = Field(default=7, ge=0, le=3650)
    # A Stripe-compatible payment API (e.g. https://api.stripe.com); empty uses the in-process fake
    # provider of services/billing/provider.py, which keeps its state in memory (embedded run only).
    payment_provider_url: str = ""
    payment_provider_secret_key: str = "sk_test_development_only"
    # Inbound webhook secrets: Stripe-Signature (HMAC-SHA256) and X-Hyperswitch-Signature (HMAC-SHA512).
    stripe_webhook_secret: str = "whsec_development_only_change_me"
    hyperswitch_webhook_key: str = "development-only-hyperswitch-key"
    # Redirect-style gateways (services/billing/gateways.py). ZarinPal (v4 API): its base URL
    # (e.g. https://payment.zarinpal.com; empty: not offered) and merchant id. After the callback the
    # payer's browser goes to gateway_return_url (empty: frontend_url + /payments/result).
    zarinpal_url: str = ""
    zarinpal_merchant_id: str = ""
    gateway_return_url: str = ""
    gateway_timeout_seconds: float = Field(default=10.0, gt=0)
    # A gateway payment the payer never came back from is verified with the gateway (paid or
    # FAILED) by the billing job this long after it started.
    gateway_payment_expiry_seconds: float = Field(default=1800.0, gt=0)
    log_level: str = "INFO"

    # Observability (server/metrics.py, server/tracing.py, server/observe.py). Set, /metrics answers
    # only "Authorization: Bearer <this>"; empty, /metrics is open in development, off in production.
    metrics_token: str = ""
    # "otlp": OpenTelemetry spans over OTLP/HTTP, configured by the standard OTEL_* variables.
    tracing: Literal["off", "otlp"] = "off"
    # Queries and mutations slower than this are logged at WARNING with their name, duration and
    # SQL statement count; 0 turns the log off.
    slow_operation_ms: float = Field(default=500.0, ge=0)

    # `tenantgraph serve` listens here unless --host / --port say otherwise.
    host: str = "127.0.0.1"
    # What `tenantgraph serve` serves (--subgraph): the whole schema, or one domain group of a split
    # deployment (subgraph/groups.py), with that group's background workers.
    subgraph: SubgraphName = "all"
    port: int = Field(default=8000, ge=1, le=65535)
    # Readiness is "degraded" (still 200) when an outbox event or (with SMTP) a queued mail has
    # waited longer than this, or when less disk is free than this.
    health_outbox_lag_seconds: float = Field(default=60.0, gt=0)
    health_mail_backlog_seconds: float = Field(default=600.0, gt=0)
    health_min_free_disk_mb: int = Field(default=1024, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: dict[str, object]) -> dict[str, object]:
        origins = data.get("allowed_origins")
        if isinstance(origins, str):
            data["allowed_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return data

    @property
    def dns_assigned_nameservers(self) -> list[str]:
        return [n.strip().lower().rstrip(".") for n in self.dns_zone_nameservers.split(",") if n.strip()]

    @property
    def dns_resolver_addresses(self) -> list[str]:
        return [r.strip() for r in self.dns_delegation_resolvers.split(",") if r.strip()]

    @property
    def graphiql_enabled(self) -> bool:
        return not self.production if self.graphiql is None else self.graphiql

    @property
    def demo_dashboard_enabled(self) -> bool:
        return not self.production if self.demo_dashboard is None else self.demo_dashboard

    @property
    def provisioning_starts_itself(self) -> bool:
        return not self.production if self.provisioning_auto_start is None else self.provisioning_auto_start

    @cached_property
    def rate_limit_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.broadcast_url.startswith(("redis://", "rediss://")):
            return self.broadcast_url
        return None

    @cached_property
    def token_keys(self) -> TokenKeys:
        """The access-token keys; KeyProblems when they cannot sign and verify."""
        if self.jwt_private_key.strip() and self.jwt_private_key_file:
            both = "set TENANTGRAPH_JWT_PRIVATE_KEY or TENANTGRAPH_JWT_PRIVATE_KEY_FILE, not both"
            raise KeyProblems([both])
        private_pem = self.jwt_private_key
        if self.jwt_private_key_file:
            try:
                private_pem = Path(self.jwt_private_key_file).read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise KeyProblems([f"TENANTGRAPH_JWT_PRIVATE_KEY_FILE cannot be read: {exc}"]) from exc
        return load_token_keys(
            self.jwt_algorithm, self.jwt_signing_key, private_pem, self.jwt_public_keys, self.jwt_key_id
        )

    def check_for_production(self) -> None:
        """Refuse to start with token keys that cannot sign and verify, or half a ZarinPal set-up (in
        any mode); in production also with secrets anyone can read in our source, with the
        in-process fake payment provider, or with a gateway reached over plain HTTP. Every problem
        is named at once."""
        problems = []
        try:
            self.token_keys  # noqa: B018 - loading them is the check
        except KeyProblems as refused:
            problems.extend(refused.problems)
        if bool(self.zarinpal_url) != bool(self.zarinpal_merchant_id):
            problems.append("set TENANTGRAPH_ZARINPAL_URL and TENANTGRAPH_ZARINPAL_MERCHANT_ID together")
        if not self.production:
            if problems:
                raise ConfigurationError("; ".join(problems))
            return
        if self.jwt_algorithm in HMAC_ALGORITHMS:
            if self.jwt_signing_key == DEVELOPMENT_SIGNING_KEY:
                problems.append(
                    "TENANTGRAPH_JWT_SIGNING_KEY is the development default; "
                    "set a secret of at least 32 random bytes for production"
                )
            elif len(self.jwt_signing_key.encode()) < MIN_SIGNING_KEY_BYTES:
                problems.append(f"TENANTGRAPH_JWT_SIGNING_KEY is shorter than {MIN_SIGNING_KEY_BYTES} bytes")
        if not self.payment_provider_url:
            problems.append(
                "TENANTGRAPH_PAYMENT_PROVIDER_URL is not set; the in-process fake provider is for development"
            )
        if self.zarinpal_url and not self.zarinpal_url.startswith("https://"):
            problems.append(
                "TENANTGRAPH_ZARINPAL_URL is not https: payment verification would travel in clear"
            )
        defaults = Settings.model_fields
        development_secrets = (
            "payment_provider_secret_key",
            "stripe_webhook_secret",
            "hyperswitch_webhook_key",
            "mfa_encryption_key",
            "stream_ingest_secret",
        )
        for name in development_secrets:
            if getattr(self, name) == defaults[name].default:
                problems.append(f"TENANTGRAPH_{name.upper()} is the development default")
        if problems:
            raise ConfigurationError("; ".join(problems))
