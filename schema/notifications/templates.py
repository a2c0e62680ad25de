"""Notification mail templates: types, inputs and payloads."""

from __future__ import annotations

from typing import Self

import strawberry

from schema.errors import UserError, user_errors_field
from schema.notifications.enums import NotificationType
from services.notifications import templates


@strawberry.type(description="The tenant's mail template of one notification type (Jinja2, sandboxed).")
class NotificationTemplate:
    type: NotificationType = strawberry.field(description="The notification type it renders.")
    subject: str = strawberry.field(description="The mail subject template.")
    body_text: str = strawberry.field(description="The plain-text body template (what the mail carries).")
    body_html: str | None = strawberry.field(description="The HTML body template (autoescaped), if any.")
    is_default: bool = strawberry.field(description="True while the tenant has none of its own (built-in).")

    @classmethod
    def from_result(cls, found: templates.Template) -> Self:
        return cls(
            type=found.type,
            subject=found.subject,
            body_text=found.body_text,
            body_html=found.body_html,
            is_default=found.default,
        )


@strawberry.type(description="A template rendered with sample data and the tenant's branding.")
class RenderedNotification:
    subject: str = strawberry.field(description="The subject as a recipient would get it.")
    text: str = strawberry.field(description="The plain-text body.")
    html: str | None = strawberry.field(description="The HTML body, when the template has one.")

    @classmethod
    def from_result(cls, rendered: templates.Rendered) -> Self:
        return cls(subject=rendered.subject, text=rendered.text, html=rendered.html)


@strawberry.input(
    description="A mail template: Jinja2 with title, body, link, data, user {name, email} and tenant "
    "{name, logo_url, color}; each template at most 20000 characters."
)
class NotificationTemplateInput:
    type: NotificationType = strawberry.field(description="The notification type it renders.")
    subject: str = strawberry.field(description="The subject template.")
    body_text: str = strawberry.field(description="The plain-text body template.")
    body_html: str | None = strawberry.field(
        default=None, description="The HTML body template (autoescaped)."
    )


@strawberry.input(description="What to preview: a template given here, or the tenant's of a type.")
class PreviewNotificationTemplateInput:
    type: NotificationType = strawberry.field(description="The type whose stored template is rendered.")
    template: NotificationTemplateInput | None = strawberry.field(
        default=None, description="A template to try instead of the stored one (nothing is saved)."
    )


@strawberry.input(description="The type whose template is mailed to you as a test.")
class SendTestNotificationInput:
    type: NotificationType = strawberry.field(description="The notification type.")


@strawberry.type(description="The template as stored; or userErrors (it must render with sample data).")
class NotificationTemplatePayload:
    template: NotificationTemplate | None = strawberry.field(default=None, description="As stored.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The rendered template; or userErrors saying where it fails.")
class NotificationPreviewPayload:
    preview: RenderedNotification | None = strawberry.field(default=None, description="The result.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="Where the test mail went; or userErrors.")
class SendTestNotificationPayload:
    sent_to: str | None = strawberry.field(default=None, description="Your mail address it was queued for.")
    user_errors: list[UserError] = user_errors_field()
