"""What every service call needs: the database, the settings, who is calling and from where."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, Unauthenticated
from core.permissions import Role
from core.principal import Principal
from core.scope import TenantScope
from core.settings import Settings
from models.db import Database, Reads
from services import audit
from services.events import ACCESS_CHANGES, EVENTS_RECORDED, AccessChange
from services.ratelimit import RateLimiter
from services.sms import SmsSender, StoredSms


@dataclass
class ServiceContext:
    db: Database
    settings: Settings
    rate_limiter: RateLimiter
    principal: Principal | None = None
    client_ip: str = "unknown"
    user_agent: str | None = None
    # Where reads go: one connection for the whole HTTP request (RequestReads), else the database.
    reads: Reads | None = None
    # Wakes the outbox dispatcher after a commit that recorded events (low latency, no polling wait).
    on_events_committed: Callable[[], None] = field(default=lambda: None)
    # Drops this process's cached access state of sessions whose access a commit changed (logout,
    # suspension, roles): the next request here sees it at once, before the event goes round.
    on_access_changed: Callable[[AccessChange], None] = field(default=lambda _change: None)
    # Where text messages (verification codes, reset links) go: services/sms.py.
    sms: SmsSender = field(default_factory=StoredSms)
    # CCPA: the request carried Sec-GPC: 1 (server/gpc.py); services must not sell its data.
    do_not_sell: bool = False
    # The request's X-Correlation-Id (server/middleware.py), recorded in its audit entries.
    correlation_id: str | None = None

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("Sign in first.")
        return self.principal

    def require_role(self, *roles: Role) -> Principal:
        principal = self.require_principal()
        if not principal.has_any_role(*roles):
            raise Forbidden("You are not allowed to do this.")
        return principal

    @property
    def scope(self) -> TenantScope:
        return self.require_principal().scope

    @asynccontextmanager
    async def transaction(self, scope: TenantScope | None = None) -> AsyncIterator[AsyncSession]:
        """One transaction in the caller's tenant (or ``scope``); events recorded in it are
        published once it has committed, and access changes recorded in it applied here."""
        scope = scope or self.scope
        # The call being audited (services/audit.py): its entry goes into the first commit.
        draft = audit.pending()
        async with self.db.transaction(scope) as session:
            yield session
            if draft is not None and not draft.written:
                session.add(await audit.committed(draft, self, scope, session))
        if draft is not None:
            draft.written = True
        for change in session.info.get(ACCESS_CHANGES, ()):
            self.on_access_changed(change)
        if session.info.get(EVENTS_RECORDED):
            self.on_events_committed()

    def read(self, scope: TenantScope | None = None) -> AbstractAsyncContextManager[AsyncSession]:
        """A read-only session in the caller's tenant (or ``scope``)."""
        return (self.reads or self.db).session(scope or self.scope)
