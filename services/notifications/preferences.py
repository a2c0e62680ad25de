"""Which channels a user wants per notification type: their own choice where they made one,
else the type's default (in-app always; mail for what needs action)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import invalid
from models.base import utcnow
from models.db import insert_unless_present
from models.notifications import NotificationChannel, NotificationPreference, NotificationType
from services.context import ServiceContext
from services.notifications.errors import NotificationErrorCode

C, T = NotificationChannel, NotificationType
_MAILED_BY_DEFAULT = frozenset({T.PAYMENT_FAILED, T.PROVISIONING_FAILED, T.TICKET_REPLY, T.TICKET_ASSIGNED})


def default_enabled(kind: NotificationType, channel: NotificationChannel) -> bool:
    """In-app and Web Push (to the browsers you registered) on; mail for what needs action."""
    return channel is not C.EMAIL or kind in _MAILED_BY_DEFAULT


@dataclass(frozen=True, slots=True)
class Preference:
    type: NotificationType
    channel: NotificationChannel
    enabled: bool
    # False when the user chose it; True when it is the type's default.
    default: bool


Choices = dict[tuple[uuid.UUID, str, NotificationChannel], bool]


async def choices_of(session: AsyncSession, user_ids: Collection[uuid.UUID]) -> Choices:
    """Every choice the users made (one statement)."""
    rows = await session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.type,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(NotificationPreference.user_id.in_(user_ids))
    )
    return {(user, kind, channel): enabled for user, kind, channel, enabled in rows.all()}


def wants(choices: Choices, user_id: uuid.UUID, kind: NotificationType, channel: NotificationChannel) -> bool:
    found = choices.get((user_id, kind.value, channel))
    return default_enabled(kind, channel) if found is None else found


def _matrix(user_id: uuid.UUID, choices: Choices) -> list[Preference]:
    return [
        Preference(
            kind,
            channel,
            wants(choices, user_id, kind, channel),
            (user_id, kind.value, channel) not in choices,
        )
        for kind in NotificationType
        for channel in NotificationChannel
    ]


async def my_preferences(ctx: ServiceContext) -> list[Preference]:
    """Every type and channel with what applies to the caller (their choice or the default)."""
    principal = ctx.require_principal()
    async with ctx.read() as session:
        choices = await choices_of(session, [principal.user_id])
    return _matrix(principal.user_id, choices)


@dataclass(frozen=True, slots=True)
class Change:
    type: NotificationType
    channel: NotificationChannel
    enabled: bool


MAX_CHANGES = 100


async def update_preferences(ctx: ServiceContext, changes: Sequence[Change]) -> list[Preference]:
    """Sets the caller's choice for each type and channel named (all or none)."""
    principal = ctx.require_principal()
    if len(changes) > MAX_CHANGES:
        raise invalid(
            "preferences", NotificationErrorCode.TOO_MANY, f"At most {MAX_CHANGES} changes at once."
        )
    if len({(c.type, c.channel) for c in changes}) != len(changes):
        raise invalid("preferences", NotificationErrorCode.DUPLICATE, "Name each type and channel once.")
    async with ctx.transaction() as session:
        for change in changes:
            await insert_unless_present(
                session,
                NotificationPreference,
                [NotificationPreference.user_id, NotificationPreference.type, NotificationPreference.channel],
                id=uuid.uuid4(),
                tenant_id=principal.tenant_id,
                user_id=principal.user_id,
                type=change.type.value,
                channel=change.channel,
                enabled=change.enabled,
                updated_at=utcnow(),
            )
            await session.execute(
                update(NotificationPreference)
                .where(
                    NotificationPreference.user_id == principal.user_id,
                    NotificationPreference.type == change.type.value,
                    NotificationPreference.channel == change.channel,
                )
                .values(enabled=change.enabled, updated_at=utcnow())
            )
        choices = await choices_of(session, [principal.user_id])
    return _matrix(principal.user_id, choices)
