"""`_service { sdl }` is the whole schema: in production only the gateway's secret or a platform
admin reads it (introspection being off would mean little otherwise)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.permissions import Role
from core.settings import Settings
from tests.conftest import PRODUCTION_SETTINGS, TEST_SIGNING_KEY, gql_of_own_app
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

SDL = "{ _service { sdl } }"
SECRET = "gateway-secret-for-the-tests-0123456789"


@pytest.fixture(scope="module")
async def production(settings: Settings) -> AsyncIterator[GraphQLClient]:
    overrides = {**PRODUCTION_SETTINGS, "jwt_signing_key": TEST_SIGNING_KEY, "gateway_secret": SECRET}
    async with gql_of_own_app(settings.database_url, **overrides) as client:
        yield client


async def test_production_sdl_needs_the_gateway_secret_or_a_platform_admin(
    production: GraphQLClient, identity: Identity
) -> None:
    anonymous = await production(SDL)
    assert anonymous.data is None
    assert anonymous.error_codes == ["FORBIDDEN"], anonymous.body
    assert "type Query" not in str(anonymous.body)

    wrong = await production(SDL, headers={"X-Gateway-Secret": SECRET + "x"})
    assert wrong.error_codes == ["FORBIDDEN"]

    tenant_admin = await identity.account("acme", Role.TENANT_ADMIN)
    assert (await production(SDL, token=tenant_admin.token)).error_codes == ["FORBIDDEN"]

    gateway = (await production(SDL, headers={"X-Gateway-Secret": SECRET})).ok()
    assert "type Product" in gateway["_service"]["sdl"]
    assert "@key" in gateway["_service"]["sdl"]

    admin = await identity.platform_admin()
    assert (await production(SDL, token=admin.token)).ok() == gateway


async def test_development_sdl_is_open(gql: GraphQLClient) -> None:
    assert "type Query" in (await gql(SDL)).ok()["_service"]["sdl"]
