"""OAuth / OIDC resolvers: the enabled providers (public), sign-in by code exchange, and linking a
provider to the signed-in account."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.identity.accounts import user_payload
from resolvers.identity.sign_in import signed_in_or_challenged
from schema.directives import AUTHENTICATED, PUBLIC, access
from schema.errors import mutation_payload
from schema.identity.accounts import UserPayload
from schema.identity.oauth import (
    LinkOAuthIdentityInput,
    LoginWithOAuthInput,
    OAuthProvider,
    OAuthProviderKind,
)
from schema.identity.sign_in import AuthPayload
from services.identity import oauth
from services.identity.oauth import public_base, url_of_callback, url_of_start


def _base(info: Info) -> str:
    request = info.context.request
    return public_base(info.context.services.settings, str(request.base_url) if request is not None else "")


@strawberry.type
class OAuthQuery:
    @strawberry.field(
        name="oauthProviders",
        extensions=access(PUBLIC),
        description="The sign-in providers enabled here, with their start URLs.",
    )
    def oauth_providers(
        self,
        info: Info,
        tenant_slug: Annotated[
            str | None, strawberry.argument(description="Put this tenant in the start URLs.")
        ] = None,
    ) -> list[OAuthProvider]:
        base = _base(info)
        return [
            OAuthProvider(
                name=provider.name,
                kind=OAuthProviderKind(provider.kind.upper()),
                display_name=provider.display_name,
                start_url=url_of_start(base, provider.name, tenant_slug),
                callback_url=url_of_callback(base, provider.name),
                client_id=provider.config.client_id,
                scope=provider.scope,
            )
            for provider in oauth.enabled_providers(info.context.services)
        ]


@strawberry.type
class OAuthMutation:
    @strawberry.mutation(
        name="loginWithOAuth",
        extensions=access(PUBLIC),
        description="Sign in with an authorization code the client obtained from the provider itself "
        "(it ran the authorization request and checked its state). New users are created in the "
        "tenant from a verified provider email; an email of an existing account is refused "
        "(OAUTH_ACCOUNT_EXISTS): sign in to it and use `linkOAuthIdentity`.",
    )
    async def login_with_oauth(
        self,
        info: Info,
        input: Annotated[
            LoginWithOAuthInput, strawberry.argument(description="Provider, code, redirect URI, tenant.")
        ],
    ) -> AuthPayload:
        call = oauth.login_with_code(
            info.context.services,
            input.provider,
            code=input.code,
            redirect_uri=input.redirect_uri,
            tenant_slug=input.tenant_slug,
            code_verifier=input.code_verifier,
        )
        return await mutation_payload(AuthPayload, call, lambda s: signed_in_or_challenged(info, s))

    @strawberry.mutation(
        name="linkOAuthIdentity",
        extensions=access(AUTHENTICATED),
        description="Link a provider account to yours (by an authorization code the client obtained); "
        "from then on it signs in as you.",
    )
    async def link_oauth_identity(
        self,
        info: Info,
        input: Annotated[
            LinkOAuthIdentityInput, strawberry.argument(description="Provider, code and redirect URI.")
        ],
    ) -> UserPayload:
        call = oauth.link_identity(
            info.context.services,
            input.provider,
            code=input.code,
            redirect_uri=input.redirect_uri,
            code_verifier=input.code_verifier,
        )
        return await mutation_payload(UserPayload, call, user_payload)
