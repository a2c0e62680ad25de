"""The nginx-rtmp callbacks, posted form-encoded to the app: valid, unknown, regenerated and
banned keys, a suspended owner, the shared secret; every status transition; moderation."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from models.events import OutboxEvent
from models.identity.accounts import User, UserStatus
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.streams.conftest import REGENERATE, REPORT, RESOLVE, STREAM, Studio, new_studio
from tests.support.graphql import count_statements
from tests.support.identity import global_id, quick_account

LIST_REPORTS = """
query($filter: ModerationReportFilterInput) {
  moderationReports(filter: $filter) {
    edges { node { id status action reason targetType reporter { email } } }
  }
}
"""
ALL = TenantScope.all_tenants()


async def _stream(studio: Studio, stream_id: str) -> dict[str, object]:
    found: dict[str, object] = (await studio.ok(STREAM, studio.streamer, id=stream_id))["stream"]
    return found


async def test_publish_and_done_move_draft_live_ended_live(studio: Studio) -> None:
    key, stream_id = await studio.key(studio.streamer)
    assert (await _stream(studio, stream_id))["status"] == "DRAFT"
    assert await studio.publish(key) == 204
    live = await _stream(studio, stream_id)
    assert (live["status"], live["isLive"], live["endedAt"]) == ("LIVE", True, None) and live["startedAt"]
    assert await studio.publish(key) == 204  # nginx retrying: still LIVE, no new event
    assert await studio.done(key) == 204
    ended = await _stream(studio, stream_id)
    assert (ended["status"], ended["isLive"]) == ("ENDED", False) and ended["endedAt"]
    assert await studio.done(key) == 204  # not LIVE: nothing changes
    assert await studio.publish(key) == 204
    assert (await _stream(studio, stream_id))["status"] == "LIVE"
    async with studio.runtime.db.session(ALL) as session:
        events = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "stream.changed")))
    moves = sorted((e.payload["version"], e.payload["from"], e.payload["to"]) for e in events)
    assert moves == [(2, "DRAFT", "LIVE"), (3, "LIVE", "ENDED"), (4, "ENDED", "LIVE")]


async def test_unknown_keys_and_bad_secrets_are_refused(studio: Studio) -> None:
    key, stream_id = await studio.key(studio.streamer)
    assert await studio.publish("live_not-a-key") == 403
    assert await studio.publish(key, secret="wrong") == 403
    assert await studio.publish(key, secret=None) == 403
    assert await studio.ingest("publish", None) == 403
    assert await studio.done("live_not-a-key") == 403
    # The secret may come in the query string instead (on_publish http://.../publish?secret=...).
    response = await studio.http.post(
        "/streams/ingest/publish?secret=development-only-stream-ingest-secret", data={"name": key}
    )
    assert response.status_code == 204
    refused = await studio.http.post("/streams/ingest/publish", data={"name": key})
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await _stream(studio, stream_id))["status"] == "LIVE"


async def test_a_regenerated_key_is_refused_at_once(studio: Studio) -> None:
    old, _ = await studio.key(studio.streamer)
    new = (await studio.ok(REGENERATE, studio.streamer))["regenerateStreamKey"]["streamKey"]["streamKey"]
    assert await studio.publish(old) == 403
    assert await studio.publish(new) == 204


async def test_a_suspended_owners_key_is_refused(studio: Studio) -> None:
    key, _ = await studio.key(studio.streamer)
    async with studio.runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User).where(User.id == studio.streamer.user_id).values(status=UserStatus.SUSPENDED)
        )
    assert await studio.publish(key) == 403


async def test_keys_resolve_across_tenants(studio: Studio) -> None:
    other = await studio.account()
    key, stream_id = await studio.key(other)
    assert await studio.publish(key) == 204
    async with studio.runtime.db.session(ALL) as session:
        tenant = await session.scalar(select(User.tenant_id).where(User.id == other.user_id))
    assert tenant == other.tenant_id
    assert (await studio.ok(STREAM, other, id=stream_id))["stream"]["isLive"] is True


async def test_a_ban_of_a_stream_ends_it_and_refuses_its_key(studio: Studio) -> None:
    key, stream_id = await studio.key(studio.streamer)
    assert await studio.publish(key) == 204
    made = (
        await studio.ok(
            REPORT, studio.viewer, input={"targetType": "STREAM", "targetId": stream_id, "reason": "spam"}
        )
    )["reportContent"]
    assert made["userErrors"] == [] and made["report"]["status"] == "PENDING"
    refused = await studio.gql(LIST_REPORTS, {}, token=studio.viewer.token)
    assert refused.error_codes == ["FORBIDDEN"]
    pending = await studio.ok(LIST_REPORTS, studio.moderator, filter={"status": "PENDING"})
    [node] = [e["node"] for e in pending["moderationReports"]["edges"]]
    assert (node["reason"], node["targetType"], node["reporter"]) == (
        "spam",
        "STREAM",
        {"email": studio.viewer.email},
    )
    banned = await studio.ok(RESOLVE, studio.moderator, input={"id": node["id"], "action": "BAN"})
    assert banned["resolveModerationReport"]["report"] == {
        "id": node["id"],
        "status": "RESOLVED",
        "action": "BAN",
    }
    stream = await _stream(studio, stream_id)
    assert (stream["status"], stream["banned"]) == ("ENDED", True)
    assert await studio.publish(key) == 403
    # Out of reach for others; the owner still sees it.
    assert (await studio.gql(STREAM, {"id": stream_id}, token=studio.viewer.token)).error_codes == [
        "NOT_FOUND"
    ]
    again = await studio.ok(RESOLVE, studio.moderator, input={"id": node["id"], "action": "DISMISS"})
    assert again["resolveModerationReport"]["userErrors"] == [{"code": "ALREADY_RESOLVED"}]


async def test_a_ban_of_a_user_bans_every_stream_of_theirs(studio: Studio) -> None:
    key, _ = await studio.key(studio.streamer)
    assert await studio.publish(key) == 204
    report = (
        await studio.ok(
            REPORT,
            studio.viewer,
            input={"targetType": "USER", "targetId": studio.streamer.gid, "reason": "abuse", "details": "x"},
        )
    )["reportContent"]["report"]
    await studio.ok(RESOLVE, studio.moderator, input={"id": report["id"], "action": "BAN", "note": "enough"})
    assert await studio.publish(key) == 403


async def test_dismiss_warn_and_resolve_close_reports_without_bans(studio: Studio) -> None:
    key, stream_id = await studio.key(studio.streamer)
    closing = {"DISMISS": "DISMISSED", "WARN": "RESOLVED", "RESOLVE": "RESOLVED"}
    for action, status in closing.items():
        report = (
            await studio.ok(
                REPORT, studio.viewer, input={"targetType": "STREAM", "targetId": stream_id, "reason": action}
            )
        )["reportContent"]["report"]
        closed = await studio.ok(RESOLVE, studio.moderator, input={"id": report["id"], "action": action})
        assert closed["resolveModerationReport"]["report"]["status"] == status
    assert await studio.publish(key) == 204
    dismissed = await studio.ok(LIST_REPORTS, studio.moderator, filter={"status": "DISMISSED"})
    assert [e["node"]["action"] for e in dismissed["moderationReports"]["edges"]] == ["DISMISS"]
    everything = (await studio.ok(LIST_REPORTS, studio.moderator))["moderationReports"]["edges"]
    assert len(everything) == 3


async def test_reports_of_missing_targets_are_user_errors(studio: Studio) -> None:
    missing = global_id("Stream", uuid.uuid4())
    made = (
        await studio.ok(
            REPORT, studio.viewer, input={"targetType": "STREAM", "targetId": missing, "reason": "x"}
        )
    )["reportContent"]
    assert made == {"report": None, "userErrors": [{"field": ["input", "targetId"], "code": "NOT_FOUND"}]}
    comment = (
        await studio.ok(
            REPORT,
            studio.viewer,
            input={"targetType": "COMMENT", "targetId": global_id("Comment", uuid.uuid4()), "reason": "rude"},
        )
    )["reportContent"]
    assert comment["report"]["targetType"] == "COMMENT"


async def test_platform_admins_list_reports_of_every_tenant_in_two_selects(studio: Studio) -> None:
    other = await new_studio(studio.runtime, studio.gql, studio.http)
    for place in (studio, other):
        _, stream_id = await place.key(place.streamer)
        await place.ok(
            REPORT, place.viewer, input={"targetType": "STREAM", "targetId": stream_id, "reason": "r"}
        )
    admin = await quick_account(studio.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    everything = (await studio.ok(LIST_REPORTS, admin))["moderationReports"]["edges"]
    emails = {e["node"]["reporter"]["email"] for e in everything}
    assert emails == {studio.viewer.email, other.viewer.email}
    ours = (await studio.ok(LIST_REPORTS, studio.moderator))["moderationReports"]["edges"]
    assert [e["node"]["reporter"]["email"] for e in ours] == [studio.viewer.email]
    await studio.gql.warm(admin.token)
    with count_statements(studio.runtime.db.engine) as counter:
        await studio.ok(LIST_REPORTS, admin)
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, counter.statements  # the page, one batch of reporters
