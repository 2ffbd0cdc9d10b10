"""Hub-side token plumbing: RFC 8693 exchange per audience, refresh before expiry, scopes.

Runs inside the JupyterHub 5 hub pod with oauthenticator 17's GenericOAuthenticator, without
patching either. ``hub.extraConfig`` calls :func:`configure`::

    import dlaas_hub_tokens  # this file, mounted next to jupyterhub_config.py
    dlaas_hub_tokens.configure(c, {"audiences": {"rucio": "rucio", "eos": "eos-eulake"}})

Auth state written (on top of oauthenticator's own keys ``access_token``, ``refresh_token``,
``token_response``, ...)::

    access_token_expires_at: float | None            # epoch seconds
    exchanged_tokens: {<service>: {access_token, audience, expires_at}}
    exchange_errors: {<service>: "<message>"}       # only services whose exchange failed

The user's server reads it with its own API token (``GET /hub/api/users/<name>``), which is why
the ``user`` role gets ``admin:auth_state!user`` and the server token requests it.

Why stdlib-only imports: dlaas-gen imports this module at render time to validate settings
(:meth:`TokenSettings.from_dict`) without having jupyterhub installed; every HTTP call goes
through the authenticator's own client, so proxies, CA settings and client credentials are the
ones the login uses.
"""

import asyncio
import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"

#: JupyterHub 5's default ``server`` role scopes (what a server token gets when
#: ``Spawner.server_token_scopes`` is unset): kept so activity and access checks still work.
DEFAULT_SERVER_SCOPES: tuple[str, ...] = ("users:activity!user", "access:servers!server")
#: Added so the renewer can read its own user model with auth state. ``GET /users/<name>``
#: needs one of the ``read:users*`` scopes before ``admin:auth_state`` is even looked at.
RENEWER_SCOPES: tuple[str, ...] = ("read:users:name!user", "admin:auth_state!user")
#: Scopes the ``user`` role must hold; JupyterHub 5's default ``user`` role is ``["self"]``,
#: and a server token only receives scopes its owner holds.
USER_ROLE_SCOPES: tuple[str, ...] = ("self", "admin:auth_state!user")

_SERVICE_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_SETTINGS_KEYS = {
    "audiences",
    "exchange_scope",
    "refresh_margin_seconds",
    "auth_refresh_age",
    "token_url",
    "authenticator_class",
    "spawner_class",
}
#: The renewer polls at most every 60 s; a refresh is noticed on the first poll after
#: ``auth_refresh_age`` has elapsed, so the margin must cover both.
RENEWER_POLL_SECONDS = 60

class TokenSettings(NamedTuple):
    """Validated settings for :func:`configure`.

    Why a NamedTuple, not a dataclass: this file may also be ``exec``'d into
    ``hub.extraConfig``, a namespace that is no module, which dataclasses need.

    Attributes:
        audiences: service name -> audience requested by token exchange (one exchange per
            distinct audience). Service names key ``auth_state["exchanged_tokens"]``.
        exchange_scope: ``scope`` sent with each exchange; empty string sends none.
        refresh_margin_seconds: refresh tokens whose remaining lifetime is below this.
        auth_refresh_age: ``Authenticator.auth_refresh_age`` (seconds between refresh checks).
        token_url: exchange endpoint; ``None`` uses the authenticator's ``token_url``.
        authenticator_class: traitlets section the hooks are set on.
        spawner_class: traitlets section ``server_token_scopes`` is set on.
    """

    audiences: Mapping[str, str] = {}
    exchange_scope: str = "openid profile"
    refresh_margin_seconds: int = 600
    auth_refresh_age: int = 300
    token_url: str | None = None
    authenticator_class: str = "GenericOAuthenticator"
    spawner_class: str = "KubeSpawner"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "TokenSettings":
        """Build settings from the dict dlaas-gen renders, rejecting anything unexpected.

        Raises:
            ValueError: unknown key, wrong type, bad service name, or a margin too small.
        """
        unknown = set(raw) - _SETTINGS_KEYS
        if unknown:
            raise ValueError(f"unknown token settings key(s): {', '.join(sorted(unknown))}")
        audiences = _checked_audiences(raw.get("audiences", {}))
        settings = cls(**{**dict(raw), "audiences": audiences})
        _check_types(settings)
        needed = settings.auth_refresh_age + RENEWER_POLL_SECONDS
        if settings.refresh_margin_seconds <= needed:
            raise ValueError(
                f"refresh_margin_seconds ({settings.refresh_margin_seconds}) must exceed "
                f"auth_refresh_age + renewer poll interval ({needed}), or files would hold "
                "expired tokens before the hub refreshes them"
            )
        return settings


