"""Hub-side token plumbing with the real jupyterhub and oauthenticator against a fake IdP.

The fake IdP (pytest-httpserver on 127.0.0.1) issues JWT-shaped tokens whose ``exp`` follows a
clock the test moves; its userinfo endpoint rejects expired tokens like a real IdP. The renewal
test runs a real in-process JupyterHub app (no proxy, a stub spawner) so that server-token
scopes, the users API and ``refresh_auth`` are JupyterHub's own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import threading
import time
import warnings
from pathlib import Path

import jupyterhub
import pytest
from jupyterhub import orm, roles, scopes
from jupyterhub.app import JupyterHub
from jupyterhub.crypto import CryptKeeper
from jupyterhub.proxy import Proxy
from jupyterhub.spawner import Spawner
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import _serialize_state
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from traitlets.config import Config
from werkzeug import Response

from dlaas_gen.payload import hub_tokens as ht
from dlaas_gen.payload import token_renewer as tr
from dlaas_gen.payloads import payload_text

CLIENT_ID, CLIENT_SECRET = "dlaas-hub", "s3cret"
SETTINGS = {
    "audiences": {"rucio": "rucio", "eos": "eos-eulake"},
    "exchange_scope": "openid profile",
    "refresh_margin_seconds": 600,
    "auth_refresh_age": 300,
}
ACCESS_LIFETIME = 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class FakeIdP:
    """Token endpoint (code, refresh and token-exchange grants) and userinfo."""

    def __init__(self, httpserver, clock: Clock, exchanged_lifetime: int = ACCESS_LIFETIME):
        self.clock = clock
        self.exchanged_lifetime = exchanged_lifetime
        self.issued: dict[str, dict] = {}
        self.refresh_tokens: set[str] = set()
        self.posts: list[tuple[dict, dict]] = []
        self.userinfo_calls = 0
        self.counter = 0
        self.url = httpserver.url_for("")
        httpserver.expect_request("/token", method="POST").respond_with_handler(self.token)
        httpserver.expect_request("/userinfo").respond_with_handler(self.userinfo)

    def issue(self, aud: str, lifetime: int) -> str:
        self.counter += 1
        claims = {"sub": "a1b2", "aud": aud, "exp": int(self.clock() + lifetime),
                  "jti": f"t{self.counter}"}
        token = f"{b64({'alg': 'RS256'})}.{b64(claims)}.sig{self.counter}"
        self.issued[token] = claims
        return token

    def valid(self, token: str) -> bool:
        claims = self.issued.get(token)
        return claims is not None and claims["exp"] > self.clock()

    def grants(self) -> list[str]:
        return [form["grant_type"].rsplit(":", 1)[-1] for form, _ in self.posts]

    def token(self, request):
        form = request.form.to_dict()
        self.posts.append((form, dict(request.headers)))
        basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != basic and (
            form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return self.error(401, "invalid_client")
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") == "the-code":
            return self.tokens(self.issue(CLIENT_ID, ACCESS_LIFETIME))
        if grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            return self.tokens(self.issue(CLIENT_ID, ACCESS_LIFETIME))
        if grant == ht.TOKEN_EXCHANGE_GRANT:
            if form.get("subject_token_type") != ht.ACCESS_TOKEN_TYPE:
                return self.error(400, "invalid_request")
            if not self.valid(form.get("subject_token", "")):
                return self.error(400, "invalid_grant")
            token = self.issue(form["audience"], self.exchanged_lifetime)
            return Response(json.dumps({
                "access_token": token, "token_type": "Bearer",
                "issued_token_type": ht.ACCESS_TOKEN_TYPE,
                "expires_in": self.exchanged_lifetime}), content_type="application/json")
        return self.error(400, "invalid_grant")

    def tokens(self, access: str) -> Response:
        refresh = f"refresh-{self.counter}"
        self.refresh_tokens.add(refresh)
        body = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_LIFETIME,
                "refresh_token": refresh, "scope": "openid profile email offline_access"}
        return Response(json.dumps(body), content_type="application/json")

    def error(self, status: int, code: str) -> Response:
        return Response(json.dumps({"error": code}), status=status,
                        content_type="application/json")

    def userinfo(self, request):
        self.userinfo_calls += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not self.valid(token):
            return self.error(401, "invalid_token")
        return Response(json.dumps({"sub": "a1b2", "preferred_username": "alice"}),
                        content_type="application/json")


def hub_config(idp: FakeIdP, clock: Clock, **auth) -> tuple[Config, ht.TokenExchanger]:
    """The hub config as the rendered values produce it, then ``configure()``."""
    c = Config()
    c.JupyterHub.authenticator_class = "generic-oauth"
    g = c.GenericOAuthenticator
    g.client_id = CLIENT_ID
    g.client_secret = CLIENT_SECRET
    g.authorize_url = idp.url + "authorize"
    g.token_url = idp.url + "token"
    g.userdata_url = idp.url + "userinfo"
    g.oauth_callback_url = "https://hub.example.org/hub/oauth_callback"
    g.scope = ["openid", "profile", "email", "offline_access"]
    g.username_claim = "preferred_username"
    g.allow_all = True
    for key, value in auth.items():
        g[key] = value
    return c, ht.configure(c, SETTINGS, clock=clock)


class Handler:
    """What ``authenticate`` reads from the OAuth callback request."""

    def get_argument(self, name, default=None):
        return {"code": "the-code"}.get(name, default)

    def get_state_cookie(self):
        return _serialize_state({"state_id": "s", "code_verifier": "v" * 43})


class User:
    def __init__(self, name: str, auth_state: dict) -> None:
        self.name = name
        self.auth_state = auth_state

    async def get_auth_state(self) -> dict:
        return json.loads(json.dumps(self.auth_state))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def idp(httpserver, clock):
    return FakeIdP(httpserver, clock)


async def login(authenticator) -> dict:
    model = await authenticator.get_authenticated_user(Handler(), None)
    assert model and model["name"] == "alice"
    return model


def check_exchanges(posts, subject: str, basic: bool = False) -> None:
    assert {form["audience"] for form, _ in posts} == {"rucio", "eos-eulake"}
    for form, headers in posts:
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
        assert form["subject_token"] == subject
        assert form["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
        assert form["scope"] == "openid profile"
        if basic:
            assert "client_secret" not in form
            assert headers["Authorization"].startswith("Basic ")
        else:
            assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
            assert "Authorization" not in headers


@pytest.mark.parametrize("basic", [False, True])
def test_login_exchanges_per_audience_and_stores_auth_state(idp, clock, basic):
    c, _ = hub_config(idp, clock, basic_auth=basic)
    authenticator = GenericOAuthenticator(config=c)
    state = asyncio.run(login(authenticator))["auth_state"]

    assert idp.grants() == ["authorization_code", "token-exchange", "token-exchange"]
    access = state["access_token"]
    check_exchanges(idp.posts[1:], access, basic)
    assert state["access_token_expires_at"] == clock() + ACCESS_LIFETIME
    assert state["refresh_token"] == "refresh-1"
    assert set(state["exchanged_tokens"]) == {"rucio", "eos"}
    for service, audience in SETTINGS["audiences"].items():
        entry = state["exchanged_tokens"][service]
        assert entry["audience"] == audience
        assert idp.issued[entry["access_token"]]["aud"] == audience
        assert entry["expires_at"] == clock() + ACCESS_LIFETIME
    assert state["exchange_errors"] == {}


def test_failed_exchange_is_recorded_not_fatal(idp, clock):
    c, _ = hub_config(idp, clock)
    authenticator = GenericOAuthenticator(config=c)

    async def flow():
        await login(authenticator)
        idp.issued.clear()  # IdP forgets the subject token: exchanges fail
        return await ht.TokenExchanger(ht.TokenSettings.from_dict(SETTINGS), clock).exchange_all(
            authenticator, "unknown")

    tokens, errors = asyncio.run(flow())
    assert tokens == {}
    assert set(errors) == {"rucio", "eos"} and "400" in errors["rucio"]


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: jhub}}]
current-context: x
"""


