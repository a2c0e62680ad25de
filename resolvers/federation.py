"""Federation's `_service { sdl }`: what a gateway composes from, which is the whole schema, so in
production only the gateway (its shared secret) or a platform admin may read it. (`_entities` is
strawberry's, capped in subgraph/build.py; each entity applies its own access rules.)"""

from __future__ import annotations

import hmac
from functools import cache

import strawberry
from strawberry.schema.base import BaseSchema
from strawberry.types import Info

from core.errors import Forbidden
from core.permissions import PLATFORM_ADMINS

GATEWAY_SECRET_HEADER = "x-gateway-secret"


@strawberry.type(name="_Service")
class Service:
    sdl: str


@cache
def _sdl(schema: BaseSchema) -> str:
    # as_str: the monolith's SDL, or a split subgraph's own (subgraph/build.py).
    return schema.as_str()


def _may_read_sdl(info: Info) -> bool:
    context = info.context
    settings = context.services.settings
    if not settings.production:
        return True
    principal = context.principal
    if principal is not None and principal.has_any_role(*PLATFORM_ADMINS):
        return True
    given = context.request.headers.get(GATEWAY_SECRET_HEADER, "") if context.request is not None else ""
    expected: str = settings.gateway_secret
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@strawberry.type
class FederationQuery:
    @strawberry.field(name="_service")
    def service(self, info: Info) -> Service:
        if not _may_read_sdl(info):
            raise Forbidden(
                "The subgraph schema is for the federation gateway (X-Gateway-Secret) and platform admins."
            )
        return Service(sdl=_sdl(info.schema))
