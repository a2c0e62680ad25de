"""Settings from environment variables (prefix TENANTGRAPH_); defaults serve the embedded run."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SIGNING_KEY = "development-only-signing-key-change-me-in-production!"
MIN_SIGNING_KEY_BYTES = 32


class ConfigurationError(RuntimeError):
    """The server refuses to start with these settings."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTGRAPH_", env_file=None, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./tenantgraph.db"
    # memory:// keeps events inside one process (embedded run); redis://host:port/db shares them.
    broadcast_url: str = "memory://"
    # Rate-limit counters; empty means "the broadcast Redis if there is one, else memory".
    redis_url: str = ""

    jwt_signing_key: str = DEVELOPMENT_SIGNING_KEY
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "tenantgraph"
    jwt_audience: str = "tenantgraph-api"
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)

    production: bool = False
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    frontend_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1024 * 1024

    # Sign-in protection: attempts per window, per account and per client IP.
    auth_rate_limit_per_account: int = 10
    auth_rate_limit_per_ip: int = 50
    auth_rate_limit_window_seconds: int = 60

    # Query protection.
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    # Sent by the federation gateway as X-Gateway-Secret: in production `_service { sdl }` (the
    # whole schema) answers only it or a platform admin. Empty: only platform admins.
    gateway_secret: str = ""
    # Representations one request may ask `_entities` for (a gateway batches per entity type).
    max_entities: int = Field(default=100, ge=1)

    outbox_poll_seconds: float = 1.0
    # Each process keeps the access state of sign-in sessions (ended? suspended? roles) in memory,
    # dropped by events when it changes; an entry is re-read after this many seconds at the latest
    # (0: read on every request). Never trusted while the broadcast link is down.
    access_cache_seconds: float = Field(default=10.0, ge=0)

    # Billing. Outgoing mail: smtp://[user:password@]host:port (smtps:// for TLS); empty keeps
    # queued messages in the mail_messages table (the embedded run and the demo read them there).
    smtp_url: str = ""
    mail_from: str = "billing@tenantgraph.example"
    mail_poll_seconds: float = Field(default=2.0, gt=0)
    # Overdue invoices and subscription renewals are checked this often (0 turns the job off).
    billing_jobs_seconds: float = Field(default=60.0, ge=0)
    # A Stripe-compatible payment API (e.g. https://api.stripe.com); empty uses the in-process fake
    # provider of services/billing/provider.py, which keeps its state in memory (embedded run only).
    payment_provider_url: str = ""
    payment_provider_secret_key: str = "sk_test_development_only"
    # Inbound webhook secrets: Stripe-Signature (HMAC-SHA256) and X-Hyperswitch-Signature (HMAC-SHA512).
    stripe_webhook_secret: str = "whsec_development_only_change_me"
    hyperswitch_webhook_key: str = "development-only-hyperswitch-key"
    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: dict[str, object]) -> dict[str, object]:
        origins = data.get("allowed_origins")
        if isinstance(origins, str):
            data["allowed_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return data

    @cached_property
    def rate_limit_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.broadcast_url.startswith(("redis://", "rediss://")):
            return self.broadcast_url
        return None

    def check_for_production(self) -> None:
        """Refuse to serve production traffic with secrets anyone can read in our source, or with
        the in-process fake payment provider; every problem is named at once."""
        if not self.production:
            return
        problems = []
        if self.jwt_signing_key == DEVELOPMENT_SIGNING_KEY:
            problems.append(
                "TENANTGRAPH_JWT_SIGNING_KEY is the development default; "
                "set a secret of at least 32 random bytes for production"
            )
        elif (
            self.jwt_algorithm.startswith("HS") and len(self.jwt_signing_key.encode()) < MIN_SIGNING_KEY_BYTES
        ):
            problems.append(f"TENANTGRAPH_JWT_SIGNING_KEY is shorter than {MIN_SIGNING_KEY_BYTES} bytes")
        if not self.payment_provider_url:
            problems.append(
                "TENANTGRAPH_PAYMENT_PROVIDER_URL is not set; the in-process fake provider is for development"
            )
        defaults = Settings.model_fields
        for name in ("payment_provider_secret_key", "stripe_webhook_secret", "hyperswitch_webhook_key"):
            if getattr(self, name) == defaults[name].default:
                problems.append(f"TENANTGRAPH_{name.upper()} is the development default")
        if problems:
            raise ConfigurationError("; ".join(problems))