def test_configure_is_accepted_without_warnings(idp, clock, caplog, tmp_path, monkeypatch):
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    # KubeSpawner loads a kubeconfig in __init__ even with _mock; it reads the module default.
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "kubeconfig"))
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c, exchanger = hub_config(idp, clock)
        authenticator = GenericOAuthenticator(config=c)

        async def make_spawner() -> KubeSpawner:  # its API client needs a running loop
            return KubeSpawner(config=c, _mock=True)

        spawner = asyncio.run(make_spawner())
    text = caplog.text + "\n".join(str(w.message) for w in caught)
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    for bad in ("not recognized", "deprecated", "Deprecated"):
        assert bad not in text
    assert authenticator.enable_auth_state is True
    assert authenticator.refresh_pre_spawn is True
    assert authenticator.auth_refresh_age == 300
    assert callable(authenticator.refresh_user_hook)
    assert callable(authenticator.modify_auth_state_hook)
    assert spawner.server_token_scopes == [
        "users:activity!user", "access:servers!server",
        "read:users:name!user", "admin:auth_state!user"]
    scopes._check_scopes_exist(spawner.server_token_scopes)
    assert c.JupyterHub.load_roles == [{"name": "user", "scopes": ["self",
                                                                   "admin:auth_state!user"]}]


