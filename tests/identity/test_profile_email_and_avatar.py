"""Self email change (proof of the new address by a mailed link: single use, expiring, replaced by
a newer request, refused for a taken address or a wrong password) and avatars (library pick,
custom upload checked by size and bytes, stored and served, tenant-bound paths), against real
PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import struct
import uuid
import zlib
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from core.scope import TenantScope
from models.audit import AuditEntry
from models.base import utcnow
from models.billing import MailMessage
from models.identity.accounts import User
from models.identity.profile import EmailChange
from server.runtime import Runtime
from services.identity.avatars import LIBRARY
from tests.conftest import own_app
from tests.harness.servers import PostgresServer
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity, quick_account

ALL = TenantScope.all_tenants()
REQUEST = """
mutation($input: RequestEmailChangeInput!) {
  requestEmailChange(input: $input) { sentTo expiresAt userErrors { field code message } }
}
"""
CONFIRM = """
mutation($token: String!) {
  confirmEmailChange(input: {token: $token}) {
    user { emailAddress emailVerified } userErrors { field code message }
  }
}
"""
LIBRARY_QUERY = """
query($first: Int, $after: String) {
  avatarLibrary(first: $first, after: $after) {
    totalCount edges { cursor node { id name url } } pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
SET_AVATAR = """
mutation($id: ID) { setMyAvatar(input: {avatarId: $id}) { user { avatarUrl } userErrors { field code } } }
"""
ME_AVATAR = "{ me { avatarUrl } }"


async def mails_to(runtime: Runtime, to: str) -> list[str]:
    async with runtime.db.session(ALL) as session:
        found = await session.scalars(
            select(MailMessage.body_text).where(MailMessage.to_address == to).order_by(MailMessage.created_at)
        )
        return list(found)


def link_token(body: str) -> str:
    found = re.search(r"/confirm-email-change\?tenant=[a-z0-9-]+&token=(\S+)", body)
    assert found, body
    return found.group(1)


async def request_change(gql: GraphQLClient, token: str, new_email: str, password: str = PASSWORD) -> Any:
    variables = {"input": {"newEmail": new_email, "currentPassword": password}}
    return (await gql(REQUEST, variables, token=token)).ok()["requestEmailChange"]


async def confirm(gql: GraphQLClient, token: str) -> Any:
    return (await gql(CONFIRM, {"token": token})).ok()["confirmEmailChange"]


# ---- email change ----------------------------------------------------------------------------


async def test_email_change_needs_the_link_sent_to_the_new_address(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    me = await quick_account(runtime, "acme", email="old@acme.example")
    sent = await request_change(gql, me.token, "  New@Acme.example ")
    assert sent["userErrors"] == [] and sent["sentTo"] == "new@acme.example"
    # Nothing changes before the link comes back; the old address is told.
    assert (await gql("{ me { emailAddress } }", token=me.token)).ok()["me"][
        "emailAddress"
    ] == "old@acme.example"
    (notice,) = await mails_to(runtime, "old@acme.example")
    assert "new@acme.example" in notice and "token=" not in notice
    (mail,) = await mails_to(runtime, "new@acme.example")
    token = link_token(mail)
    assert await confirm(gql, token) == {
        "user": {"emailAddress": "new@acme.example", "emailVerified": True},
        "userErrors": [],
    }
    # The new address signs in; the old one no longer does.
    assert (await identity.login("acme", "new@acme.example", PASSWORD)).ok()["login"]["accessToken"]
    old = (await identity.login("acme", "old@acme.example", PASSWORD)).ok()["login"]
    assert old["accessToken"] is None and old["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    replay = await confirm(gql, token)
    assert [e["code"] for e in replay["userErrors"]] == ["EMAIL_CHANGE_TOKEN_USED"]
    assert [e["code"] for e in (await confirm(gql, "ec_forged"))["userErrors"]] == [
        "INVALID_EMAIL_CHANGE_TOKEN"
    ]


async def test_email_change_refusals(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme", email="me@acme.example")
    await quick_account(runtime, "acme", email="taken@acme.example")
    # Another tenant's address is no clash.
    await quick_account(runtime, "globex", email="free@acme.example")
    cases = [
        ("taken@acme.example", PASSWORD, "CONFLICT"),
        ("me@acme.example", PASSWORD, "SAME_EMAIL"),
        ("not-an-address", PASSWORD, "INVALID_EMAIL"),
        ("free@acme.example", "wrong password", "INVALID_CREDENTIALS"),
    ]
    for new_email, password, code in cases:
        refused = await request_change(gql, me.token, new_email, password)
        assert [e["code"] for e in refused["userErrors"]] == [code], new_email
    assert await mails_to(runtime, "free@acme.example") == []
    anonymous = await gql(REQUEST, {"input": {"newEmail": "x@acme.example", "currentPassword": PASSWORD}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    assert (await request_change(gql, me.token, "free@acme.example"))["userErrors"] == []


async def test_newer_request_replaces_the_older_and_links_expire(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    me = await quick_account(runtime, "acme")
    await request_change(gql, me.token, "first@acme.example")
    await request_change(gql, me.token, "second@acme.example")
    (first_mail,) = await mails_to(runtime, "first@acme.example")
    replaced = await confirm(gql, link_token(first_mail))
    assert [e["code"] for e in replaced["userErrors"]] == ["EMAIL_CHANGE_TOKEN_USED"]
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(EmailChange)
            .where(EmailChange.user_id == me.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    (second_mail,) = await mails_to(runtime, "second@acme.example")
    expired = await confirm(gql, link_token(second_mail))
    assert [e["code"] for e in expired["userErrors"]] == ["EMAIL_CHANGE_TOKEN_EXPIRED"]


async def test_address_taken_between_request_and_confirm(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    await request_change(gql, me.token, "wanted@acme.example")
    await quick_account(runtime, "acme", email="wanted@acme.example")
    (mail,) = await mails_to(runtime, "wanted@acme.example")
    taken = await confirm(gql, link_token(mail))
    assert [e["code"] for e in taken["userErrors"]] == ["CONFLICT"]


# ---- avatars ---------------------------------------------------------------------------------


def png(size: int = 0) -> bytes:
    """A real 1x1 PNG, padded with a text chunk to about ``size`` bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    padding = chunk(b"tEXt", b"c\x00" + b"x" * max(0, size)) if size else b""
    return b"\x89PNG\r\n\x1a\n" + body + padding + chunk(b"IEND", b"")


async def upload(
    http: httpx.AsyncClient, token: str | None, data: bytes, kind: str = "image/png"
) -> httpx.Response:
    headers = {"Content-Type": kind}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await http.post("/users/me/avatar", content=data, headers=headers)


async def test_avatar_library_is_a_connection(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    first = (await gql(LIBRARY_QUERY, {"first": 3}, token=me.token)).ok()["avatarLibrary"]
    assert first["totalCount"] == len(LIBRARY)
    assert [edge["node"]["name"] for edge in first["edges"]] == [entry.name for entry in LIBRARY[:3]]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql(LIBRARY_QUERY, {"first": 100, "after": first["pageInfo"]["endCursor"]}, token=me.token)
    ).ok()["avatarLibrary"]
    assert [edge["node"]["name"] for edge in rest["edges"]] == [entry.name for entry in LIBRARY[3:]]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["pageInfo"]["endCursor"],
    }
    assert (await gql(LIBRARY_QUERY, {"first": 101}, token=me.token)).error_codes == ["BAD_USER_INPUT"]
    assert (await gql(LIBRARY_QUERY, {})).error_codes == ["UNAUTHENTICATED"]


async def test_pick_a_library_avatar(runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    me = await quick_account(runtime, "acme")
    entry = LIBRARY[2]
    picked = (await gql(SET_AVATAR, {"id": str(entry.id)}, token=me.token)).ok()["setMyAvatar"]
    assert picked == {"user": {"avatarUrl": f"/avatars/library/{entry.id}.svg"}, "userErrors": []}
    served = await http.get(picked["user"]["avatarUrl"])
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/svg+xml")
    assert f"<title>{entry.name}</title>" in served.text
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        refused = (await gql(SET_AVATAR, {"id": unknown}, token=me.token)).ok()["setMyAvatar"]
        assert refused == {
            "user": None,
            "userErrors": [{"field": ["input", "avatarId"], "code": "UNKNOWN_AVATAR"}],
        }
    assert (await gql(ME_AVATAR, token=me.token)).ok()["me"]["avatarUrl"] == picked["user"]["avatarUrl"]
    removed = (await gql(SET_AVATAR, {"id": None}, token=me.token)).ok()["setMyAvatar"]
    assert removed["user"] == {"avatarUrl": None}
    assert (await http.get(f"/avatars/library/{uuid.uuid4()}.svg")).status_code == 404


async def test_upload_a_custom_avatar(runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    me = await quick_account(runtime, "acme")
    image = png(100)
    answered = await upload(http, me.token, image)
    assert answered.status_code == 200, answered.text
    url = answered.json()["avatarUrl"]
    assert re.fullmatch(rf"/avatars/{me.tenant_id}/[0-9a-f-]{{36}}", url), url
    assert (await gql(ME_AVATAR, token=me.token)).ok()["me"]["avatarUrl"] == url
    served = await http.get(url)
    assert served.status_code == 200 and served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    # The path names its tenant: under another tenant's id the image is not found.
    other = await quick_account(runtime, "globex")
    assert (await http.get(url.replace(str(me.tenant_id), str(other.tenant_id)))).status_code == 404
    assert (await http.get(f"/avatars/{me.tenant_id}/not-a-uuid")).status_code == 404
    # A new upload replaces the old image, which is gone; picking from the library drops it too.
    newer = (await upload(http, me.token, png(200))).json()["avatarUrl"]
    assert newer != url and (await http.get(url)).status_code == 404
    await gql(SET_AVATAR, {"id": str(LIBRARY[0].id)}, token=me.token)
    assert (await http.get(newer)).status_code == 404
    async with runtime.db.session(ALL) as session:
        actions = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == me.user_id))
        )
    assert "rest:POST /users/me/avatar" in actions


async def test_avatar_uploads_are_checked(runtime: Runtime, http: httpx.AsyncClient) -> None:
    me = await quick_account(runtime, "acme")
    unauthenticated = await upload(http, None, png())
    assert unauthenticated.status_code == 401
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, kind in (
        (svg, "image/png"),
        (b"GIF8", "image/gif"),
        (b"", "image/png"),
        (b"%PDF-1.7", "image/png"),
    ):
        refused = await upload(http, me.token, data, kind)
        assert refused.status_code == 415, data
        assert refused.json()["code"] == "UNSUPPORTED_IMAGE"
    too_large = await upload(http, me.token, png(runtime.settings.avatar_max_bytes))
    assert too_large.status_code == 413 and too_large.json()["code"] == "AVATAR_TOO_LARGE"
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
    for data, kind in ((jpeg, "image/jpeg"), (webp, "image/webp"), (b"GIF89a" + b"\x00" * 20, "image/gif")):
        accepted = await upload(http, me.token, data, "application/octet-stream")
        assert accepted.status_code == 200, accepted.text
        served = await http.get(accepted.json()["avatarUrl"])
        assert served.headers["content-type"] == kind and served.content == data


async def test_email_change_requests_are_rate_limited(runtime: Runtime, postgres: PostgresServer) -> None:
    me = await quick_account(runtime, "acme")
    async with own_app(postgres.url, auth_rate_limit_per_account=3) as (_, client):
        limited_gql = GraphQLClient(client)
        for number in range(3):
            sent = await request_change(limited_gql, me.token, f"n{number}@acme.example")
            assert sent["userErrors"] == []
        variables = {"input": {"newEmail": "one-more@acme.example", "currentPassword": PASSWORD}}
        limited = await limited_gql(REQUEST, variables, token=me.token)
    assert limited.error_codes == ["RATE_LIMITED"]
    assert await mails_to(runtime, "one-more@acme.example") == []


async def test_a_session_that_must_change_its_password_uploads_nothing(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient, identity: Identity
) -> None:
    me = await identity.account("acme")
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(User).where(User.id == me.user_id).values(must_change_password=True))
    token = (await identity.login(me.tenant_slug, me.email, PASSWORD)).ok()["login"]["accessToken"]
    refused = await upload(http, token, png())
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert (await gql(ME_AVATAR, token=token)).ok()["me"]["avatarUrl"] is None


async def test_two_confirmations_of_one_address_at_once(runtime: Runtime, gql: GraphQLClient) -> None:
    """Both pass the check before either writes: the second is a CONFLICT, not a 500."""
    one = await quick_account(runtime, "acme")
    two = await quick_account(runtime, "acme")
    await request_change(gql, one.token, "both@acme.example")
    await request_change(gql, two.token, "both@acme.example")
    links = [link_token(mail) for mail in await mails_to(runtime, "both@acme.example")]
    answers = await asyncio.gather(*(gql(CONFIRM, {"token": link}) for link in links))
    payloads = [answer.ok()["confirmEmailChange"] for answer in answers]
    assert sorted(tuple(e["code"] for e in p["userErrors"]) for p in payloads) == [(), ("CONFLICT",)]
    async with runtime.db.session(ALL) as session:
        owners = list(await session.scalars(select(User.id).where(User.email == "both@acme.example")))
    assert len(owners) == 1
