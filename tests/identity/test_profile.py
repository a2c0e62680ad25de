"""The user profile against real PostgreSQL: updateMe's profile fields (checks, clearing, who sees
what), preferences by merge patch (bounded, concurrent patches), and the statements a users list
with profile fields costs."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any

import httpx

from core.permissions import Role
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import quick_account

PROFILE = (
    "slogan aboutMe companyName website birthDate gender avatarUrl preferences "
    "notificationOptIns { email sms push telegram }"
)
UPDATE_ME = f"""
mutation($input: UpdateMeInput!) {{
  updateMe(input: $input) {{ user {{ fullName {PROFILE} }} userErrors {{ field code message }} }}
}}
"""
ME = f"{{ me {{ {PROFILE} }} }}"
USER = f"query($id: ID!) {{ user(id: $id) {{ {PROFILE} }} }}"
PATCH = """
mutation($patch: JSON!) {
  patchMyPreferences(input: {patch: $patch}) { user { preferences } userErrors { field code message } }
}
"""
USERS = f"{{ users(first: 50) {{ edges {{ node {{ id {PROFILE} }} }} }} }}"


async def update_me(gql: GraphQLClient, token: str, **fields: Any) -> Any:
    return (await gql(UPDATE_ME, {"input": fields}, token=token)).ok()["updateMe"]


async def patch(gql: GraphQLClient, token: str, value: Any) -> Any:
    return (await gql(PATCH, {"patch": value}, token=token)).ok()["patchMyPreferences"]


async def test_update_me_sets_and_clears_profile_fields(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    fresh = (await gql(ME, token=me.token)).ok()["me"]
    assert fresh == {
        "slogan": None,
        "aboutMe": None,
        "companyName": None,
        "website": None,
        "birthDate": None,
        "gender": None,
        "avatarUrl": None,
        "preferences": {},
        "notificationOptIns": {"email": True, "sms": False, "push": False, "telegram": False},
    }
    changed = await update_me(
        gql,
        me.token,
        fullName="Ada Lovelace",
        slogan="  Numbers first  ",
        aboutMe="Wrote the first program.",
        companyName="Analytical Engines",
        website="https://ada.example/about",
        birthDate="1985-12-10",
        gender="FEMALE",
        notifyBySms=True,
        notifyByEmail=False,
    )
    assert changed["userErrors"] == []
    assert changed["user"] == {
        "fullName": "Ada Lovelace",
        "slogan": "Numbers first",
        "aboutMe": "Wrote the first program.",
        "companyName": "Analytical Engines",
        "website": "https://ada.example/about",
        "birthDate": "1985-12-10",
        "gender": "FEMALE",
        "avatarUrl": None,
        "preferences": {},
        "notificationOptIns": {"email": False, "sms": True, "push": False, "telegram": False},
    }
    # Omitted fields stay; an empty text or null clears; a null opt-in leaves it as it is.
    cleared = await update_me(gql, me.token, slogan="", website=None, birthDate=None, notifyBySms=None)
    assert cleared["userErrors"] == []
    user = cleared["user"]
    assert (user["slogan"], user["website"], user["birthDate"]) == (None, None, None)
    assert (user["aboutMe"], user["companyName"], user["gender"]) == (
        "Wrote the first program.",
        "Analytical Engines",
        "FEMALE",
    )
    assert user["notificationOptIns"]["sms"] is True
    assert (await gql(ME, token=me.token)).ok()["me"]["slogan"] is None


async def test_update_me_refuses_bad_profile_fields_all_at_once(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    refused = await update_me(
        gql,
        me.token,
        slogan="s" * 201,
        aboutMe="a" * 2001,
        website="javascript:alert(1)",
        birthDate=tomorrow,
    )
    assert refused["user"] is None
    assert sorted((e["field"][-1], e["code"]) for e in refused["userErrors"]) == [
        ("aboutMe", "TOO_LONG"),
        ("birthDate", "INVALID_BIRTH_DATE"),
        ("slogan", "TOO_LONG"),
        ("website", "INVALID_WEBSITE"),
    ]
    for website in ("ftp://files.example", "https://", "https://a b.example", "https://[::1", "http://[x]/"):
        result = await update_me(gql, me.token, website=website)
        assert [e["code"] for e in result["userErrors"]] == ["INVALID_WEBSITE"], website
    old = await update_me(gql, me.token, birthDate="1899-12-31")
    assert [e["code"] for e in old["userErrors"]] == ["INVALID_BIRTH_DATE"]
    bad_gender = await gql(UPDATE_ME, {"input": {"gender": "ROBOT"}}, token=me.token)
    assert bad_gender.error_codes == ["BAD_USER_INPUT"]
    # Nothing was written by the refusals.
    assert (await gql(ME, token=me.token)).ok()["me"]["website"] is None


async def test_others_see_public_profile_fields_only(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await update_me(
        gql,
        me.token,
        slogan="Hi",
        birthDate="1990-01-02",
        gender="OTHER",
        companyName="Acme",
        notifyByPush=True,
    )
    await patch(gql, me.token, {"theme": "dark"})
    seen = (await gql(USER, {"id": me.gid}, token=admin.token)).ok()["user"]
    assert seen["slogan"] == "Hi"
    assert seen["companyName"] == "Acme"
    assert (seen["birthDate"], seen["gender"], seen["preferences"], seen["notificationOptIns"]) == (
        None,
        None,
        None,
        None,
    )
    mine = (await gql(ME, token=me.token)).ok()["me"]
    assert (mine["birthDate"], mine["gender"], mine["preferences"]) == (
        "1990-01-02",
        "OTHER",
        {"theme": "dark"},
    )
    # Another tenant's admin cannot read the user at all.
    stranger = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(USER, {"id": me.gid}, token=stranger.token)).error_codes == ["NOT_FOUND"]


async def test_preferences_merge_patch(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    first = await patch(gql, me.token, {"theme": "dark", "editor": {"tabs": 4, "wrap": True}, "pins": [1, 2]})
    assert first == {
        "user": {"preferences": {"theme": "dark", "editor": {"tabs": 4, "wrap": True}, "pins": [1, 2]}},
        "userErrors": [],
    }
    second = await patch(
        gql, me.token, {"editor": {"wrap": None, "font": "mono"}, "pins": [3], "theme": None}
    )
    assert second["user"]["preferences"] == {"editor": {"tabs": 4, "font": "mono"}, "pins": [3]}
    # Someone else's preferences are theirs alone.
    other = await quick_account(runtime, "acme")
    assert (await gql(ME, token=other.token)).ok()["me"]["preferences"] == {}


async def test_preferences_are_bounded(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    await patch(gql, me.token, {"keep": 1})
    for value in ([1, 2], "dark", 3):
        refused = await patch(gql, me.token, value)
        assert [e["code"] for e in refused["userErrors"]] == ["INVALID_PREFERENCES"], value
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(9):
        node["n"] = {}
        node = node["n"]
    too_deep = await patch(gql, me.token, deep)
    assert [e["code"] for e in too_deep["userErrors"]] == ["INVALID_PREFERENCES"]
    # Deeper than the interpreter's stack would take recursively: refused the same, no 500.
    for _ in range(600):
        node["n"] = {}
        node = node["n"]
    far_too_deep = await patch(gql, me.token, deep)
    assert [e["code"] for e in far_too_deep["userErrors"]] == ["INVALID_PREFERENCES"]
    # 16 KiB in all: pieces that each pass the request's string limit add up past it.
    limit = runtime.settings.preferences_max_bytes
    for index in range(limit // 5000):
        assert (await patch(gql, me.token, {f"k{index}": "x" * 5000}))["userErrors"] == []
    over = await patch(gql, me.token, {"last": "x" * 5000})
    assert [e["code"] for e in over["userErrors"]] == ["INVALID_PREFERENCES"]
    kept = (await gql(ME, token=me.token)).ok()["me"]["preferences"]
    assert "last" not in kept and kept["keep"] == 1


async def test_concurrent_preference_patches_both_land(runtime: Runtime, gql: GraphQLClient) -> None:
    me = await quick_account(runtime, "acme")
    results = await asyncio.gather(*(patch(gql, me.token, {f"key{n}": n}) for n in range(6)))
    assert all(result["userErrors"] == [] for result in results)
    assert (await gql(ME, token=me.token)).ok()["me"]["preferences"] == {f"key{n}": n for n in range(6)}


async def test_profile_fields_cost_no_statement_per_user(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await gql.warm(admin.token)

    async def statements() -> int:
        with count_statements(runtime.db.engine) as counter:
            (await gql(USERS, token=admin.token)).ok()
        return counter.count

    few = await statements()
    for _ in range(5):
        user = await quick_account(runtime, "acme")
        await update_me(gql, user.token, slogan="Busy", website="http://me.example")
    assert await statements() == few


async def test_preferences_hold_finite_numbers_only(runtime: Runtime, http: httpx.AsyncClient) -> None:
    """A request's JSON may carry NaN and Infinity (Python reads them); stored JSON may not."""
    me = await quick_account(runtime, "acme")
    headers = {"Authorization": f"Bearer {me.token}", "Content-Type": "application/json"}
    for number in (float("nan"), float("inf")):
        body = json.dumps({"query": PATCH, "variables": {"patch": {"keep": 2, "number": number}}})
        answer = (await http.post("/graphql", content=body, headers=headers)).json()
        assert "errors" not in answer, answer
        errors = answer["data"]["patchMyPreferences"]["userErrors"]
        assert [e["code"] for e in errors] == ["INVALID_PREFERENCES"]
    mine = await http.post("/graphql", json={"query": ME}, headers=headers)
    assert mine.json()["data"]["me"]["preferences"] == {}
