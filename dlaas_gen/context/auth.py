"""Hub values for IAM login (GenericOAuthenticator) and the token plumbing.

Why: oauthenticator 17 does no OIDC discovery and renders nothing from an issuer alone, so the
endpoints are derived here from a named provider layout; the token-exchange module ships in
``hub.extraFiles`` so a change to it changes the chart's config checksum and restarts the hub.
"""

from __future__ import annotations

import json
from typing import Any

from dlaas_gen.config.auth import AuthConfig
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.context.model import SiteContext, SiteInput
from dlaas_gen.payloads import TokenSettings, payload_text

AUTHENTICATOR = "GenericOAuthenticator"
HUB_MODULE = "dlaas_hub_tokens"
HUB_MODULE_PATH = f"/usr/local/etc/jupyterhub/{HUB_MODULE}.py"
PROVIDER_PATHS = {
    "indigo-iam": ("authorize", "token", "userinfo"),
    "keycloak": ("protocol/openid-connect/auth", "protocol/openid-connect/token",
                 "protocol/openid-connect/userinfo"),
}


def endpoints(auth: AuthConfig) -> dict[str, str]:
    """authorize/token/userinfo URLs: given ones win, others follow the provider layout."""
    base = auth.issuer.rstrip("/")
    layout = PROVIDER_PATHS.get(auth.provider, ("", "", ""))
    names = ("authorize", "token", "userinfo")
    derived = {k: f"{base}/{p}" for k, p in zip(names, layout, strict=True)}
    return {
        "authorize": auth.authorize_url or derived["authorize"],
        "token": auth.token_url or derived["token"],
        "userinfo": auth.userinfo_url or derived["userinfo"],
    }


def callback_url(site: SiteConfig) -> str:
    """``https://<ingress host>/hub/oauth_callback``."""
    assert site.ingress is not None
    return f"https://{site.ingress.host}/hub/oauth_callback"


def token_settings(auth: AuthConfig) -> dict[str, Any]:
    """Settings passed to ``dlaas_hub_tokens.configure`` (validated by the module itself)."""
    settings = {
        "audiences": dict(sorted(auth.token_exchange.audiences.items())),
        "exchange_scope": auth.token_exchange.scope,
        "refresh_margin_seconds": auth.token_exchange.refresh_margin_seconds,
        "token_url": endpoints(auth)["token"],
        "authenticator_class": AUTHENTICATOR,
        "spawner_class": "KubeSpawner",
    }
    TokenSettings.from_dict(settings)
    return settings


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Contribute the authenticator, secrets, auth-state key and token-exchange hook."""
    auth = site.config.auth
    if auth is None:
        return
    hv = out.hub
    urls = endpoints(auth)
    config: dict[str, Any] = {
        "oauth_callback_url": callback_url(site.config),
        "authorize_url": urls["authorize"],
        "token_url": urls["token"],
        "userdata_url": urls["userinfo"],
        "login_service": auth.login_service,
        "scope": list(auth.scopes),
        "username_claim": auth.username_claim,
        "enable_auth_state": True,
        "refresh_pre_spawn": True,
    }
    if auth.allow.mode == "all":
        config["allow_all"] = True
    elif auth.allow.mode == "users":
        config["allowed_users"] = sorted(auth.allow.users)
    else:
        # oauthenticator 17: allowed_groups raises unless manage_groups is on, and
        # claim_groups_key is deprecated for auth_state_groups_key (userinfo is "oauth_user").
        config["manage_groups"] = True
        config["allowed_groups"] = sorted(auth.allow.groups)
        config["auth_state_groups_key"] = f"oauth_user.{auth.allow.groups_claim}"
    if auth.admin_users:
        config["admin_users"] = sorted(auth.admin_users)
    settings = json.dumps(token_settings(auth), sort_keys=True)
    hv.add({
        "hub": {
            "config": {
                "JupyterHub": {"authenticator_class": "generic-oauth"},
                AUTHENTICATOR: config,
            },
            "extraFiles": {
                "dlaas-hub-tokens": {"mountPath": HUB_MODULE_PATH,
                                     "stringData": payload_text("hub_tokens.py")},
            },
            "extraConfig": {
                "10-dlaas-token-exchange": (
                    f"import {HUB_MODULE}\n{HUB_MODULE}.configure(c, {settings})\n"
                ),
            },
        },
    })
    hv.add_secret(auth.client_id, f"hub.config.{AUTHENTICATOR}.client_id", "OIDC client id")
    hv.add_secret(auth.client_secret, f"hub.config.{AUTHENTICATOR}.client_secret",
                  "OIDC client secret")
    if auth.crypt_key is not None:
        hv.add_secret(auth.crypt_key, "hub.config.CryptKeeper.keys[0]", "auth-state encryption key")