def test_scope_defaults_track_jupyterhub():
    default = {r["name"]: r["scopes"] for r in roles.get_default_roles()}
    assert tuple(default["server"]) == ht.DEFAULT_SERVER_SCOPES
    assert default["user"] == ["self"]
    scopes._check_scopes_exist(ht.USER_ROLE_SCOPES)


def test_configure_merges_existing_roles_scopes_and_hooks(clock):
    c = Config()
    seen = []
    c.GenericOAuthenticator.modify_auth_state_hook = lambda _authenticator, s: seen.append(1) or s
    c.KubeSpawner.server_token_scopes = ["users:activity!user", "read:users:name!user"]
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", "shares!user"]},
                               {"name": "ops", "scopes": ["read:users"], "users": ["bob"]}]
    ht.configure(c, SETTINGS, clock=clock)
    assert c.KubeSpawner.server_token_scopes == [
        "users:activity!user", "read:users:name!user", "admin:auth_state!user"]
    assert c.JupyterHub.load_roles[0]["scopes"] == ["self", "shares!user",
                                                    "admin:auth_state!user"]
    assert c.JupyterHub.load_roles[1]["name"] == "ops"
    ht.configure(c, SETTINGS, clock=clock)  # idempotent: our hook is replaced, not chained
    asyncio.run(c.GenericOAuthenticator.modify_auth_state_hook(None, {}))
    assert seen == [1]
    assert c.KubeSpawner.server_token_scopes.count("admin:auth_state!user") == 1
    assert c.JupyterHub.load_roles[0]["scopes"].count("admin:auth_state!user") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"audience": {}}, "unknown token settings key"),
        ({"audiences": {"Rucio/x": "rucio"}}, "service name"),
        ({"audiences": {"rucio": ""}}, "non-empty"),
        ({"refresh_margin_seconds": 300}, "must exceed"),
        ({"auth_refresh_age": 0}, "positive integer"),
    ],
)
def test_settings_errors(change, message):
    with pytest.raises(ValueError, match=message):
        ht.TokenSettings.from_dict({**SETTINGS, **change})


@pytest.mark.usefixtures("idp", "clock")
def test_extra_config_exec_path():
    """The file also works pasted into hub.extraConfig (executed in the config namespace)."""
    c = Config()
    namespace = {"c": c, "__file__": "/usr/local/etc/jupyterhub/jupyterhub_config.py"}
    exec(payload_text("hub_tokens.py") + f"\nconfigure(c, {SETTINGS!r})\n", namespace)
    assert callable(c.GenericOAuthenticator.refresh_user_hook)


