"""Avatars: a picture of the library (fixed, drawn here as SVG) or an image the user uploads
(PNG, JPEG, GIF or WebP by its first bytes, at most avatar_max_bytes), stored in the database and
served by server/avatars.py at an unguessable path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from html import escape

from sqlalchemy import delete

from core.errors import invalid
from core.scope import TenantScope
from core.settings import Settings
from loaders.pagination import Page, PageArgs
from models.db import Database, locked_or_not_found
from models.identity.accounts import User
from models.identity.profile import UserAvatar
from services.context import ServiceContext
from services.identity.accounts import record_user_change
from services.identity.errors import IdentityErrorCode

_NAMESPACE = uuid.UUID("8f1f3d2e-6b7a-4c1e-9a51-0d6c2b7e4a10")


@dataclass(frozen=True, slots=True)
class LibraryAvatar:
    id: uuid.UUID
    name: str
    background: str
    glyph: str


def _entry(name: str, background: str, glyph: str) -> LibraryAvatar:
    return LibraryAvatar(uuid.uuid5(_NAMESPACE, name), name, background, glyph)


LIBRARY: tuple[LibraryAvatar, ...] = (
    _entry("Fox", "#e8743b", "F"),
    _entry("Owl", "#7b5ea7", "O"),
    _entry("Whale", "#2f80c0", "W"),
    _entry("Cactus", "#3a9d5d", "C"),
    _entry("Comet", "#c0392b", "★"),
    _entry("Moon", "#34495e", "☾"),
    _entry("Sun", "#f1c40f", "☀"),
    _entry("Leaf", "#27ae60", "L"),
)
_BY_ID = {entry.id: entry for entry in LIBRARY}

# An image's type by its first bytes (what it claims to be does not count).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def library_page(page: PageArgs) -> Page[LibraryAvatar]:
    """The library in its fixed order; a cursor is an entry's id."""
    page = page.validated()
    ids = [str(entry.id) for entry in LIBRARY]
    start = ids.index(page.after) + 1 if page.after in ids else 0
    end = ids.index(page.before) if page.before in ids else len(ids)
    if page.first is not None:
        rows = list(LIBRARY[start : min(end, start + page.first)])
    elif page.last is not None:
        rows = list(LIBRARY[max(start, end - page.last) : end])
    else:
        rows = list(LIBRARY[start:end])
    first_index = LIBRARY.index(rows[0]) if rows else start
    last_index = LIBRARY.index(rows[-1]) if rows else start - 1

    async def count() -> int:
        return len(LIBRARY)

    # The pages beside this one, wherever the page bounds end.
    return Page(rows, [str(row.id) for row in rows], last_index + 1 < len(LIBRARY), first_index > 0, count)


def library_svg(avatar_id: uuid.UUID) -> str | None:
    entry = _BY_ID.get(avatar_id)
    if entry is None:
        return None
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">'
        f"<title>{escape(entry.name)}</title>"
        f'<rect width="128" height="128" rx="64" fill="{entry.background}"/>'
        '<text x="64" y="84" font-size="56" text-anchor="middle" fill="#fff" font-family="sans-serif">'
        f"{escape(entry.glyph)}</text></svg>"
    )


def avatar_path(user: User) -> str | None:
    """Where the user's avatar is served (server/avatars.py); None when they have none."""
    if user.avatar_upload_id is not None:
        return f"/avatars/{user.tenant_id}/{user.avatar_upload_id}"
    if user.avatar_library_id is not None:
        return library_url(user.avatar_library_id)
    return None


def library_url(avatar_id: uuid.UUID) -> str:
    return f"/avatars/library/{avatar_id}.svg"


def absolute(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


async def _set(ctx: ServiceContext, library_id: uuid.UUID | None, upload: UserAvatar | None) -> User:
    principal = ctx.require_principal()
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        user = await locked_or_not_found(session, User, principal.user_id)
        # One custom image per user: the previous one goes.
        await session.execute(delete(UserAvatar).where(UserAvatar.user_id == user.id))
        if upload is not None:
            upload.user_id = user.id
            session.add(upload)
            await session.flush()
        user.avatar_library_id = library_id
        user.avatar_upload_id = upload.id if upload is not None else None
        return record_user_change(session, user, "avatar")


async def choose_library_avatar(ctx: ServiceContext, avatar_id: uuid.UUID | None) -> User:
    """Sets the caller's avatar to a library picture; None removes the avatar."""
    if avatar_id is not None and avatar_id not in _BY_ID:
        raise invalid("avatarId", IdentityErrorCode.UNKNOWN_AVATAR, "No avatar of the library has this id.")
    return await _set(ctx, avatar_id, None)


async def upload_avatar(ctx: ServiceContext, data: bytes) -> User:
    """Makes ``data`` the caller's avatar, once it is checked to be a small enough image."""
    ctx.require_principal()
    limit = ctx.settings.avatar_max_bytes
    if len(data) > limit:
        raise invalid("avatar", IdentityErrorCode.AVATAR_TOO_LARGE, f"An avatar is at most {limit} bytes.")
    kind = image_type(data)
    if kind is None:
        raise invalid("avatar", IdentityErrorCode.UNSUPPORTED_IMAGE, "Upload a PNG, JPEG, GIF or WebP image.")
    return await _set(ctx, None, UserAvatar(id=uuid.uuid4(), content_type=kind, data=data))


async def uploaded_avatar(db: Database, tenant_id: uuid.UUID, avatar_id: uuid.UUID) -> UserAvatar | None:
    """An uploaded image by its path (tenant and id): the id is random, the path its capability."""
    async with db.session(TenantScope.of(tenant_id)) as session:
        return await session.get(UserAvatar, avatar_id)
