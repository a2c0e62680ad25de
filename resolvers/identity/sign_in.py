"""Sign-in resolvers: login, registration, token refresh, logout and password change."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.identity.accounts import user_payload
from resolvers.identity.sessions import logout_presented, presented_refresh_token
from schema.directives import AUTHENTICATED, PUBLIC, access
from schema.errors import mutation_payload, user_errors
from schema.identity.accounts import User, UserPayload
from schema.identity.mfa import challenge_payload
from schema.identity.sessions import LogoutInput
from schema.identity.sign_in import (
    AuthPayload,
    ChangePasswordInput,
    LoginInput,
    LogoutPayload,
    RefreshInput,
    RegisterInput,
)
from services.identity import auth, registration
from services.identity.auth import SignIn
from services.identity.registration import Registration, verification_required
from services.identity.security import IssuedChallenge
from services.identity.sessions import Device, refresh_token_required


def auth_payload(info: Info, sign_in: SignIn) -> AuthPayload:
    # The rest of this response (user { tenant roles }) is read as the user who just signed in.
    info.context.act_as(sign_in.principal)
    return AuthPayload(
        user=User.from_model(sign_in.user),
        access_token=sign_in.access_token,
        access_token_expires_at=sign_in.access_token_expires_at,
        expires_in=info.context.services.settings.access_token_ttl_seconds,
        token_type="Bearer",
        refresh_token=sign_in.refresh_token,
        refresh_token_expires_at=sign_in.refresh_token_expires_at,
        password_change_required=sign_in.principal.password_change_required,
        verification_required=verification_required(sign_in.user),
    )


def signed_in_or_challenged(info: Info, result: SignIn | IssuedChallenge) -> AuthPayload:
    # An MFA account's login answers a challenge (schema/identity/mfa.py), not tokens.
    if isinstance(result, IssuedChallenge):
        return challenge_payload(result)
    return auth_payload(info, result)


@strawberry.type
class SignInMutation:
    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Sign in with tenant slug, email (or phone number) and password. An account with "
        "MFA answers mfaRequired and an mfaChallenge for completeMfaLogin instead of tokens.",
    )
    async def login(
        self,
        info: Info,
        input: Annotated[LoginInput, strawberry.argument(description="Tenant slug, email and password.")],
    ) -> AuthPayload:
        call = auth.login(
            info.context.services,
            input.tenant_slug,
            input.email,
            input.password,
            device=Device.of(input.device_id, input.device_name),
            phone=input.phone,
        )
        return await mutation_payload(AuthPayload, call, lambda s: signed_in_or_challenged(info, s))

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Create an account in a tenant and sign in; a verification link is mailed to its "
        "email, a code texted to its phone (verificationRequired until verified).",
    )
    async def register(
        self,
        info: Info,
        input: Annotated[
            RegisterInput, strawberry.argument(description="The tenant to join and the new account.")
        ],
    ) -> AuthPayload:
        new = Registration(
            tenant_slug=input.tenant_slug,
            password=input.password,
            email=input.email,
            phone=input.phone,
            full_name=input.full_name,
            first_name=input.first_name,
            last_name=input.last_name,
            username=input.username,
            accept_terms=input.accept_terms,
            affiliate_code=input.affiliate_code,
        )
        call = registration.register(
            info.context.services, new, device=Device.of(input.device_id, input.device_name)
        )
        return await mutation_payload(AuthPayload, call, lambda s: auth_payload(info, s))

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Trade a refresh token (the input's, else the refresh cookie's) for new tokens.",
    )
    async def refresh_token(
        self,
        info: Info,
        input: Annotated[
            RefreshInput | None,
            strawberry.argument(description="The session's latest refresh token; the cookie's if omitted."),
        ] = None,
    ) -> AuthPayload:
        presented = presented_refresh_token(info, input.refresh_token if input else None)
        if presented is None:
            missing = refresh_token_required(info.context.services.settings)
            return AuthPayload(user_errors=user_errors(missing))
        call = auth.refresh(info.context.services, presented.token)
        payload = await mutation_payload(AuthPayload, call, lambda s: auth_payload(info, s))
        return presented.answered(info, payload)

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="End this session: the access token's, or a refresh token's (the input's or the "
        "refresh cookie's) without an access token. UNAUTHENTICATED with neither.",
    )
    async def logout(
        self,
        info: Info,
        input: Annotated[
            LogoutInput | None,
            strawberry.argument(description="A refresh token naming the session (no access token needed)."),
        ] = None,
    ) -> LogoutPayload:
        return await logout_presented(info, input.refresh_token if input else None)

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