def test_refresh_hook_decisions(httpserver, clock):
    idp = FakeIdP(httpserver, clock, exchanged_lifetime=1200)
    c, _ = hub_config(idp, clock)
    authenticator = GenericOAuthenticator(config=c)

    async def flow():
        user = User("alice", (await login(authenticator))["auth_state"])
        first = dict(user.auth_state)
        idp.posts.clear()
        clock.now += 300  # everything outlives the margin: no IdP traffic
        assert await authenticator.refresh_user(user) is True
        assert idp.posts == [] and idp.userinfo_calls == 1

        clock.now += 400  # exchanged tokens within margin, access token not: re-exchange only
        model = await authenticator.refresh_user(user)
        assert idp.grants() == ["token-exchange", "token-exchange"]
        check_exchanges(idp.posts, first["access_token"])
        assert model["auth_state"]["access_token"] == first["access_token"]
        assert model["auth_state"]["access_token_expires_at"] == first["access_token_expires_at"]
        user.auth_state = model["auth_state"]

        idp.posts.clear()
        clock.now = first["access_token_expires_at"] - 500  # access token within margin
        model = await authenticator.refresh_user(user)
        assert idp.grants() == ["refresh_token", "token-exchange", "token-exchange"]
        assert idp.posts[0][0]["refresh_token"] == first["refresh_token"]
        new = model["auth_state"]
        assert new["access_token"] != first["access_token"]
        check_exchanges(idp.posts[1:], new["access_token"])
        user.auth_state = new

        idp.refresh_tokens.clear()  # refresh token revoked
        clock.now = new["access_token_expires_at"] - 500
        assert await authenticator.refresh_user(user) is True  # still valid: keep, retry later
        clock.now = new["access_token_expires_at"] + 1
        assert await authenticator.refresh_user(user) is False  # expired: login required

    asyncio.run(flow())


class NoProxy(Proxy):
    """No configurable-http-proxy: routes are irrelevant to the hub API under test."""

    should_start = False

    async def add_route(self, routespec, target, data):
        pass

    async def delete_route(self, routespec):
        pass

    async def get_all_routes(self):
        return {}


class Alive(web.RequestHandler):
    def get(self, *_):
        self.set_header("X-JupyterHub-Version", jupyterhub.__version__)
        self.write("ok")


class FakeServerSpawner(Spawner):
    """Starts a stub single-user server in-process; counts starts to prove no respawn."""

    starts = 0

    async def start(self):
        FakeServerSpawner.starts += 1
        sockets = bind_sockets(0, "127.0.0.1")
        self._stub = HTTPServer(web.Application([(r"/.*", Alive)]))
        self._stub.add_sockets(sockets)
        return ("127.0.0.1", sockets[0].getsockname()[1])

    async def poll(self):
        return None

    async def stop(self):
        self._stub.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def renewer_config(directory: Path) -> tr.Config:
    return tr.Config.from_dict({"files": [
        {"path": str(directory / "oauth.token"), "source": "access_token"},
        {"path": str(directory / "rucio_oauth.token"),
         "source": "exchanged_tokens/rucio/access_token"},
        {"path": str(directory / "eos_oauth.token"), "source": "exchanged_tokens/eos/access_token",
         "format": "eos", "userinfo_endpoint": "https://iam-escape.cloud.cnaf.infn.it/userinfo"},
    ]})


def expected_files(state: dict) -> dict[str, bytes]:
    ex = state["exchanged_tokens"]
    return {
        "oauth.token": state["access_token"].encode(),
        "rucio_oauth.token": ex["rucio"]["access_token"].encode(),
        "eos_oauth.token": (f"oauth2:{ex['eos']['access_token']}:"
                            "iam-escape.cloud.cnaf.infn.it/userinfo").encode(),
    }


