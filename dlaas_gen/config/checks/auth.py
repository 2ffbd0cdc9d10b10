"""Checks of ``auth:``: a complete login, present whenever a data-lake section needs tokens.

Why: every data-lake service trusts a token exchanged from the login; without ``auth:`` or with
an endpoint layout that cannot work, the hub starts but no notebook gets a token.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.auth import KEYCLOAK_ISSUER, AllowRule, AuthConfig
from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.site import SiteConfig


def check_auth(site: SiteConfig) -> Iterator[Finding]:
    """The login is complete, and the data-lake sections have one."""
    auth = site.auth
    if auth is None:
        if site.rucio or site.eos or site.upload:
            yield (("rucio",) if site.rucio else ("eos",) if site.eos else ("upload",), "error",
                   "the data-lake sections need `auth:` (tokens come from the IAM login)")
        return
    yield from _endpoints(auth)
    if site.ingress is None:
        yield (("auth",), "error", "auth needs `ingress.host` to derive the OAuth callback URL")
    yield from _allow_rule(auth.allow)
    yield from _scopes_and_audiences(auth)


def _endpoints(auth: AuthConfig) -> Iterator[Finding]:
    """The issuer and endpoints the provider layout needs."""
    if auth.provider == "keycloak" and not KEYCLOAK_ISSUER.search(auth.issuer):
        # Why: Keycloak's issuer is <base>/realms/<realm> (keycloak Urls.realmIssuer), and the
        # endpoints are derived below it (<issuer>/protocol/openid-connect/...).
        yield (("auth", "issuer"), "error",
               f"a Keycloak issuer ends with /realms/<realm> (e.g. "
               f"{auth.issuer.rstrip('/')}/realms/myrealm); without it every login URL is wrong")
    if auth.provider == "custom":
        for key in ("authorize_url", "token_url", "userinfo_url"):
            if getattr(auth, key) is None:
                yield (("auth", "provider"), "error", f"provider custom needs auth.{key}")


def _allow_rule(allow: AllowRule) -> Iterator[Finding]:
    """A ``users`` or ``groups`` rule lists someone (oauthenticator would let nobody in)."""
    if allow.mode == "users" and not allow.users:
        yield (("auth", "allow", "mode"), "error",
               "allow mode users needs a non-empty `users` list")
    if allow.mode == "groups" and not allow.groups:
        yield (("auth", "allow", "mode"), "error",
               "allow mode groups needs a non-empty `groups` list")


def _scopes_and_audiences(auth: AuthConfig) -> Iterator[Finding]:
    """The scopes give an ID token and a refresh token; each service has its own audience."""
    if "openid" not in auth.scopes:
        yield (("auth", "scopes"), "error", "scopes must include openid")
    if "offline_access" not in auth.scopes:
        yield (("auth", "scopes"), "warning", "without offline_access there is no refresh token: "
               "token files stop working when the access token expires (~1 h)")
    if len(set(auth.token_exchange.audiences.values())) != len(auth.token_exchange.audiences):
        yield (("auth", "token_exchange", "audiences"), "warning",
               "two services share an audience; one exchange serves both")
