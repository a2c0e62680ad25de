"""Reading the mail the server queued (mail_messages), as a mailbox would."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.scope import TenantScope
from models.billing import MailMessage
from server.runtime import Runtime

ALL = TenantScope.all_tenants()


async def mailed_token(runtime: Runtime, to: str) -> str:
    """The token of the latest accept link mailed to ``to``."""
    async with runtime.db.session(ALL) as session:
        bodies = list(
            await session.scalars(
                select(MailMessage.body_text)
                .where(MailMessage.to_address == to)
                .order_by(MailMessage.created_at.desc())
            )
        )
    assert bodies, f"no mail to {to}"
    found = re.search(r"http://127\.0\.0\.1:8000/invites/accept\?token=(\S+)", bodies[0])
    assert found, bodies[0]
    return found.group(1)