@pytest.mark.slow  # a real JupyterHub app through token expiry
def test_files_follow_refresh_past_expiry_without_respawn(idp, clock, tmp_path, monkeypatch):
    """Real JupyterHub 5 app: server token scopes, users API, refresh_auth, our hooks, renewer."""
    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", os.urandom(32).hex())
    c, _ = hub_config(idp, clock)
    # auth_refresh_age 1 s so the test does not wait 300 s of real (monotonic) time.
    ht.configure(c, {**SETTINGS, "auth_refresh_age": 1, "spawner_class": "FakeServerSpawner"},
                 clock=clock)
    c.JupyterHub.proxy_class = NoProxy
    c.JupyterHub.spawner_class = FakeServerSpawner
    c.JupyterHub.db_url = "sqlite://"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = free_port()
    c.JupyterHub.cookie_secret = os.urandom(32)
    files = tmp_path / "tokens"

    def current() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in files.iterdir()} if files.exists() else {}

    async def wait_for(expected: dict[str, bytes]) -> None:
        deadline = time.monotonic() + 8
        while current() != expected:
            assert time.monotonic() < deadline, current()
            await asyncio.sleep(0.05)

    async def flow():
        app = JupyterHub(config=c)
        await app.initialize([])
        await app.start()
        stop = threading.Event()
        renewer = user = None
        try:
            assert isinstance(app.authenticator, GenericOAuthenticator)
            model = await app.authenticator.get_authenticated_user(Handler(), None)
            orm_user = orm.User(name=model["name"])
            app.db.add(orm_user)
            app.db.commit()
            roles.assign_default_roles(app.db, entity=orm_user)
            user = app.users[orm_user]
            await user.save_auth_state(model["auth_state"])
            await user.spawn()
            first = await user.get_auth_state()

            # A token without admin:auth_state!user gets a model without auth state.
            weak = user.new_api_token(scopes=["read:users:name!user"])
            weak_client = tr.HubClient(app.hub.api_url, "alice", weak)
            with pytest.raises(tr.RenewerError, match="admin:auth_state"):
                await asyncio.get_running_loop().run_in_executor(None, weak_client.auth_state)

            client = tr.HubClient.from_env(user.spawner.get_env())  # the server's own token
            renewer = threading.Thread(target=tr.run,
                                       args=(renewer_config(files), client, stop, 0.05))
            renewer.start()
            await wait_for(expected_files(first))
            inodes = {p.name: p.stat().st_ino for p in files.iterdir()}
            idp.posts.clear()

            clock.now = first["access_token_expires_at"] + 60  # IdP clock past expiry
            assert not idp.valid(first["access_token"])
            deadline = time.monotonic() + 8
            while (await user.get_auth_state())["access_token"] == first["access_token"]:
                assert time.monotonic() < deadline, idp.grants()
                await asyncio.sleep(0.05)
            new = await user.get_auth_state()
            await wait_for(expected_files(new))

            assert idp.grants() == ["refresh_token", "token-exchange", "token-exchange"]
            assert idp.posts[0][0]["refresh_token"] == first["refresh_token"]
            assert idp.valid(new["access_token"])
            check_exchanges(idp.posts[1:], new["access_token"])
            for path in files.iterdir():
                assert path.stat().st_mode & 0o777 == 0o600
                assert path.stat().st_ino != inodes[path.name]  # replaced, not rewritten
            assert FakeServerSpawner.starts == 1 and user.running  # no respawn
        finally:
            stop.set()
            if renewer is not None:
                await asyncio.get_running_loop().run_in_executor(None, renewer.join, 5)
            if user is not None and user.running:
                await user.stop()
            app.http_server.stop()
            for callback in app._periodic_callbacks.values():
                callback.stop()
            JupyterHub.clear_instance()
            CryptKeeper.clear_instance()
        assert not renewer.is_alive()

    FakeServerSpawner.starts = 0
    asyncio.run(flow())
