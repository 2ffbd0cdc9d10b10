"""The ``auth:`` section: OIDC login at the IAM and the per-service token exchange.

Why: every data-lake service (Rucio, EOS) trusts a token the hub obtained at login and then
exchanged for that service's audience; the login and the audiences are configured here once.
Rules spanning sections (a service named elsewhere must be exchanged here) are in
`dlaas_gen.config.checks.auth`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from dlaas_gen.config.base import AbsPath, HttpsUrl, SecretRef, StrictModel

#: Name of a downstream service in ``auth.token_exchange.audiences`` (``rucio``, ``eos``).
SERVICE = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
#: Keycloak's issuer is ``<base>/realms/<realm>`` (keycloak ``Urls.realmIssuer``).
KEYCLOAK_ISSUER = re.compile(r"/realms/[^/?#]+/?$")


class AllowRule(StrictModel):
    """Who may log in (oauthenticator 16+ lets nobody in without a rule)."""

    mode: Literal["all", "users", "groups"] = Field(
        description="`all` authenticated users, listed `users`, or members of `groups`."
    )
    users: list[str] = Field(default_factory=list, description="Allowed user names (mode users).")
    groups: list[str] = Field(default_factory=list, description="Allowed groups (mode groups).")
    groups_claim: str = Field(default="groups", description="Userinfo claim holding the groups.")


class TokenExchangeConfig(StrictModel):
    """RFC 8693 token exchange at the IdP's token endpoint, one token per downstream service."""

    audiences: dict[SERVICE, str] = Field(
        default_factory=lambda: {"rucio": "rucio"},
        description="Service name → audience to request (e.g. `rucio: rucio`, `eos: eos-eulake`).",
    )
    scope: str = Field(default="openid profile", description="Scope sent with each exchange.")
    refresh_margin_seconds: int = Field(
        default=600, ge=120, le=3000,
        description="Refresh tokens whose remaining lifetime is below this (the pod renewer "
        "polls every 60 s).",
    )


class AuthConfig(StrictModel):
    """OIDC login against an IAM with GenericOAuthenticator (oauthenticator 17)."""

    issuer: HttpsUrl = Field(description="Issuer URL, e.g. `https://iam-escape.cloud.cnaf.infn.it/`.")
    provider: Literal["indigo-iam", "keycloak", "custom"] = Field(
        default="indigo-iam",
        description="Endpoint layout used to fill in unset URLs (GenericOAuthenticator does no "
        "discovery): `indigo-iam` /authorize /token /userinfo; `keycloak` "
        "/protocol/openid-connect/...; `custom` requires all three URLs.",
    )
    authorize_url: HttpsUrl | None = Field(default=None, description="Authorization endpoint.")
    token_url: HttpsUrl | None = Field(default=None, description="Token endpoint.")
    userinfo_url: HttpsUrl | None = Field(default=None, description="Userinfo endpoint.")
    login_service: str = Field(default="IAM", description="Name on the login button.")
    client_id: SecretRef = Field(description="Secret key holding the OIDC client id.")
    client_secret: SecretRef = Field(description="Secret key holding the OIDC client secret.")
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email", "offline_access"],
        description="Scopes requested at login (`offline_access` is needed for refresh).",
    )
    username_claim: str = Field(
        default="preferred_username", description="Claim used as user name.")
    allow: AllowRule = Field(description="Explicit allow rule.")
    admin_users: list[str] = Field(default_factory=list, description="Hub administrators.")
    crypt_key: SecretRef | None = Field(
        default=None,
        description="Auth-state encryption key (`hub.config.CryptKeeper.keys`); unset: the "
        "chart generates and keeps one.",
    )
    token_exchange: TokenExchangeConfig = Field(
        default_factory=TokenExchangeConfig, description="Per-service token exchange."
    )
    token_dir: AbsPath = Field(
        default="/var/run/dlaas-tokens",
        description="In-memory volume in the user pod where token files are kept (mode 0600).",
    )
