"""OAuth / OIDC resolvers: the enabled providers (public), the authorization URL of a sign-in the
client runs itself, sign-in by code exchange (Telegram's widget data too), and linking a provider
to the signed-in account."""

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
    OAuthAuthorizationUrlInput,
    OAuthAuthorizationUrlPayload,
    OAuthProvider,
    OAuthProviderKind,
)
from schema.identity.sign_in import AuthPayload
from services.identity import oauth, telegram
from services.identity.oauth import AuthorizationRequest, public_base, url_of_callback, url_of_start


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
        services = info.context.services
        if input.provider == telegram.TELEGRAM and telegram.enabled(services.settings):
            # 002's POST /auth/login/oauth/telegram: the widget's redirect query as the code.
            call = telegram.login_with_query(services, input.tenant_slug, input.code)
        else:
            call = oauth.login_with_code(
                services,
                input.provider,
                code=input.code,
                redirect_uri=input.redirect_uri,
                tenant_slug=input.tenant_slug,
                code_verifier=input.code_verifier,
                state=input.state,
            )
        return await mutation_payload(AuthPayload, call, lambda s: signed_in_or_challenged(info, s))

    @strawberry.mutation(
        name="oauthAuthorizationUrl",
        extensions=access(PUBLIC),
        description="Start a sign-in whose browser redirect the client handles itself (004 GET "
        "/auth/google as JSON): the provider's authorization URL with the state (yours, or a new one). "
        "The PKCE verifier and nonce stay on the server; finish with `loginWithOAuth` given the code, "
        "this state and the same redirect URI (once, before expiresAt).",
    )
    async def oauth_authorization_url(
        self,
        info: Info,
        input: Annotated[
            OAuthAuthorizationUrlInput, strawberry.argument(description="Provider, tenant, redirect URI.")
        ],
    ) -> OAuthAuthorizationUrlPayload:
        call = oauth.authorization_request(
            info.context.services, input.provider, input.tenant_slug, input.redirect_uri, input.state
        )

        def answer(started: AuthorizationRequest) -> OAuthAuthorizationUrlPayload:
            return OAuthAuthorizationUrlPayload(
                url=started.url, state=started.state, expires_at=started.expires_at
            )

        return await mutation_payload(OAuthAuthorizationUrlPayload, call, answer)

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
