"""Root fields of the outgoing mail."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import TENANT_ADMINS
from models.billing import MailStatus
from schema.billing.mail import MailMessage
from schema.directives import HasRole, access
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.billing import mail

TENANT_ADMIN = HasRole(*TENANT_ADMINS)


@strawberry.type
class MailQuery:
    @strawberry.field(
        extensions=access(TENANT_ADMIN),
        description="Outgoing e-mail of the tenant, newest first (queued, sent and failed).",
    )
    async def mail_messages(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: Annotated[
            MailStatus | None,
            strawberry.argument(description="Only messages in this state, e.g. FAILED: what never went out."),
        ] = None,
    ) -> Connection[MailMessage]:
        page = await mail.list_mail(info.context.services, page_args(first, after, last, before), status)
        return connection(page, MailMessage.from_model)
