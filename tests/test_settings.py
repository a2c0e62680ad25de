"""Settings: production refuses a signing key anyone can know; development defaults serve the
embedded run; lists come from comma-separated environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import DEVELOPMENT_SIGNING_KEY, ConfigurationError, Settings
from server.app import create_app
from tests.conftest import PRODUCTION_SETTINGS
from tests.harness.servers import free_port

GOOD_KEY = "k" * 48


def test_production_refuses_the_development_key() -> None:
    settings = Settings(production=True)
    assert settings.jwt_signing_key == DEVELOPMENT_SIGNING_KEY
    with pytest.raises(ConfigurationError, match="TENANTGRAPH_JWT_SIGNING_KEY is the development default"):
        settings.check_for_production()
    with pytest.raises(ConfigurationError, match="development default"):
        create_app(settings)


@pytest.mark.parametrize("key", ["short", "x" * 31, "é" * 15])
def test_production_refuses_a_short_key(key: str) -> None:
    assert len(key.encode()) < 32
    with pytest.raises(ConfigurationError, match="TENANTGRAPH_JWT_SIGNING_KEY is shorter than 32 bytes"):
        Settings(production=True, jwt_signing_key=key).check_for_production()


def test_production_accepts_a_long_key() -> None:
    settings = Settings(**{**PRODUCTION_SETTINGS, "jwt_signing_key": "y" * 32})  # type: ignore[arg-type]
    settings.check_for_production()
    assert settings.production is True


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("payment_provider_url", "TENANTGRAPH_PAYMENT_PROVIDER_URL is not set"),
        ("payment_provider_secret_key", "TENANTGRAPH_PAYMENT_PROVIDER_SECRET_KEY is the development default"),
        ("stripe_webhook_secret", "TENANTGRAPH_STRIPE_WEBHOOK_SECRET is the development default"),
        ("hyperswitch_webhook_key", "TENANTGRAPH_HYPERSWITCH_WEBHOOK_KEY is the development default"),
    ],
)
def test_production_refuses_development_payment_settings(name: str, reason: str) -> None:
    values = {key: value for key, value in PRODUCTION_SETTINGS.items() if key != name}
    with pytest.raises(ConfigurationError, match=reason):
        Settings(**values).check_for_production()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "half", [{"zarinpal_url": "https://gateway.example"}, {"zarinpal_merchant_id": "m-1"}]
)
def test_half_a_zarinpal_set_up_is_refused_in_any_mode(half: dict[str, str]) -> None:
    with pytest.raises(
        ConfigurationError, match="TENANTGRAPH_ZARINPAL_URL and TENANTGRAPH_ZARINPAL_MERCHANT_ID"
    ):
        Settings(**half).check_for_production()  # type: ignore[arg-type]


def test_production_refuses_a_gateway_over_plain_http() -> None:
    plain = {**PRODUCTION_SETTINGS, "zarinpal_url": "http://gateway.example", "zarinpal_merchant_id": "m-1"}
    with pytest.raises(ConfigurationError, match="TENANTGRAPH_ZARINPAL_URL is not https"):
        Settings(**plain).check_for_production()  # type: ignore[arg-type]
    Settings(**{**plain, "zarinpal_url": "https://gateway.example"}).check_for_production()  # type: ignore[arg-type]
    # Outside production a local fake gateway over plain HTTP is fine.
    Settings(zarinpal_url="http://127.0.0.1:9", zarinpal_merchant_id="m-1").check_for_production()


def test_production_names_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(production=True).check_for_production()
    problems = str(refused.value)
    assert problems.count("TENANTGRAPH_") == 7
    assert "TENANTGRAPH_STREAM_INGEST_SECRET is the development default" in problems


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env.update(extra)
    return env


def test_serve_in_production_without_a_key_exits_with_the_reason(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", str(free_port())],
        cwd=repo_root,
        env=_cli_env(TENANTGRAPH_PRODUCTION="true"),
        capture_output=True,
        text=True,
        timeout=60,  # were the key accepted, it would serve until killed here
    )
    assert done.returncode == 2
    assert "TENANTGRAPH_JWT_SIGNING_KEY is the development default" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_development_defaults() -> None:
    settings = Settings()
    settings.check_for_production()  # development accepts the default key
    assert settings.production is False
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.broadcast_url == "memory://"
    assert settings.rate_limit_redis_url is None
    assert settings.allowed_origins == []
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.jwt_signing_key == DEVELOPMENT_SIGNING_KEY


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TENANTGRAPH_ALLOWED_ORIGINS", " https://app.acme.example, https://admin.acme.example ,"
    )
    for name, value in PRODUCTION_SETTINGS.items():
        monkeypatch.setenv(f"TENANTGRAPH_{name.upper()}", str(value).lower() if value is True else str(value))
    monkeypatch.setenv("TENANTGRAPH_JWT_SIGNING_KEY", GOOD_KEY)
    monkeypatch.setenv("TENANTGRAPH_BROADCAST_URL", "redis://127.0.0.1:6390/0")
    monkeypatch.setenv("TENANTGRAPH_MAX_BODY_BYTES", "2048")
    settings = Settings()
    assert settings.allowed_origins == ["https://app.acme.example", "https://admin.acme.example"]
    assert settings.production is True
    assert settings.jwt_signing_key == GOOD_KEY
    assert settings.max_body_bytes == 2048
    assert settings.rate_limit_redis_url == "redis://127.0.0.1:6390/0"  # the broadcast Redis
    settings.check_for_production()


def test_single_allowed_origin_and_constructor_string() -> None:
    assert Settings(allowed_origins="https://one.example").allowed_origins == ["https://one.example"]  # type: ignore[arg-type]
    assert Settings(allowed_origins=["https://a.example"]).allowed_origins == ["https://a.example"]