def _checked_audiences(audiences: Any) -> dict[str, str]:
    """The audiences as a dict, after checking every service name and audience."""
    if not isinstance(audiences, Mapping):
        raise ValueError("audiences must be a mapping of service name to audience")
    for service, audience in audiences.items():
        if not isinstance(service, str) or not _SERVICE_RE.match(service):
            raise ValueError(f"service name {service!r} must match {_SERVICE_RE.pattern}")
        if not isinstance(audience, str) or not audience:
            raise ValueError(f"audience for {service!r} must be a non-empty string")
    return dict(audiences)


def _check_types(settings: TokenSettings) -> None:
    """Refuse settings whose values have the wrong type (or a count that is not positive)."""
    for name in ("refresh_margin_seconds", "auth_refresh_age"):
        value = getattr(settings, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive integer")
    for name in ("exchange_scope", "authenticator_class", "spawner_class"):
        if not isinstance(getattr(settings, name), str):
            raise ValueError(f"{name} must be a string")
    if settings.token_url is not None and not isinstance(settings.token_url, str):
        raise ValueError("token_url must be a string or null")


def jwt_expiry(token: str) -> float | None:
    """Return the ``exp`` claim of a JWT without verifying it, or ``None``.

    Why: IAM access tokens are JWTs; their ``exp`` is the truth even when the token
    response's ``expires_in`` was relative to a moment we no longer know.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        exp = json.loads(payload).get("exp")
    except (ValueError, binascii.Error, AttributeError):
        return None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def _expiry(token: str, response: Mapping[str, Any], now: float) -> float | None:
    """Expiry of ``token``: JWT ``exp``, else ``expires_at``, else ``now + expires_in``."""
    exp = jwt_expiry(token)
    if exp is not None:
        return exp
    for key, base in (("expires_at", 0.0), ("expires_in", now)):
        value = response.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return base + float(value)
        if isinstance(value, str) and value.isdigit():
            return base + float(value)
    return None


class TokenExchanger:
    """The two oauthenticator hooks, sharing settings and a clock.

    Messages go to ``authenticator.log`` so they appear in the hub's log.

    Args:
        settings: validated settings.
        clock: epoch-seconds clock; tests pass a fake one shared with their fake IdP.
    """

    def __init__(self, settings: TokenSettings, clock: Callable[[], float] = time.time) -> None:
        """Store settings and clock."""
        self.settings = settings
        self.clock = clock

    async def exchange(self, authenticator: Any, subject_token: str, audience: str) -> dict:
        """Do one RFC 8693 exchange and return the token response.

        Client credentials are sent exactly as the authenticator sends them for the
        authorization-code and refresh grants (HTTP Basic when ``basic_auth``, else form).
        """
        params = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": subject_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": audience,
        }
        if self.settings.exchange_scope:
            params["scope"] = self.settings.exchange_scope
        if not authenticator.basic_auth:
            params["client_id"] = authenticator.client_id
            params["client_secret"] = authenticator.client_secret
        response = await authenticator.httpfetch(
            self.settings.token_url or authenticator.token_url,
            label=f"exchanging token for audience {audience}",
            method="POST",
            headers=authenticator.build_token_info_request_headers(),
            body=urlencode(params).encode("utf-8"),
            validate_cert=authenticator.validate_server_cert,
        )
        if not isinstance(response, dict) or not response.get("access_token"):
            detail = response.get("error_description") if isinstance(response, dict) else None
            raise ValueError(f"no access_token in exchange response ({detail or 'no detail'})")
        return response

    async def exchange_all(self, authenticator: Any, subject_token: str) -> tuple[dict, dict]:
        """Exchange ``subject_token`` once per distinct audience.

        Returns:
            ``(exchanged_tokens, exchange_errors)``, both keyed by service name.
        """
        audiences = sorted(set(self.settings.audiences.values()))
        results = await asyncio.gather(
            *(self.exchange(authenticator, subject_token, aud) for aud in audiences),
            return_exceptions=True,
        )
        by_audience = dict(zip(audiences, results, strict=True))
        now = self.clock()
        tokens: dict[str, dict] = {}
        errors: dict[str, str] = {}
        for service, audience in sorted(self.settings.audiences.items()):
            result = by_audience[audience]
            if isinstance(result, BaseException):
                errors[service] = f"token exchange for audience {audience!r} failed: {result}"
                authenticator.log.error("%s", errors[service])
                continue
            tokens[service] = {
                "access_token": result["access_token"],
                "audience": audience,
                "expires_at": _expiry(result["access_token"], result, now),
            }
        return tokens, errors

    async def modify_auth_state(self, authenticator: Any, auth_state: dict) -> dict:
        """``modify_auth_state_hook``: runs after login and after every successful refresh.

        Why: oauthenticator calls this hook from the code shared by ``authenticate`` and
        ``refresh_user``, so exchanges are redone whenever the access token is renewed.
        """
        access_token = auth_state.get("access_token")
        if not access_token:
            return auth_state
        now = self.clock()
        response = auth_state.get("token_response")
        if isinstance(response, dict):
            # Why: ``expires_in`` is relative to the moment of issue; pin it once so a later
            # re-validation of the same token does not extend its life.
            expires_at = _expiry(access_token, response, now)
            if expires_at is not None:
                response.setdefault("expires_at", expires_at)
        else:
            expires_at = jwt_expiry(access_token)
        auth_state["access_token_expires_at"] = expires_at
        tokens, errors = await self.exchange_all(authenticator, access_token)
        auth_state["exchanged_tokens"] = tokens
        auth_state["exchange_errors"] = errors
        return auth_state

    def _fresh(self, expires_at: Any, now: float) -> bool:
        """Whether a token expiring at ``expires_at`` outlives the refresh margin."""
        if expires_at is None:
            return True
        return float(expires_at) - now > self.settings.refresh_margin_seconds

    async def refresh_user(self, authenticator: Any, user: Any, auth_state: dict | None) -> Any:
        """``refresh_user_hook``: refresh before expiry, otherwise defer to oauthenticator.

        Returns:
            ``True`` when every token outlives the margin (no IdP traffic); ``None`` to run
            oauthenticator's own refresh (re-validates the still-valid access token and, via
            the modify hook, redoes the exchanges); a new auth model after a refresh-token
            grant; ``False`` when the user must log in again.
        """
        if not auth_state or not auth_state.get("access_token"):
            return None
        now = self.clock()
        access_expires = auth_state.get("access_token_expires_at")
        if access_expires is None:
            access_expires = jwt_expiry(auth_state["access_token"])
        exchanged = auth_state.get("exchanged_tokens") or {}
        exchanged_ok = all(
            service in exchanged and self._fresh(exchanged[service].get("expires_at"), now)
            for service in self.settings.audiences
        )
        if access_expires is None:
            return None
        if self._fresh(access_expires, now):
            return True if exchanged_ok else None
        refresh_token = auth_state.get("refresh_token")
        if not refresh_token:
            authenticator.log.warning(
                "no refresh_token for %s (offline_access not granted?)", user.name
            )
            return None
        try:
            token_info = await authenticator.get_token_info(
                None, authenticator.build_refresh_token_request_params(refresh_token)
            )
        except Exception as e:  # noqa: BLE001 - any IdP failure is handled the same way
            if float(access_expires) > now:
                authenticator.log.warning(
                    "refresh for %s failed, token still valid: %s", user.name, e
                )
                return True
            authenticator.log.warning(
                "refresh for %s failed, login required: %s", user.name, e
            )
            return False
        if not token_info.get("refresh_token"):
            token_info["refresh_token"] = refresh_token
        authenticator.log.info("refreshed access token of %s before expiry", user.name)
        try:
            # Why: the same private helper oauthenticator's refresh_user uses after its own
            # refresh grant; it fetches userinfo, builds auth state, runs our modify hook
            # and applies managed groups, so nothing of that is re-implemented here.
            return await authenticator._token_to_auth_model(token_info)
        except Exception as e:  # noqa: BLE001 - mirrors oauthenticator's refresh_user
            authenticator.log.error(
                "refreshed token of %s unusable, login required: %s", user.name, e
            )
            return False


def _chain_hook(existing: Any, ours: Callable) -> Callable:
    """Run an already configured ``modify_auth_state_hook`` before ours.

    A hook installed by an earlier :func:`configure` call is replaced, not chained, so
    configuring twice does not exchange twice.
    """
    if not callable(existing) or getattr(existing, "_dlaas_hook", False):
        return ours

    async def chained(authenticator: Any, auth_state: dict) -> dict:
        result = existing(authenticator, auth_state)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        return await ours(authenticator, result)

    return chained


def _configured(section: Any, key: str) -> Any:
    """Value explicitly set in a traitlets config section, or ``None``."""
    value = section[key] if key in section else None
    return value if isinstance(value, (list, tuple, dict)) or callable(value) else None


def merge_user_role(load_roles: list | None) -> list:
    """Return ``load_roles`` with the ``user`` role holding :data:`USER_ROLE_SCOPES`.

    Why: redefining the ``user`` role replaces its default scopes, so ``self`` is kept.
    """
    roles = [dict(role) for role in (load_roles or [])]
    for role in roles:
        if role.get("name") == "user":
            scopes = list(role.get("scopes") or [])
            role["scopes"] = scopes + [s for s in USER_ROLE_SCOPES if s not in scopes]
            return roles
    roles.append({"name": "user", "scopes": list(USER_ROLE_SCOPES)})
    return roles


def server_token_scopes(existing: list | None = None) -> list[str]:
    """Scopes for ``Spawner.server_token_scopes``: defaults (or ``existing``) plus renewer's."""
    scopes = list(existing or DEFAULT_SERVER_SCOPES)
    return scopes + [s for s in RENEWER_SCOPES if s not in scopes]


