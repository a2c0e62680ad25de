"""Our `_service { sdl }`, read from a running deployment, composes with the foreign reviews
subgraph: no errors and no hints; in production only with the gateway secret."""

from __future__ import annotations

import httpx
import pytest

from tests.federation.conftest import SECRET, Deployment, Reviews
from tests.federation.harness import compose


def test_composes_with_the_reviews_subgraph_without_errors_or_hints(
    deployment: Deployment, reviews: Reviews
) -> None:
    composed = compose([*deployment.subgraphs, ("reviews", reviews.url)], TENANTGRAPH_GATEWAY_SECRET=SECRET)
    assert (composed.errors, composed.hints) == ([], [])
    api = composed.api_schema or ""
    # Both Reviews are one entity; ours gains the partner's fields, the partner's root field is there.
    assert "type Review implements Node {" in api
    assert "  reviewer: String!\n" in api and "  authorName: String!\n" in api
    assert "  ratingSummary: RatingSummary!\n" in api and "  alsoRated: [Product!]!\n" in api
    assert "  topRatedProducts(first: Int! = 5): [Product!]!\n" in api
    assert "  errorCodes: ErrorCodes!\n" in api


def test_production_sdl_needs_the_gateway_secret(deployment: Deployment) -> None:
    for _, url in deployment.subgraphs:
        without = httpx.post(url, json={"query": "{ _service { sdl } }"})
        assert [e["extensions"]["code"] for e in without.json()["errors"]] == ["FORBIDDEN"]
        wrong = httpx.post(url, json={"query": "{ _service { sdl } }"}, headers={"X-Gateway-Secret": "guess"})
        assert [e["extensions"]["code"] for e in wrong.json()["errors"]] == ["FORBIDDEN"]
        right = httpx.post(url, json={"query": "{ _service { sdl } }"}, headers={"X-Gateway-Secret": SECRET})
        assert "@key" in right.json()["data"]["_service"]["sdl"]
        # Introspection is off in production: the SDL is all a gateway has to compose from.
        introspection = httpx.post(url, json={"query": "{ __schema { queryType { name } } }"})
        assert "errors" in introspection.json()


def test_composing_without_the_secret_is_refused(deployment: Deployment, reviews: Reviews) -> None:
    with pytest.raises(RuntimeError, match="FORBIDDEN"):
        compose([*deployment.subgraphs, ("reviews", reviews.url)])
