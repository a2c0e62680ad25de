"""Sign-in resolvers: login, registration, token refresh, logout and password change."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.identity.accounts import user_payload
from schema.directives import AUTHENTICATED, PUBLIC, access
from schema.errors import mutation_payload
from schema.identity.accounts import User, UserPayload
from schema.identity.sign_in import (
    AuthPayload,
    ChangePasswordInput,
    LoginInput,
    LogoutPayload,
    RefreshInput,
    RegisterInput,
)
from services.identity import auth
from services.identity.auth import SignIn


def _auth_payload(info: Info, sign_in: SignIn) -> AuthPayload:
    # The rest of this response (user { tenant roles }) is read as the user who just signed in.
    info.context.act_as(sign_in.principal)
    return AuthPayload(
        user=User.from_model(sign_in.user),
        access_token=sign_in.access_token,
        access_token_expires_at=sign_in.access_token_expires_at,
        refresh_token=sign_in.refresh_token,
        refresh_token_expires_at=sign_in.refresh_token_expires_at,
    )


@strawberry.type
class SignInMutation:
    @strawberry.mutation(
        extensions=access(PUBLIC), description="Sign in with tenant slug, email and password."
    )
    async def login(
        self,
        info: Info,
        input: Annotated[LoginInput, strawberry.argument(description="Tenant slug, email and password.")],
    ) -> AuthPayload:
        call = auth.login(info.context.services, input.tenant_slug, input.email, input.password)
        return await mutation_payload(AuthPayload, call, lambda s: _auth_payload(info, s))

    @strawberry.mutation(extensions=access(PUBLIC), description="Create an account in a tenant and sign in.")
    async def register(
        self,
        info: Info,
        input: Annotated[
            RegisterInput, strawberry.argument(description="The tenant to join and the new account.")
        ],
    ) -> AuthPayload:
        call = auth.register(
            info.context.services, input.tenant_slug, input.email, input.full_name, input.password
        )
        return await mutation_payload(AuthPayload, call, lambda s: _auth_payload(info, s))

    @strawberry.mutation(extensions=access(PUBLIC), description="Trade a refresh token for new tokens.")
    async def refresh_token(
        self,
        info: Info,
        input: Annotated[
            RefreshInput, strawberry.argument(description="The session's latest refresh token.")
        ],
    ) -> AuthPayload:
        call = auth.refresh(info.context.services, input.refresh_token)
        return await mutation_payload(AuthPayload, call, lambda s: _auth_payload(info, s))

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="End this session.")
    async def logout(self, info: Info) -> LogoutPayload:
        ended = await auth.logout(info.context.services, everywhere=False)
        return LogoutPayload(sessions_ended=ended)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="End every session of yours.")
    async def logout_all(self, info: Info) -> LogoutPayload:
        ended = await auth.logout(info.context.services, everywhere=True)
        return LogoutPayload(sessions_ended=ended)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="Change your password; ends your other sessions."
    )
    async def change_password(
        self,
        info: Info,
        input: Annotated[
            ChangePasswordInput, strawberry.argument(description="Your current and new password.")
        ],
    ) -> UserPayload:
        call = auth.change_password(info.context.services, input.current_password, input.new_password)
        return await mutation_payload(UserPayload, call, user_payload)
