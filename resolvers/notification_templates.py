"""Notification template resolvers (TENANT_ADMIN): the templates with the tenant's branding,
updating one, previewing with sample data and mailing a test to yourself."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import NOTIFICATION_TEMPLATE_EDITORS
from schema.directives import HasRole, access
from schema.errors import mutation_payload
from schema.notifications.enums import NotificationType
from schema.notifications.templates import (
    NotificationPreviewPayload,
    NotificationTemplate,
    NotificationTemplateInput,
    NotificationTemplatePayload,
    PreviewNotificationTemplateInput,
    RenderedNotification,
    SendTestNotificationInput,
    SendTestNotificationPayload,
)
from services.notifications import templates

EDITORS = HasRole(*NOTIFICATION_TEMPLATE_EDITORS)


def _template(given: NotificationTemplateInput) -> templates.Template:
    return templates.Template(given.type, given.subject, given.body_text, given.body_html, False)


@strawberry.type
class NotificationTemplateQuery:
    @strawberry.field(
        extensions=access(EDITORS),
        description="The tenant's mail template of every notification type (a fixed set, not paged): "
        "its own, or the built-in one.",
    )
    async def notification_templates(self, info: Info) -> list[NotificationTemplate]:
        return [
            NotificationTemplate.from_result(t) for t in await templates.list_templates(info.context.services)
        ]

    @strawberry.field(extensions=access(EDITORS), description="The tenant's mail template of one type.")
    async def notification_template(
        self,
        info: Info,
        type: Annotated[NotificationType, strawberry.argument(description="The notification type.")],
    ) -> NotificationTemplate:
        found = {t.type: t for t in await templates.list_templates(info.context.services)}
        return NotificationTemplate.from_result(found[type])


@strawberry.type
class NotificationTemplateMutation:
    @strawberry.mutation(
        extensions=access(EDITORS),
        description="Stores the tenant's mail template of a type, once it renders with sample data.",
    )
    async def update_notification_template(
        self,
        info: Info,
        input: Annotated[NotificationTemplateInput, strawberry.argument(description="The template.")],
    ) -> NotificationTemplatePayload:
        return await mutation_payload(
            NotificationTemplatePayload,
            templates.update_template(info.context.services, _template(input)),
            lambda stored: NotificationTemplatePayload(template=NotificationTemplate.from_result(stored)),
        )

    @strawberry.mutation(
        extensions=access(EDITORS),
        description="Renders a template (given, or the tenant's) with sample data; changes nothing.",
    )
    async def preview_notification_template(
        self,
        info: Info,
        input: Annotated[
            PreviewNotificationTemplateInput, strawberry.argument(description="What to render.")
        ],
    ) -> NotificationPreviewPayload:
        given = _template(input.template) if input.template is not None else None
        return await mutation_payload(
            NotificationPreviewPayload,
            templates.preview(info.context.services, given, input.type),
            lambda rendered: NotificationPreviewPayload(preview=RenderedNotification.from_result(rendered)),
        )

    @strawberry.mutation(
        extensions=access(EDITORS),
        description="Mails the tenant's template of a type, with sample data, to your own address.",
    )
    async def send_test_notification(
        self,
        info: Info,
        input: Annotated[SendTestNotificationInput, strawberry.argument(description="Which type.")],
    ) -> SendTestNotificationPayload:
        return await mutation_payload(
            SendTestNotificationPayload,
            templates.send_test(info.context.services, input.type),
            lambda address: SendTestNotificationPayload(sent_to=address),
        )