def configure(
    c: Any, settings: Mapping[str, Any], *, clock: Callable[[], float] = time.time
) -> TokenExchanger:
    """Wire token exchange, refresh and auth-state access into a JupyterHub config object.

    Sets ``enable_auth_state``, ``modify_auth_state_hook`` (chained after any existing one),
    ``refresh_user_hook``, ``auth_refresh_age`` and ``refresh_pre_spawn`` on the
    authenticator section; merges ``server_token_scopes`` on the spawner section and the
    ``user`` role into ``JupyterHub.load_roles`` (both keep what is already configured).

    Args:
        c: the traitlets config (``c`` in ``jupyterhub_config.py``).
        settings: the dict described by :class:`TokenSettings`.
        clock: epoch-seconds clock (tests only).

    Returns:
        The exchanger whose bound methods were installed as hooks.
    """
    parsed = TokenSettings.from_dict(settings)
    exchanger = TokenExchanger(parsed, clock=clock)
    auth = c[parsed.authenticator_class]
    auth.enable_auth_state = True
    # Why closures, not bound methods: traitlets deep-copies config values, and a copied
    # bound method would carry a copy of the exchanger; functions are copied by reference.

    async def modify_auth_state_hook(authenticator: Any, auth_state: dict) -> dict:
        return await exchanger.modify_auth_state(authenticator, auth_state)

    async def refresh_user_hook(authenticator: Any, user: Any, auth_state: dict | None) -> Any:
        return await exchanger.refresh_user(authenticator, user, auth_state)

    modify_auth_state_hook._dlaas_hook = True  # type: ignore[attr-defined]
    auth.modify_auth_state_hook = _chain_hook(
        _configured(auth, "modify_auth_state_hook"), modify_auth_state_hook
    )
    auth.refresh_user_hook = refresh_user_hook
    auth.auth_refresh_age = parsed.auth_refresh_age
    auth.refresh_pre_spawn = True
    spawner = c[parsed.spawner_class]
    spawner.server_token_scopes = server_token_scopes(
        _configured(spawner, "server_token_scopes")
    )
    c.JupyterHub.load_roles = merge_user_role(_configured(c.JupyterHub, "load_roles"))
    return exchanger
