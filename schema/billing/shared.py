"""What the billing types share: the customer and the order they point to, and the userError codes."""

from __future__ import annotations

import uuid

from strawberry.types import Info

from core.errors import NotFound
from schema.identity.accounts import User


async def user_of(info: Info, user_id: uuid.UUID) -> User:
    user = await info.context.loaders.identity.user.load(user_id)
    if user is None:
        raise NotFound("User")
    return User.from_model(user)
