"""OAuth / OIDC sign-in types: the enabled providers, the authorization URL a client starts a
sign-in with, and the code-exchange inputs."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field


class OAuthProviderKind(enum.StrEnum):
    GOOGLE = "GOOGLE"
    GITHUB = "GITHUB"
    MICROSOFT = "MICROSOFT"
    OIDC = "OIDC"


documented_enum(
    OAuthProviderKind,
    "The protocol shape of a sign-in provider.",
    {
        OAuthProviderKind.GOOGLE: "Google (OpenID Connect).",
        OAuthProviderKind.GITHUB: "GitHub (OAuth 2.0; the account from its REST API).",
        OAuthProviderKind.MICROSOFT: "Microsoft identity platform (OpenID Connect, any Entra tenant).",
        OAuthProviderKind.OIDC: "Any OpenID Connect issuer, configured by discovery.",
    },
)


@strawberry.type(description="A sign-in provider enabled on this server.")
class OAuthProvider:
    name: str = strawberry.field(description="Its name in URLs and inputs (`provider`), e.g. `google`.")
    kind: OAuthProviderKind = strawberry.field(description="Which protocol shape it has.")
    display_name: str = strawberry.field(description="What a sign-in button shows.")
    start_url: str = strawberry.field(
        description="Send the browser here to sign in (GET; `?tenant=<slug>` is included when the "
        "query named a tenant). It comes back to the frontend with the refresh cookie set, or with "
        "`?error=<code>` (an IdentityErrorCode)."
    )
    callback_url: str = strawberry.field(
        description="The redirect URI of this server's own flow: register it at the provider."
    )
    client_id: str = strawberry.field(
        description="The public client id, for clients that run the authorization request themselves "
        "(then `loginWithOAuth`)."
    )
    scope: str = strawberry.field(description="The scopes requested, space-separated.")


@strawberry.input(description="An authorization code the client obtained itself, to sign in with.")
class LoginWithOAuthInput:
    provider: str = strawberry.field(description="The provider's name, as `oauthProviders` lists it.")
    code: str = strawberry.field(description="The authorization code the provider redirected back with.")
    redirect_uri: str = strawberry.field(description="The redirect URI the authorization request used.")
    tenant_slug: str = strawberry.field(description="The tenant to sign in to.")
    code_verifier: str | None = strawberry.field(
        default=None, description="The PKCE verifier, when the authorization request sent a challenge."
    )
    state: str | None = strawberry.field(
        default=None,
        description="The state of an `oauthAuthorizationUrl` the authorization request came from: used up "
        "here (once; same provider, tenant and redirect URI), its PKCE verifier and nonce sent from the "
        "server. For provider `telegram`, omit it and pass the widget's query string as `code`.",
    )


@strawberry.input(description="Start a sign-in whose authorization request the client sends itself.")
class OAuthAuthorizationUrlInput:
    provider: str = strawberry.field(description="The provider's name, as `oauthProviders` lists it.")
    tenant_slug: str = strawberry.field(description="The tenant to sign in to.")
    redirect_uri: str = strawberry.field(
        description="Where the provider sends the browser back with `code` and `state` (registered at the "
        "provider); the same one goes to `loginWithOAuth`."
    )
    state: str | None = strawberry.field(
        default=None,
        description="Your own state (16 to 256 characters, unguessable), checked by you when the browser "
        "comes back; a new one is made when omitted.",
    )


@strawberry.type(description="The result of oauthAuthorizationUrl: where to send the browser, or userErrors.")
class OAuthAuthorizationUrlPayload:
    url: str | None = strawberry.field(
        default=None,
        description="The provider's authorization URL (with state, PKCE S256 challenge and, for OIDC, a "
        "nonce); send the browser there.",
    )
    state: str | None = strawberry.field(
        default=None, description="The state in the URL: pass it with the code to `loginWithOAuth`."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="Finish the sign-in before this (UTC; oauth_state_ttl_seconds)."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="An authorization code that links a provider account to yours.")
class LinkOAuthIdentityInput:
    provider: str = strawberry.field(description="The provider's name, as `oauthProviders` lists it.")
    code: str = strawberry.field(description="The authorization code the provider redirected back with.")
    redirect_uri: str = strawberry.field(description="The redirect URI the authorization request used.")
    code_verifier: str | None = strawberry.field(
        default=None, description="The PKCE verifier, when the authorization request sent a challenge."
    )
