"""Billing fixtures: a fake Stripe server, and a second app of the session configured like a
production deployment of billing (Stripe-compatible provider URL, webhook secrets, no background
jobs) on the same PostgreSQL, so its tests also get clean tables before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from server.runtime import Runtime
from tests.conftest import app_client, make_settings
from tests.harness.servers import PostgresServer, RedisServer
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient

STRIPE_WEBHOOK_SECRET = "whsec_billing_tests_0123456789abcdef"
HYPERSWITCH_KEY = "hyperswitch-billing-tests-key-0123456789"


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    server = FakeStripe()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def billing_settings(
    settings: Settings, postgres: PostgresServer, redis_server: RedisServer, fake_stripe: FakeStripe
) -> Settings:
    # ``settings`` first: it has migrated the database.
    return make_settings(
        postgres.url,
        redis_server.url,
        payment_provider_url=fake_stripe.url,
        payment_provider_secret_key=fake_stripe.secret_key,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        hyperswitch_webhook_key=HYPERSWITCH_KEY,
        billing_jobs_seconds=0,
    )


@pytest.fixture(scope="session")
async def billing_app(app: Starlette, billing_settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(billing_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def billing_runtime(billing_app: Starlette) -> Runtime:
    return billing_app.state.runtime


@pytest.fixture
async def bhttp(billing_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(billing_app, "203.0.113.9", "http://billing") as client:
        yield client


@pytest.fixture
def bgql(bhttp: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(bhttp)
