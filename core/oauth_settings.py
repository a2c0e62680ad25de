"""How one OAuth / OIDC sign-in provider is configured (core/settings.py ``oauth_providers``).

``TENANTGRAPH_OAUTH_PROVIDERS`` is a JSON object of provider name to these fields, e.g.
``{"google": {"client_id": "...", "client_secret": "..."}, "keycloak": {"issuer":
"https://sso.example/realms/main", "client_id": "...", "client_secret": "..."}}``. The names
``google``, ``github`` and ``microsoft`` take that provider's shape and endpoints; any other name is
an OIDC issuer found by discovery. Every endpoint can be overridden (a proxy, a test provider)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ProviderKind = Literal["google", "github", "microsoft", "oidc"]
# A provider's name is part of its URLs (/auth/oauth/<name>) and of every identity linked with it.
PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
ProviderName = Annotated[str, StringConstraints(pattern=PROVIDER_NAME.pattern)]


class OAuthProviderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: str = ""
    # Unset: the provider's name if it is google, github or microsoft, else oidc.
    kind: ProviderKind | None = None
    # Shown to users ("Sign in with ..."); unset: the name, capitalised.
    display_name: str = ""
    # Space-separated; unset: "openid email profile" (GitHub: "read:user user:email").
    scope: str = ""
    # OIDC issuer (discovery at <issuer>/.well-known/openid-configuration, and the id_token's iss).
    # Microsoft's default is its multi-tenant template; {tenantid} is the token's tid claim.
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    jwks_url: str = ""
    # RP-initiated logout (OIDC); unset: the discovery document's end_session_endpoint, if any.
    end_session_url: str = ""
    # GitHub's REST API base (for /user and /user/emails); unset: https://api.github.com.
    api_url: str = ""
