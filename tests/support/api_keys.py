"""API keys and service clients for tests: made through the API, as a client would."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Account

KEY_FIELDS = """
id name environment keyPrefix lastFour scopes allowedIps rateLimitPerMinute expiresAt lastUsedAt
usageCount createdAt revokedAt revokeReason active owner { id email }
"""
CREATE_KEY = f"""
mutation($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{ secret apiKey {{ {KEY_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
REVOKE_KEY = f"""
mutation($input: RevokeApiKeyInput!) {{
  revokeApiKey(input: $input) {{ apiKey {{ {KEY_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
LIST_KEYS = """
query($filter: ApiKeyFilterInput, $first: Int, $after: String) {
  apiKeys(filter: $filter, first: $first, after: $after) {
    totalCount nodes { id name owner { email } revokedAt } pageInfo { hasNextPage endCursor }
  }
}
"""
CLIENT_FIELDS = "id clientId name scopes createdAt lastTokenAt revokedAt revokeReason"
CREATE_CLIENT = f"""
mutation($input: CreateServiceClientInput!) {{
  createServiceClient(input: $input) {{
    clientSecret serviceClient {{ {CLIENT_FIELDS} }} userErrors {{ field code message }}
  }}
}}
"""


async def create_key(gql: GraphQLClient, owner: Account, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A new key of ``owner`` (scopes ORDERS_READ unless given): (secret, ApiKey)."""
    fields.setdefault("name", "test key")
    fields.setdefault("scopes", ["ORDERS_READ"])
    data = (await gql(CREATE_KEY, {"input": fields}, token=owner.token)).ok()["createApiKey"]
    assert data["userErrors"] == [], data
    return data["secret"], data["apiKey"]


async def with_key(
    gql: GraphQLClient,
    secret: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    header: str = "bearer",
) -> GraphQLResult:
    """``query`` sent with the key, as ``Authorization: Bearer`` or ``X-API-Key``."""
    if header == "bearer":
        return await gql(query, variables, token=secret)
    return await gql(query, variables, headers={"X-API-Key": secret})


def refusal(result: GraphQLResult) -> tuple[int, str, str | None]:
    """(HTTP status, extensions.code, extensions.reason) of a refused request's one error."""
    (error,) = result.errors
    extensions = error.get("extensions", {})
    return result.status, extensions.get("code"), extensions.get("reason")


async def create_client(gql: GraphQLClient, admin: Account, scopes: list[str]) -> tuple[str, dict[str, Any]]:
    """A new service client: (client secret, ServiceClient)."""
    data = (
        await gql(CREATE_CLIENT, {"input": {"name": "billing worker", "scopes": scopes}}, token=admin.token)
    ).ok()["createServiceClient"]
    assert data["userErrors"] == [], data
    return data["clientSecret"], data["serviceClient"]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def token_of(
    http: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None
) -> dict[str, Any]:
    """A service token by the client-credentials grant (HTTP Basic): the JSON answer."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope is not None else {})}
    response = await http.post("/oauth/token", data=form, headers=basic(client_id, secret))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
