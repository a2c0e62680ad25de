"""Mail templates with tenant branding: list and get (built-in until the tenant has its own),
update (it must render), preview with sample data, a test mail to the caller; notification mails
use the tenant's template. Jinja2 runs sandboxed: reaching for ``__class__`` is refused, syntax and
undefined names are userErrors, oversized templates and results are refused; HTML is autoescaped."""

from __future__ import annotations

from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.identity.tenant_profile import TenantBranding
from tests.notifications.conftest import Shop, mails_to
from tests.notifications.test_inbox import give

TEMPLATES = "{ notificationTemplates { type subject bodyText bodyHtml isDefault } }"
ONE = "query($type: NotificationType!) { notificationTemplate(type: $type) { type subject isDefault } }"
UPDATE = """
mutation($input: NotificationTemplateInput!) {
  updateNotificationTemplate(input: $input) {
    template { type subject isDefault } userErrors { field code message }
  }
}
"""
PREVIEW = """
mutation($input: PreviewNotificationTemplateInput!) {
  previewNotificationTemplate(input: $input) {
    preview { subject text html } userErrors { field code message }
  }
}
"""
SEND_TEST = """
mutation($input: SendTestNotificationInput!) {
  sendTestNotification(input: $input) { sentTo userErrors { code } }
}
"""


def template(**change: Any) -> dict[str, Any]:
    base = {
        "type": "TICKET_ASSIGNED",
        "subject": "[{{ tenant.name }}] {{ title }}",
        "bodyText": "Hi {{ user.name }},\n{{ body }} (#{{ data.number }})\n{{ link }}",
        "bodyHtml": '<p style="color: {{ tenant.color }}">{{ body }}</p>',
    }
    return base | change


async def previewed(shop: Shop, **change: Any) -> dict[str, Any]:
    variables = {"input": {"type": "TICKET_ASSIGNED", "template": template(**change)}}
    result: dict[str, Any] = (await shop.gql(PREVIEW, variables, token=shop.admin.token)).ok()
    return result["previewNotificationTemplate"]


async def test_templates_are_for_admins_and_built_in_until_changed(shop: Shop) -> None:
    user = await shop.account(Role.MANAGER)
    assert (await shop.gql(TEMPLATES, token=user.token)).error_codes == ["FORBIDDEN"]
    found = (await shop.gql(TEMPLATES, token=shop.admin.token)).ok()["notificationTemplates"]
    assert len(found) == 11 and all(t["isDefault"] for t in found)
    stored = (await shop.gql(UPDATE, {"input": template()}, token=shop.admin.token)).ok()[
        "updateNotificationTemplate"
    ]
    assert stored == {
        "template": {"type": "TICKET_ASSIGNED", "subject": template()["subject"], "isDefault": False},
        "userErrors": [],
    }
    again = template(subject="{{ title }}!")
    assert (await shop.gql(UPDATE, {"input": again}, token=shop.admin.token)).ok()[
        "updateNotificationTemplate"
    ]["userErrors"] == []
    one = (await shop.gql(ONE, {"type": "TICKET_ASSIGNED"}, token=shop.admin.token)).ok()[
        "notificationTemplate"
    ]
    assert one == {"type": "TICKET_ASSIGNED", "subject": "{{ title }}!", "isDefault": False}


async def test_preview_uses_branding_and_escapes_html(shop: Shop) -> None:
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        session.add(
            TenantBranding(tenant_id=shop.tenant_id, display_name="Acme & Co", primary_color="#ff0000")
        )
    shown = await previewed(
        shop, bodyHtml="<p style='color: {{ tenant.color }}'>{{ tenant.name }} {{ '<b>' }}</p>"
    )
    assert shown["userErrors"] == []
    preview = shown["preview"]
    assert preview["subject"] == "[Acme & Co] Ticket #42 was assigned to you"
    assert preview["text"].startswith("Hi ") and "The printer is on fire (#42)" in preview["text"]
    assert preview["html"] == "<p style='color: #ff0000'>Acme &amp; Co &lt;b&gt;</p>"


async def test_the_sandbox_and_the_limits(shop: Shop) -> None:
    def errors(shown: dict[str, Any]) -> list[tuple[str, str]]:
        return [(e["field"][-1], e["code"]) for e in shown["userErrors"]]

    escape = await previewed(shop, bodyText="{{ ''.__class__.__mro__ }}")
    assert errors(escape) == [("bodyText", "TEMPLATE_FORBIDDEN")] and escape["preview"] is None
    globals_ = await previewed(shop, subject="{{ lipsum.__globals__ }}")
    assert errors(globals_) == [("subject", "TEMPLATE_FORBIDDEN")]
    assert errors(await previewed(shop, bodyText="{% if %}")) == [("bodyText", "TEMPLATE_SYNTAX")]
    assert errors(await previewed(shop, bodyText="{{ nothing_here }}")) == [
        ("bodyText", "TEMPLATE_UNDEFINED")
    ]
    # Over 20000 characters: the input is refused before any service (the schema's string limit).
    too_long = {"input": {"type": "TICKET_ASSIGNED", "template": template(bodyText="x" * 20_001)}}
    assert (await shop.gql(PREVIEW, too_long, token=shop.admin.token)).error_codes == ["BAD_USER_INPUT"]
    huge = "{% for i in range(20000) %}0123456789{% endfor %}"
    assert errors(await previewed(shop, bodyText=huge)) == [("bodyText", "TEMPLATE_TOO_LARGE")]
    # A template that does not render is not stored.
    refused = (
        await shop.gql(UPDATE, {"input": template(bodyText="{{ ''.__class__ }}")}, token=shop.admin.token)
    ).ok()
    assert [e["code"] for e in refused["updateNotificationTemplate"]["userErrors"]] == ["TEMPLATE_FORBIDDEN"]
    one = (await shop.gql(ONE, {"type": "TICKET_ASSIGNED"}, token=shop.admin.token)).ok()[
        "notificationTemplate"
    ]
    assert one["isDefault"] is True


async def test_notification_mails_and_test_mails_use_the_tenant_template(shop: Shop) -> None:
    stored = (await shop.gql(UPDATE, {"input": template()}, token=shop.admin.token)).ok()
    assert stored["updateNotificationTemplate"]["userErrors"] == []
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        session.add(TenantBranding(tenant_id=shop.tenant_id, display_name="Acme Support"))
    agent = await shop.account()
    await give(shop, agent, 1)  # TICKET_ASSIGNED is mailed by default
    (mail,) = await mails_to(shop.runtime, agent.email)
    assert mail.subject == "[Acme Support] Ticket #0 was assigned to you"
    assert mail.body_text.startswith("Hi ") and "Ticket 0 (#0)" in mail.body_text
    sent = (await shop.gql(SEND_TEST, {"input": {"type": "TICKET_ASSIGNED"}}, token=shop.admin.token)).ok()
    assert sent["sendTestNotification"] == {"sentTo": shop.admin.email, "userErrors": []}
    (test_mail,) = await mails_to(shop.runtime, shop.admin.email)
    assert test_mail.subject == "[Test] [Acme Support] Ticket #42 was assigned to you"
