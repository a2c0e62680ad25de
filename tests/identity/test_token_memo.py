"""Access tokens verified once per key set: a repeat checks only the expiry, the exact string is
the key (a token altered by one character is verified afresh and refused), another key set verifies
for itself, and the memo stays bounded."""

from __future__ import annotations

import time
import uuid

import pytest

from core.permissions import Role
from core.settings import Settings
from services.identity.tokens import (
    MAX_VERIFIED_TOKENS,
    InvalidToken,
    decode_access_token,
    issue_access_token,
)
from tests.conftest import TEST_SIGNING_KEY


def settings_with(key: str = TEST_SIGNING_KEY, ttl: int = 900) -> Settings:
    return Settings(database_url="sqlite+aiosqlite://", jwt_signing_key=key, access_token_ttl_seconds=ttl)


def token_of(settings: Settings, user_id: uuid.UUID | None = None) -> str:
    return issue_access_token(
        settings,
        user_id=user_id or uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        roles=frozenset({Role.USER}),
        session_id=uuid.uuid4(),
    ).token


def test_a_repeat_gives_the_same_principal_and_an_altered_token_is_refused() -> None:
    settings = settings_with()
    user_id = uuid.uuid4()
    token = token_of(settings, user_id)
    first = decode_access_token(settings, token)
    assert decode_access_token(settings, token) is first
    assert first.user_id == user_id
    head, payload, signature = token.split(".")
    altered = f"{head}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    with pytest.raises(InvalidToken, match="not valid"):
        decode_access_token(settings, altered)
    assert altered not in settings.token_keys.verified


def test_a_remembered_token_still_expires() -> None:
    settings = settings_with(ttl=1)
    token = token_of(settings)
    decode_access_token(settings, token)
    assert token in settings.token_keys.verified
    time.sleep(1.1)
    with pytest.raises(InvalidToken, match="expired"):
        decode_access_token(settings, token)


def test_another_key_set_verifies_for_itself() -> None:
    ours = settings_with()
    token = token_of(ours)
    decode_access_token(ours, token)
    other = settings_with(key="another-signing-key-" + "x" * 32)
    with pytest.raises(InvalidToken, match="not valid"):
        decode_access_token(other, token)


def test_the_memo_is_bounded() -> None:
    settings = settings_with()
    for _ in range(MAX_VERIFIED_TOKENS + 10):
        decode_access_token(settings, token_of(settings))
    assert 0 < len(settings.token_keys.verified) <= MAX_VERIFIED_TOKENS
