"""Announcements (window, admin list and delete), feature flags (default and per-tenant
override, effective values), help links, client error reports (size and rate limits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.permissions import Role
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.streams.conftest import Studio, new_studio
from tests.support.identity import Account, quick_account

CREATE = """
mutation($input: CreateAnnouncementInput!) {
  createAnnouncement(input: $input) { announcement { id title kind } userErrors { field code } }
}
"""
ACTIVE = "{ activeAnnouncements { title kind } }"
ALL = "{ announcements(first: 10) { edges { node { id title } } } }"
DELETE = "mutation($id: ID!) { deleteAnnouncement(id: $id) { deleted userErrors { code } } }"
SET_FLAG = """
mutation($input: SetFeatureFlagInput!) { setFeatureFlag(input: $input) { name userErrors { field code } } }
"""
FLAGS = "{ featureFlags { name enabled defaultEnabled tenantOverride } }"
UPSERT_LINK = """
mutation($input: UpsertHelpLinkInput!) {
  upsertHelpLink(input: $input) { helpLink { key title url position } userErrors { field code } }
}
"""
LINKS = "{ helpLinks { key title url } }"
REPORT_ERROR = """
mutation($input: ReportClientErrorInput!) {
  reportClientError(input: $input) { report { message url userAgent extra } userErrors { field code } }
}
"""
ERRORS = "{ clientErrorReports(first: 50) { edges { node { message reporterId } } } }"


@pytest.fixture
async def admin(studio: Studio) -> Account:
    return await quick_account(studio.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def test_active_announcements_are_those_inside_their_window(studio: Studio, admin: Account) -> None:
    windows = {"now": (None, None), "open": (-1, 1), "past": (-2, -1), "future": (1, 2)}
    for title, (start, end) in windows.items():
        made = await studio.ok(
            CREATE,
            admin,
            input={
                "title": title,
                "content": "c",
                "kind": "WARNING",
                "startsAt": _at(start) if start is not None else None,
                "endsAt": _at(end) if end is not None else None,
            },
        )
        assert made["createAnnouncement"]["userErrors"] == []
    anonymous = await studio.ok(ACTIVE, None)
    assert anonymous["activeAnnouncements"] == [
        {"title": "open", "kind": "WARNING"},
        {"title": "now", "kind": "WARNING"},
    ]
    listed = (await studio.ok(ALL, admin))["announcements"]["edges"]
    assert [e["node"]["title"] for e in listed] == ["future", "past", "open", "now"]
    assert (await studio.gql(ALL, token=studio.moderator.token)).error_codes == ["FORBIDDEN"]
    backwards = await studio.ok(
        CREATE, admin, input={"title": "x", "content": "c", "startsAt": _at(2), "endsAt": _at(1)}
    )
    assert backwards["createAnnouncement"]["userErrors"] == [
        {"field": ["input", "endsAt"], "code": "INVALID_WINDOW"}
    ]
    gone = await studio.ok(DELETE, admin, id=listed[2]["node"]["id"])
    assert gone["deleteAnnouncement"] == {"deleted": True, "userErrors": []}
    assert (await studio.ok(ACTIVE, None))["activeAnnouncements"] == [{"title": "now", "kind": "WARNING"}]


async def test_flags_default_and_override_per_tenant(studio: Studio, admin: Account) -> None:
    other = await new_studio(studio.runtime, studio.gql, studio.http)
    for name, enabled in (("live-chat", False), ("new-player", True)):
        made = await studio.ok(SET_FLAG, admin, input={"name": name, "enabled": enabled})
        assert made["setFeatureFlag"] == {"name": name, "userErrors": []}
    tenant = studio.streamer.tenant_gid
    await studio.ok(SET_FLAG, admin, input={"name": "live-chat", "enabled": True, "tenantId": tenant})
    ours = (await studio.ok(FLAGS, studio.viewer))["featureFlags"]
    theirs = (await other.ok(FLAGS, other.viewer))["featureFlags"]
    assert ours == [
        {"name": "live-chat", "enabled": True, "defaultEnabled": False, "tenantOverride": True},
        {"name": "new-player", "enabled": True, "defaultEnabled": True, "tenantOverride": None},
    ]
    assert [f["enabled"] for f in theirs] == [False, True]
    refused = await studio.gql(
        SET_FLAG, {"input": {"name": "x", "enabled": True}}, token=studio.moderator.token
    )
    assert refused.error_codes == ["FORBIDDEN"]
    bad = await studio.ok(SET_FLAG, admin, input={"name": "Not a name!", "enabled": True})
    assert bad["setFeatureFlag"]["userErrors"] == [{"field": ["input", "name"], "code": "INVALID_NAME"}]
    clear = 'mutation($t: ID!) { clearFeatureFlagOverride(name: "live-chat", tenantId: $t) { deleted } }'
    await studio.ok(clear, admin, t=tenant)
    assert (await studio.ok(FLAGS, studio.viewer))["featureFlags"][0]["enabled"] is False


async def test_help_links_are_read_by_users_and_managed_by_tenant_admins(studio: Studio) -> None:
    tenant_admin = await studio.account(Role.TENANT_ADMIN)
    link = {"key": "docs", "title": "Docs", "url": "https://docs.example/"}
    assert (await studio.ok(UPSERT_LINK, tenant_admin, input=link))["upsertHelpLink"]["userErrors"] == []
    await studio.ok(UPSERT_LINK, tenant_admin, input={**link, "title": "Documentation"})
    assert (await studio.ok(LINKS, studio.viewer))["helpLinks"] == [
        {"key": "docs", "title": "Documentation", "url": "https://docs.example/"}
    ]
    refused = await studio.gql(UPSERT_LINK, {"input": link}, token=studio.moderator.token)
    assert refused.error_codes == ["FORBIDDEN"]
    bad = await studio.ok(UPSERT_LINK, tenant_admin, input={**link, "url": "javascript:alert(1)"})
    assert bad["upsertHelpLink"]["userErrors"] == [{"field": ["input", "url"], "code": "INVALID_URL"}]
    other = await new_studio(studio.runtime, studio.gql, studio.http)
    assert (await other.ok(LINKS, other.viewer))["helpLinks"] == []
    deleted = await studio.ok('mutation { deleteHelpLink(key: "docs") { deleted } }', tenant_admin)
    assert deleted["deleteHelpLink"]["deleted"] is True
    assert (await studio.ok(LINKS, studio.viewer))["helpLinks"] == []


async def test_client_errors_are_kept_bounded_and_rate_limited(studio: Studio) -> None:
    made = await studio.ok(
        REPORT_ERROR,
        studio.viewer,
        input={
            "message": "TypeError: x is undefined",
            "url": "https://app.example/p",
            "extra": {"build": "42"},
        },
    )
    report = made["reportClientError"]["report"]
    assert report["message"] == "TypeError: x is undefined" and report["extra"] == {"build": "42"}
    assert report["userAgent"]  # the request's own when none is given
    huge = await studio.ok(
        REPORT_ERROR, studio.viewer, input={"message": "m", "extra": {"blob": "x" * 20000}}
    )
    assert huge["reportClientError"]["userErrors"] == [{"field": None, "code": "TOO_LARGE"}]
    listed = (await studio.ok(ERRORS, studio.moderator))["clientErrorReports"]["edges"]
    assert [e["node"]["message"] for e in listed] == ["TypeError: x is undefined"]
    assert (await studio.gql(ERRORS, token=studio.viewer.token)).error_codes == ["FORBIDDEN"]
    allowed = studio.runtime.settings.client_error_reports_per_window
    codes: list[str] = []
    for _ in range(allowed + 1):
        codes = (
            await studio.gql(REPORT_ERROR, {"input": {"message": "again"}}, token=studio.streamer.token)
        ).error_codes
    assert codes == ["RATE_LIMITED"]
    # Another user is not limited by the first one's reports.
    assert (await studio.ok(REPORT_ERROR, studio.viewer, input={"message": "mine"}))["reportClientError"][
        "report"
    ]
