"""Identity subscriptions: ``userUpdated``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from models.identity import User
from services.auth import live_principal
from services.events import USER_UPDATED
from services.users import USER_READERS
from subscriptions.stream import domain_events

if TYPE_CHECKING:
    from server.context import RequestContext


async def user_updates(ctx: RequestContext, only: uuid.UUID | None) -> AsyncIterator[User]:
    """Users of the caller's tenant as they change: staff see every user, others themselves.

    Access is checked again for every event (permission checks run only at subscribe time), and
    each event is loaded with fresh loaders (the websocket context lives for the connection)."""
    principal = ctx.services.require_principal()
    async for event in domain_events(ctx.runtime.broadcast, USER_UPDATED, principal.tenant_id):
        user_id = uuid.UUID(event["payload"]["userId"])
        if only is not None and user_id != only:
            continue
        principal = await live_principal(ctx.services.db, principal)
        ctx.services.principal = principal
        if user_id != principal.user_id and not principal.has_any_role(*USER_READERS):
            continue
        user = await ctx.new_loaders().identity.user.load(user_id)
        if user is not None:
            yield user
