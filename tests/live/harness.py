"""The live tier's harness: render the shipped sites, then run the real programs as the pod would.

A live test takes its objects from a fresh ``dlaas-gen render`` of a copy of ``sites/`` (never a
hand-written copy of a rendered object) and runs a container of a rendered pod with:

- the container's command and args, ``$(VAR)`` expanded as the kubelet does;
- its env (``value``, ``valueFrom`` configMapKeyRef/secretKeyRef/fieldRef, ``envFrom``);
- every volume set up as the kubelet sets it up (:class:`PodRun`): configMap and secret volumes in
  the kubelet's AtomicWriter layout (``..<timestamp>/`` + ``..data`` symlink + one symlink per
  top-level key), ``items`` paths and modes, ``defaultMode``, fsGroup ownership; ``subPath``
  mounts bound to the resolved file; emptyDir empty and writable; hostPath folders existing and
  empty (owned by root unless the test says otherwise); claims empty;
- the mounts at their exact container paths, in a private mount namespace whose root is a tmpfs
  (bubblewrap), with the host's system folders (``/usr``, ``/etc`` entries, the Python of this
  venv) bound read-only as the stand-in for the image;
- the securityContext's uid, gid and groups (container over pod), ``allowPrivilegeEscalation``
  and ``readOnlyRootFilesystem``, and ``workingDir``;
- a private network namespace per pod (:class:`NetNS`), so servers bind their real ports.

Everything a re-rooted path or a moved port aside is as rendered. What is not modelled: the image's
own files (an :class:`Image` gives the env, users and the few files a test needs), resource
limits, capabilities of root containers, service-link env variables, probes.

Why bubblewrap + nsenter: ``bwrap`` builds the container's root on a tmpfs, so mount points such
as ``/etc/jupyter/...`` are created without touching host paths; each container is one sandbox
(pid 1 = bwrap's init), and every process of the container (main process, ``kubectl exec``-like
hooks) enters the sandbox's mount, pid, ipc, uts and network namespaces with ``nsenter``, so they
share ``/tmp`` and die together when the container is stopped, like processes of one container.
"""

from __future__ import annotations

import contextlib
import ctypes
import grp
import itertools
import json
import os
import pwd
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from dlaas_gen.manifest import Manifest
from tests.realtools import spawn_pod, z2jh_chart  # shared with the real-tool tests

REPO = Path(__file__).resolve().parents[2]

#: The one command that installs the Debian programs the tier runs (CI: ``.ci/run``).
APT_INSTALL = "apt-get install -y xrootd-server xrootd-client bubblewrap busybox"
#: Programs the harness itself needs, with the Debian package that ships each.
HARNESS_PROGRAMS = {"bwrap": "bubblewrap", "setpriv": "util-linux", "nsenter": "util-linux",
                    "ip": "iproute2", "env": "coreutils"}

VENV_BIN = Path(sys.executable).parent
DLAAS_GEN = VENV_BIN / "dlaas-gen"

#: Where the kubelet mounts the ServiceAccount token (``PodRun(service_account=...)``).
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
#: Host folders exposed read-only in every sandbox as the stand-in for the image's system files.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
#: Host folders never exposed: their content would be taken for the image's (config search paths).
HIDDEN_PATHS = frozenset({
    "/etc/jupyter", "/usr/local/etc/jupyter", "/usr/etc/jupyter",
    "/etc/ipython", "/usr/local/etc/ipython", "/usr/etc/ipython",
    "/usr/local/share/jupyter", "/usr/share/jupyter",
})

_counter = itertools.count()


# -- requirements --------------------------------------------------------------------------------


def require_root() -> None:
    """Fail (never skip) unless running as root, as CI does."""
    if os.geteuid() != 0:
        pytest.fail("the live tier (tests/live) needs root: it takes the pod's uid and makes "
                    "private mount and network namespaces; run it as root, as CI does (.ci/run)",
                    pytrace=False)


def require_program(name: str, package: str | None = None) -> str:
    """The absolute path of `name`; a missing program fails the test with the install command."""
    found = shutil.which(name)
    if found is None:
        what = f" (Debian package {package})" if package else ""
        pytest.fail(f"{name} is not installed{what}; install the live tier's programs with "
                    f"`{APT_INSTALL}` as root (.ci/run does this in CI)", pytrace=False)
    return found


def require_harness() -> None:
    """Root and every program the harness itself runs."""
    require_root()
    for name, package in HARNESS_PROGRAMS.items():
        require_program(name, package)


# -- render --------------------------------------------------------------------------------------


class Rendered:
    """One site rendered by the real CLI into a temporary folder.

    Attributes:
        site: the site name.
        folder: ``<out>/<site>``, the rendered tree.
        site_file: the (copied, possibly edited) site file it was rendered from.
        objects: every rendered object as plain data (:meth:`path_of` gives its file).
    """

    def __init__(self, site: str, folder: Path, site_file: Path) -> None:
        self.site = site
        self.folder = folder
        self.site_file = site_file
        self.objects: list[dict[str, Any]] = []
        self._paths: list[str] = []
        self._texts: list[str] = []
        for path in sorted(folder.rglob("*.yaml")):
            text = path.read_text("utf-8")
            for doc in yaml.safe_load_all(text):
                if isinstance(doc, dict):
                    self.objects.append(doc)
                    self._paths.append(path.relative_to(folder).as_posix())
                    self._texts.append(text)

    def __repr__(self) -> str:
        return f"Rendered({self.site!r}, {len(self.objects)} objects)"

    def find(self, kind: str | None = None, name: str | None = None,
             namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects matching every given field."""
        out = []
        for doc in self.objects:
            meta = doc.get("metadata") or {}
            if kind is not None and doc.get("kind") != kind:
                continue
            if name is not None and meta.get("name") != name:
                continue
            if namespace is not None and meta.get("namespace") != namespace:
                continue
            out.append(doc)
        return out

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The one object of `kind` named `name` (in `namespace` when given); fails otherwise."""
        found = self.find(kind, name, namespace)
        where = f" in namespace {namespace}" if namespace else ""
        assert len(found) == 1, (f"{self.site}: expected one {kind} {name}{where}, found "
                                 f"{len(found)}: {[self.path_of(d) for d in found]}")
        return found[0]

    def path_of(self, doc: dict[str, Any]) -> str:
        """The rendered file (relative to the site folder) that holds `doc`."""
        for i, candidate in enumerate(self.objects):
            if candidate is doc:
                return self._paths[i]
        raise KeyError("not an object of this render")

    @cached_property
    def site_yaml(self) -> dict[str, Any]:
        """The site file as plain data (what the operator wrote)."""
        return yaml.safe_load(self.site_file.read_text("utf-8"))

    @cached_property
    def manifests(self) -> list[Manifest]:
        """The objects as :class:`dlaas_gen.manifest.Manifest` (for the chart-values merge)."""
        return [Manifest(doc=doc, text=self._texts[i], path=self._paths[i])
                for i, doc in enumerate(self.objects)]

    @cached_property
    def values(self) -> dict[str, Any]:
        """The HelmRelease values as the chart sees them (valuesFrom merged over the defaults)."""
        return z2jh_chart.merged_values(self.manifests)

    @property
    def release(self) -> dict[str, Any]:
        """The site's HelmRelease."""
        return z2jh_chart.the_release(self.manifests).doc

    def configmap_data(self, name: str, namespace: str | None = None) -> dict[str, str]:
        """``data`` of a rendered ConfigMap."""
        return dict(self.get("ConfigMap", name, namespace).get("data") or {})


Edit = Callable[[Path], None] | Mapping[str, "str | Callable[[str], str]"]


def _apply_edit(sites_dir: Path, edit: Edit | None) -> None:
    if edit is None:
        return
    if callable(edit):
        edit(sites_dir)
        return
    for rel, change in edit.items():
        path = sites_dir / rel
        if callable(change):
            before = path.read_text("utf-8")
            after = change(before)
            assert after != before, f"the edit of {rel} changed nothing"
            path.write_text(after, "utf-8")
        else:
            path.write_text(change, "utf-8")


def render_fresh(tmp_path: Path, sites: str | Sequence[str] | None = None,
                 edit: Edit | None = None) -> Rendered | dict[str, Rendered]:
    """Copy ``sites/`` into `tmp_path`, apply `edit`, render with the real CLI.

    Args:
        tmp_path: a folder of the test's own; ``sites/`` and ``rendered/`` are made in it.
        sites: one site name (returns its :class:`Rendered`), several, or ``None`` for all
            (returns ``{name: Rendered}``).
        edit: ``callable(sites_dir)``, or ``{file name: new text | callable(old text) -> text}``;
            a callable that changes nothing fails, so a stale edit cannot pass unnoticed.
    """
    sites_dir = tmp_path / "sites"
    out = tmp_path / "rendered"
    shutil.copytree(REPO / "sites", sites_dir)
    _apply_edit(sites_dir, edit)
    names = [sites] if isinstance(sites, str) else list(sites or [])
    run = subprocess.run([str(DLAAS_GEN), "render", "--sites-dir", str(sites_dir),
                          "--out", str(out), *names],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, (
        f"dlaas-gen render failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    rendered = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        site_file = sites_dir / f"{folder.name}.yaml"
        rendered[folder.name] = Rendered(folder.name, folder, site_file)
    if isinstance(sites, str):
        return rendered[sites]
    return rendered


def user_pod(rendered: Rendered, profile_slug: str | None = None) -> dict[str, Any]:
    """The single-user pod the real KubeSpawner makes from the rendered chart values.

    `profile_slug` ``None`` is "no choice" (KubeSpawner's default profile).
    """
    release = rendered.release
    workdir = Path(_mkdtemp("spawn"))
    namespace = release["metadata"]["namespace"]
    try:
        pod = spawn_pod.user_pod(
            rendered.values,
            release=release["spec"]["releaseName"],
            namespace=namespace,
            workdir=workdir,
            slug=profile_slug,
        )
        # KubeSpawner creates the pod in its namespace (create_namespaced_pod), not via metadata.
        pod["metadata"].setdefault("namespace", namespace)
        return pod
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _mkdtemp(tag: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=f"dlaas-live-{tag}-")


def profile_slugs(rendered: Rendered) -> list[str | None]:
    """``None`` (no choice) and every profile slug of the rendered profile list."""
    return [None, *(p["slug"] for p in rendered.values["singleuser"].get("profileList") or [])]


# -- network namespace ---------------------------------------------------------------------------

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NetNS:
    """A private network namespace with only ``lo`` (up); servers bind their real ports in it.

    Use as a context manager. :meth:`run` / :meth:`popen` run a host command inside it;
    :meth:`call` runs a Python callable in a thread that joined it (sockets it opens live there).
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"dlaas-live-{os.getpid()}-{next(_counter)}"
        self.path = Path("/run/netns") / self.name
        self._up = False

    def __enter__(self) -> NetNS:
        require_root()
        require_program("ip", "iproute2")
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        self._up = True
        subprocess.run(
            ["ip", "-n", self.name, "link", "set", "lo", "up"], check=True, capture_output=True
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the namespace (processes still in it keep it alive until they end)."""
        if self._up:
            subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)
            self._up = False

    def prefix(self) -> list[str]:
        """argv prefix that runs a command in this namespace."""
        return ["nsenter", f"--net={self.path}", "--"]

    def run(
        self, argv: Sequence[str], *, timeout: float = 60, **kwargs: Any
    ) -> subprocess.CompletedProcess:
        """Run `argv` (host filesystem, this network) and return its CompletedProcess (text)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run([*self.prefix(), *argv], timeout=timeout, check=False, **kwargs)

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        """Start `argv` in this namespace (host filesystem)."""
        return subprocess.Popen([*self.prefix(), *argv], **kwargs)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a thread that joined this namespace; its result or error."""
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                with Path(self.path).open("rb") as ns:
                    if _libc.setns(ns.fileno(), _CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns(CLONE_NEWNET) failed")
                box["result"] = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the caller
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"netns-{self.name}")
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def wait_port(
        self, port: int, host: str = "127.0.0.1", timeout: float = 30, proc: Process | None = None
    ) -> None:
        """Wait until something accepts TCP connections on ``host:port`` in this namespace."""
        import socket

        def probe() -> bool:
            with socket.socket() as s:
                s.settimeout(0.5)
                return s.connect_ex((host, port)) == 0

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.call(probe):
                return
            if proc is not None and proc.poll() is not None:
                raise AssertionError(
                    f"process exited ({proc.returncode}) before listening on "
                    f"{port}:\n{proc.output()}"
                )
            time.sleep(0.1)
        extra = f"\n{proc.output()}" if proc is not None else ""
        raise AssertionError(f"nothing listens on {host}:{port} after {timeout}s{extra}")


# -- the image stand-in --------------------------------------------------------------------------


@dataclass
class Image:
    """What the harness knows of a container image (its files are the host's system folders).

    Attributes:
        env: the image's ENV (the container's env overrides it).
        workdir: the image's WORKDIR.
        user: the image's USER (uid) when the securityContext sets none.
        users: ``/etc/passwd`` entries ``(name, uid, gid, home)`` the image has.
        groups: ``/etc/group`` entries ``(name, gid, members)``.
        dirs: folders the image has, ``path -> (uid, gid, mode)``.
        files: files the image ships, ``path -> text`` (read-only, mode 0644, owner root).
        entrypoint / cmd: used when the container sets no command / args.
    """

    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: int = 0
    users: list[tuple[str, int, int, str]] = field(default_factory=list)
    groups: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)
    dirs: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    #: A folder holding the image's own file tree (e.g. a busybox root), each top-level entry
    #: bound read-only at ``/<name>`` instead of the host's system folders and this Python.
    rootfs: Path | None = None


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def plain_image(**kwargs: Any) -> Image:
    """An image with the runtime's default PATH and this venv's Python first on it."""
    env = {"PATH": f"{VENV_BIN}:{DEFAULT_PATH}"}
    env.update(kwargs.pop("env", {}))
    return Image(env=env, **kwargs)


def docker_stacks_image(**kwargs: Any) -> Image:
    """The docker-stacks notebook image as far as a test needs it.

    Why: docker-stacks' ``docker-stacks-foundation`` Dockerfile creates ``jovyan`` (uid 1000, gid
    100 ``users``), sets ``HOME=/home/jovyan``, ``NB_USER``/``NB_UID``/``NB_GID``, ``SHELL`` and
    puts its conda Python first on PATH (here: this venv's Python, which carries jupyter_server
    and rucio-jupyterlab as the image does); ``USER`` and ``WORKDIR`` are jovyan's.
    """
    env = {
        "PATH": f"{VENV_BIN}:{DEFAULT_PATH}",
        "HOME": "/home/jovyan",
        "NB_USER": "jovyan",
        "NB_UID": "1000",
        "NB_GID": "100",
        "SHELL": "/bin/bash",
    }
    env.update(kwargs.pop("env", {}))
    defaults: dict[str, Any] = {
        "workdir": "/home/jovyan",
        "user": 1000,
        "users": [("jovyan", 1000, 100, "/home/jovyan")],
        "groups": [("users", 100, ("jovyan",))],
        "dirs": {"/home/jovyan": (1000, 100, 0o755)},
    }
    defaults.update(kwargs)
    return Image(env=env, **defaults)


# -- kubelet pieces ------------------------------------------------------------------------------

_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: defined names replaced, ``$$`` escapes, others kept."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _VAR_REF.sub(repl, text)


@dataclass
class HostDir:
    """A hostPath folder the test prepares: owner and mode (content may be added afterwards)."""

    uid: int = 0
    gid: int = 0
    mode: int = 0o755


def _timestamp_dir(target: Path) -> Path:
    """AtomicWriter's ``..<UTC timestamp>.<random>`` folder, mode 0755."""
    import tempfile

    prefix = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    ts = Path(tempfile.mkdtemp(prefix=prefix, dir=target))
    ts.chmod(0o755)
    return ts


def _apply_fs_group(root: Path, gid: int | None, read_only: bool) -> None:
    """kubelet ``SetVolumeOwnership``: group `gid`, files +r(w) for group, folders setgid."""
    if gid is None:
        return
    mask = 0o440 if read_only else 0o660
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            os.lchown(path, -1, gid)
            continue
        os.chown(path, -1, gid)
        mode = path.stat().st_mode & 0o7777 | mask
        if path.is_dir():
            mode |= 0o2000 | 0o110
        path.chmod(mode)


@dataclass
class _Volume:
    name: str
    kind: str
    path: Path
    source: dict[str, Any]
    read_only: bool = False  # always-read-only volume types (configMap, secret)


class Process:
    """A started container process (the program itself, not the ``nsenter`` that entered it)."""

    def __init__(self, popen: subprocess.Popen, log_path: Path, argv: Sequence[str]) -> None:
        self.popen = popen
        self.log_path = log_path
        self.argv = list(argv)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout=timeout)

    def program_pid(self) -> int | None:
        """Host pid of the program (nsenter's one child), ``None`` once it ended."""
        try:
            children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children").read_text()
        except OSError:
            return None
        pids = [int(p) for p in children.split()]
        return pids[0] if pids else None

    def send_signal(self, sig: int) -> None:
        """Signal the program (as the kubelet would on stop: SIGTERM, then SIGKILL)."""
        pid = self.program_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def terminate(self, timeout: float = 10) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; the exit status."""
        if self.poll() is None:
            self.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.send_signal(signal.SIGKILL)
                self.popen.kill()
                self.popen.wait(timeout=10)
        return self.popen.returncode

    kill = terminate

    def output(self) -> str:
        """Everything the program wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""


@dataclass
class _Sandbox:
    outer: subprocess.Popen
    init_pid: int


def _read_info(read_fd: int, outer: subprocess.Popen) -> bytes:
    """What bwrap writes to ``--info-fd`` (a JSON object), read within 20 s; closes `read_fd`."""
    info = b""
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.2)
            if ready:
                chunk = os.read(read_fd, 4096)
                if not chunk:
                    break
                info += chunk
                with contextlib.suppress(ValueError):
                    json.loads(info)
                    break
            elif outer.poll() is not None:
                break
    finally:
        os.close(read_fd)
    return info


def _sleeping_child(pid: int) -> bool:
    """True once the sandbox's init process has a child that runs ``sleep``."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return any(Path(f"/proc/{k}/comm").read_text().strip() == "sleep" for k in kids)
    except OSError:
        return False


def _python_roots() -> set[Path]:
    """The folders this Python runs from (the venv and the interpreter it links to)."""
    return {
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(os.path.realpath(sys.executable)).parents[1],
    }


class _BwrapArgs:
    """The bwrap arguments of one container, in order: what each path in the container is.

    ``made`` holds the paths that exist in the sandbox so far; the folders above a path are made
    (mode 0755) before anything is put there. ``hidden`` host paths are never shown; ``dests``
    (volume mounts) and ``image_paths`` (what the image stand-in provides) are not taken from
    the host.
    """

    def __init__(self, hostname: str, hidden: set[str], dests: set[PurePosixPath],
                 image_paths: set[PurePosixPath]) -> None:
        self.hidden, self.dests, self.image_paths = hidden, dests, image_paths
        self.claimed = dests | image_paths | {PurePosixPath(h) for h in hidden
                                              if os.path.lexists(h)}
        self.args = [
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--hostname",
            hostname,
            "--die-with-parent",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--ro-bind",
            "/sys",
            "/sys",
        ]
        self.made: set[PurePosixPath] = {
            PurePosixPath("/"),
            PurePosixPath("/proc"),
            PurePosixPath("/dev"),
            PurePosixPath("/sys"),
        }

    def mkdirs(self, path: PurePosixPath) -> None:
        for parent in reversed([path, *path.parents]):
            if parent not in self.made:
                self.args.extend(["--perms", "0755", "--dir", str(parent)])
                self.made.add(parent)

    def expose(self, host: Path) -> None:
        """Show a host path read-only, folder by folder where something else goes inside."""
        p = PurePosixPath(host)
        if str(p) in self.hidden or p in self.dests or p in self.image_paths:
            return
        if host.is_symlink():
            self.mkdirs(p.parent)
            self.args.extend(["--symlink", str(Path(host).readlink()), str(p)])
            self.made.add(p)
            return
        if not host.exists():
            return
        inside = any(p in c.parents for c in self.claimed)
        if not inside or not host.is_dir():
            self.mkdirs(p.parent)
            self.args.extend(["--ro-bind", str(host), str(p)])
            self.made.add(p)
            return
        self.mkdirs(p.parent)
        self.args.extend(["--perms", f"{host.stat().st_mode & 0o7777:04o}", "--dir", str(p)])
        self.made.add(p)
        for child in sorted(host.iterdir()):
            self.expose(child)

    def system(self, image: Image) -> None:
        """The image's own root, else the host's system folders and this Python."""
        if image.rootfs is not None:
            for top in sorted(Path(image.rootfs).iterdir()):
                target = PurePosixPath("/", top.name)
                if (target not in self.dests and target not in self.image_paths
                        and target not in self.made):
                    self.args.extend(["--ro-bind", str(top), str(target)])
                    self.made.add(target)
            return
        for system in (*SYSTEM_PATHS, *sorted(map(str, _python_roots()))):
            self.expose(Path(system))

    def python_over_mounts(self, covering: set[PurePosixPath]) -> None:
        """Show this Python again where a later mount (``/tmp``, a volume) hides it.

        Why: a checkout under ``/tmp`` (a CI clone) has its venv there, and the pod's ``/tmp``
        (an emptyDir or the writable scratch folder) is mounted over it; bwrap applies mounts
        in order, so binding the venv again afterwards puts it back at its own path.
        """
        for root in sorted(_python_roots()):
            p = PurePosixPath(root)
            over = [c for c in covering if c == p or c in p.parents]
            if not over:
                continue
            # the folders on the way are made in the covering mount: readable for the pod's uid
            for parent in reversed([q for q in p.parents if any(c in q.parents for c in over)]):
                self.args.extend(["--perms", "0755", "--dir", str(parent)])
            self.args.extend(["--ro-bind", str(root), str(p)])

    def users(self, image: Image, etc: Path) -> None:
        """``/etc/passwd`` and ``/etc/group``: the host's system entries plus the image's."""
        etc.mkdir(parents=True, exist_ok=True)
        users = {u[1] for u in image.users} | {u[0] for u in image.users}
        host_users = [
            e
            for e in pwd.getpwall()
            if e.pw_uid < 1000 and e.pw_uid not in users and e.pw_name not in users
        ]
        lines = [
            f"{e.pw_name}:x:{e.pw_uid}:{e.pw_gid}:{e.pw_gecos}:{e.pw_dir}:{e.pw_shell}"
            for e in host_users
        ]
        lines += [f"{n}:x:{u}:{g}::{h}:/bin/bash" for n, u, g, h in image.users]
        (etc / "passwd").write_text("\n".join(lines) + "\n")
        gids = {g[1] for g in image.groups} | {g[0] for g in image.groups}
        glines = [
            f"{e.gr_name}:x:{e.gr_gid}:{','.join(e.gr_mem)}"
            for e in grp.getgrall()
            if e.gr_gid not in gids and e.gr_name not in gids
        ]
        glines += [f"{n}:x:{g}:{','.join(m)}" for n, g, m in image.groups]
        (etc / "group").write_text("\n".join(glines) + "\n")
        for name in ("passwd", "group"):
            self.mkdirs(PurePosixPath("/etc"))
            self.args.extend(["--ro-bind", str(etc / name), f"/etc/{name}"])

    def image_dirs(self, image: Image, root: Path) -> None:
        """The image's folders (owner and mode as the image has them), writable."""
        for path_text, (uid, gid, mode) in sorted(image.dirs.items()):
            if PurePosixPath(path_text) in self.dests:
                continue
            backing = root / path_text.lstrip("/")
            if not backing.exists():
                backing.mkdir(parents=True)
                os.chown(backing, uid, gid)
                backing.chmod(mode)
            self.mkdirs(PurePosixPath(path_text).parent)
            self.args.extend(["--bind", str(backing), path_text])
            self.made.add(PurePosixPath(path_text))

    def tmp(self, backing: Path) -> None:
        """A writable ``/tmp`` (the root file system is writable and no volume is there)."""
        backing.mkdir(parents=True, exist_ok=True)
        backing.chmod(0o1777)
        self.args.extend(["--bind", str(backing), "/tmp"])
        self.made.add(PurePosixPath("/tmp"))

    def image_files(self, image: Image, root: Path) -> None:
        """The files the image ships (read-only, mode 0644)."""
        for path_text, text in sorted(image.files.items()):
            backing = root / path_text.lstrip("/")
            backing.parent.mkdir(parents=True, exist_ok=True)
            backing.write_text(text)
            backing.chmod(0o644)
            self.mkdirs(PurePosixPath(path_text).parent)
            self.args.extend(["--ro-bind", str(backing), path_text])

    def hosts(self, hosts: Path, pod_ip: str, hostname: str) -> None:
        """The kubelet's ``/etc/hosts``: localhost and the pod's own name."""
        hosts.parent.mkdir(parents=True, exist_ok=True)
        hosts.write_text(
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            f"{pod_ip}\t{hostname}\n"
        )
        hosts.chmod(0o644)
        self.mkdirs(PurePosixPath("/etc"))
        self.args.extend(["--ro-bind", str(hosts), "/etc/hosts"])

    def volumes(self, mounts: list[tuple[str, Path, bool]]) -> None:
        """The volume mounts, parents before children."""
        for dest, source, read_only in sorted(mounts, key=lambda m: PurePosixPath(m[0]).parts):
            self.mkdirs(PurePosixPath(dest).parent)
            self.args.extend(["--ro-bind" if read_only else "--bind", str(source), dest])
            self.made.add(PurePosixPath(dest))


class PodRun:
    """One pod of a render, its volumes set up under `root` as the kubelet sets them up.

    Args:
        pod_spec: a Pod manifest, or a workload (Deployment, DaemonSet, StatefulSet, Job,
            CronJob) whose pod template is used.
        rendered: the render its ConfigMaps come from.
        root: a folder of the test's own (volumes, hostPath folders, logs go there).
        secrets: Secret data by name (``{name: {key: str | bytes}}``); a referenced Secret that
            is missing fails, as the pod would stay in ContainerCreating.
        host_dirs: hostPath folders by host path: a :class:`HostDir` (made under `root`) or an
            existing folder to use as is (to share one between pods). Unlisted ones are made
            empty, owned by root, mode 0755.
        claims: PersistentVolumeClaim folders by claim name (default: empty, owned by root).
        netns: the pod's network namespace; ``None`` makes a private one for this pod.
        image: the image stand-in, one for every container or ``{container: Image}``.
        pod_ip / node_name: what ``fieldRef`` ``status.podIP`` / ``spec.nodeName`` give.
        service_account: the ServiceAccount token files (``token``, ``ca.crt``, ``namespace``);
            given, they are mounted read-only at ``/var/run/secrets/kubernetes.io/serviceaccount``
            in every container, as the kubelet does unless ``automountServiceAccountToken`` is
            false.
        kube_api: ``(host, port)`` of the API server: ``KUBERNETES_SERVICE_HOST``/``_PORT`` in
            every container's env, as the kubelet sets them.
    """

    def __init__(
        self,
        pod_spec: Mapping[str, Any],
        rendered: Rendered | None,
        root: Path,
        *,
        secrets: Mapping[str, Mapping[str, str | bytes]] | None = None,
        host_dirs: Mapping[str, HostDir | Path] | None = None,
        claims: Mapping[str, Path] | None = None,
        netns: NetNS | None = None,
        image: Image | Mapping[str, Image] | None = None,
        pod_ip: str = "127.0.0.1",
        node_name: str = "node-1",
        service_account: Mapping[str, str] | None = None,
        kube_api: tuple[str, int] | None = None,
    ) -> None:
        require_harness()
        self.rendered = rendered
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.meta, self.spec = _pod_template(pod_spec)
        self.name = self.meta.get("name") or "pod"
        self.namespace = self.meta.get("namespace") or "default"
        self.secrets = {k: dict(v) for k, v in (secrets or {}).items()}
        self.host_dirs = dict(host_dirs or {})
        self.claims = dict(claims or {})
        self.pod_ip, self.node_name = pod_ip, node_name
        self._images = image
        self.configmaps: dict[str, dict[str, str]] = {}
        self._own_netns = netns is None
        self.netns = netns if netns is not None else NetNS().__enter__()
        self._sandboxes: dict[tuple[str, bool], _Sandbox] = {}
        self._processes: list[Process] = []
        self.volumes: dict[str, _Volume] = {}
        try:
            for volume in self.spec.get("volumes") or []:
                self.volumes[volume["name"]] = self._setup_volume(volume)
        except BaseException:
            self.close()
            raise
        self.kube_api = kube_api
        self._sa_volume: _Volume | None = None
        if service_account is not None and self.spec.get("automountServiceAccountToken", True):
            path = self.root / "volumes" / "kube-api-access"
            path.mkdir(parents=True)
            path.chmod(0o777)
            self._sa_volume = _Volume("kube-api-access", "projected", path, {}, read_only=True)
            self._atomic_write(
                self._sa_volume, {k: (v.encode(), 0o644) for k, v in service_account.items()}
            )

    # context manager ------------------------------------------------------------------------

    def __enter__(self) -> PodRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every container (all their processes) and drop a private network namespace."""
        for key in list(self._sandboxes):
            self._stop_sandbox(key)
        for proc in self._processes:
            with contextlib.suppress(Exception):
                proc.popen.kill()
                proc.popen.wait(timeout=5)
        if self._own_netns:
            self.netns.close()

    # containers -----------------------------------------------------------------------------

    def container(self, name: str, init: bool = False) -> dict[str, Any]:
        """The container (or init container) spec named `name`."""
        key = "initContainers" if init else "containers"
        found = [c for c in self.spec.get(key) or [] if c["name"] == name]
        assert found, (
            f"{self.name}: no {key[:-1]} {name!r}; "
            f"has {[c['name'] for c in self.spec.get(key) or []]}"
        )
        return found[0]

    def image(self, container: str) -> Image:
        """The image stand-in of `container`."""
        if isinstance(self._images, Mapping):
            return self._images.get(container) or plain_image()
        return self._images or plain_image()

    def env(self, container: str, init: bool = False) -> dict[str, str]:
        """The environment the container's processes get (image env, then the container's)."""
        spec = self.container(container, init)
        image = self.image(container)
        own = self._container_env(spec)
        env = dict(image.env)
        env["HOSTNAME"] = self.name
        if self.kube_api is not None:
            env["KUBERNETES_SERVICE_HOST"] = self.kube_api[0]
            env["KUBERNETES_SERVICE_PORT"] = str(self.kube_api[1])
        env.update(own)
        if "HOME" not in env:
            uid = self.identity(container, init)[0]
            homes = {u[1]: u[3] for u in image.users}
            env["HOME"] = homes.get(uid, "/")
        return env

    def identity(self, container: str, init: bool = False) -> tuple[int, int, list[int]]:
        """``(uid, gid, supplementary groups)`` of the container's processes."""
        spec = self.container(container, init)
        pod_sc = self.spec.get("securityContext") or {}
        sc = spec.get("securityContext") or {}
        image = self.image(container)
        uid = sc.get("runAsUser", pod_sc.get("runAsUser", image.user))
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot", False))
        if non_root and uid == 0:
            raise AssertionError(
                f"{container}: runAsNonRoot but the container would run as "
                "root; the kubelet refuses to start it"
            )
        primary = {u[1]: u[2] for u in image.users}
        gid = sc.get("runAsGroup", pod_sc.get("runAsGroup", primary.get(uid, 0)))
        groups = set(pod_sc.get("supplementalGroups") or [])
        if pod_sc.get("fsGroup") is not None:
            groups.add(pod_sc["fsGroup"])
        names = {u[1]: u[0] for u in image.users}
        for _, group_id, members in image.groups:
            if names.get(uid) in members:
                groups.add(group_id)
        return int(uid), int(gid), sorted(int(g) for g in groups)

    def argv(self, container: str, init: bool = False) -> list[str]:
        """The container's command + args, ``$(VAR)`` expanded with the container's env."""
        spec = self.container(container, init)
        image = self.image(container)
        own = self._container_env(spec)
        if spec.get("command"):
            argv = list(spec["command"]) + list(spec.get("args") or [])
        else:
            argv = list(image.entrypoint) + list(spec.get("args") or image.cmd)
        assert argv, f"{container}: no command, no args and no image entrypoint"
        return [expand(str(a), own) for a in argv]

    def run(
        self,
        container: str,
        argv: Sequence[str] | None = None,
        *,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 120,
        init: bool = False,
        input: str | None = None,
    ) -> subprocess.CompletedProcess:
        """Run the container's process (or `argv` in it) to the end; stdout/stderr as text."""
        proc = self.start(
            container,
            argv,
            extra_env=extra_env,
            init=init,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        )
        if input is not None:
            assert proc.popen.stdin is not None
            proc.popen.stdin.write(input.encode())
            proc.popen.stdin.close()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate(timeout=2)
            raise AssertionError(
                f"{container}: {proc.argv} still running after {timeout}s:\n{proc.output()}"
            ) from None
        text = proc.output()
        return subprocess.CompletedProcess(proc.argv, code, text, text)

    def start(
        self,
        container: str,
        argv: Sequence[str] | None = None,
        *,
        extra_env: Mapping[str, str] | None = None,
        init: bool = False,
        stdin: Any = subprocess.DEVNULL,
    ) -> Process:
        """Start the container's process (or `argv` in it); stdout+stderr go to a log file."""
        return self._enter(
            container,
            init,
            argv if argv is not None else self.argv(container, init),
            extra_env,
            stdin,
        )

    def exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        timeout: float = 60,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Like ``kubectl exec`` or a postStart exec hook: `argv` in the running container
        (same mounts, env, uid, pid namespace); processes it detaches keep running."""
        return self.run(container, argv, extra_env=extra_env, timeout=timeout)

    def run_init_containers(self, timeout: float = 120) -> list[subprocess.CompletedProcess]:
        """Run every init container in order, each to success, as the kubelet does."""
        results = []
        for spec in self.spec.get("initContainers") or []:
            result = self.run(spec["name"], init=True, timeout=timeout)
            assert result.returncode == 0, (
                f"init container {spec['name']} failed ({result.returncode}):\n{result.stdout}"
            )
            results.append(result)
            self._stop_sandbox((spec["name"], True))
        return results

    def stop(self, container: str, init: bool = False) -> None:
        """Stop the container: every process in it ends (SIGKILL via its pid namespace)."""
        self._stop_sandbox((container, init))

    # volumes --------------------------------------------------------------------------------

    def volume_path(self, name: str) -> Path:
        """Where volume `name` lives on the host."""
        return self.volumes[name].path

    def host_path(self, container: str, path: str, init: bool = False) -> Path:
        """The host file behind container path `path` (through the container's mounts)."""
        target = PurePosixPath(path)
        best: tuple[PurePosixPath, Path] | None = None
        for dest, source, _ in self._mounts(self.container(container, init)):
            dest_p = PurePosixPath(dest)
            if target == dest_p or dest_p in target.parents:
                if best is None or len(dest_p.parts) > len(best[0].parts):
                    best = (dest_p, source)
        assert best is not None, f"{path} is on no volume of {container}"
        return best[1].joinpath(*target.parts[len(best[0].parts) :])

    def update_configmap(self, name: str, data: Mapping[str, str]) -> None:
        """The ConfigMap `name` changed (e.g. patched by a job): swap ``..data`` like the kubelet.

        Every configMap volume of it gets a new ``..<timestamp>`` folder, ``..data_tmp`` pointing
        at it renamed over ``..data`` (one atomic rename), new top-level symlinks added, obsolete
        ones and the old folder removed. subPath mounts keep the old file, as in Kubernetes.
        """
        self.configmaps[name] = dict(data)
        for volume in self.volumes.values():
            if volume.kind == "configMap" and volume.source["name"] == name:
                self._atomic_write(volume, self._projection(volume))

    def _setup_volume(self, volume: Mapping[str, Any]) -> _Volume:
        name = volume["name"]
        fs_group = (self.spec.get("securityContext") or {}).get("fsGroup")
        path = self.root / "volumes" / name
        if "configMap" in volume or "secret" in volume:
            kind = "configMap" if "configMap" in volume else "secret"
            v = _Volume(name, kind, path, dict(volume[kind]), read_only=True)
            path.mkdir(parents=True)
            path.chmod(0o777)
            self._atomic_write(v, self._projection(v))
            return v
        if "emptyDir" in volume:
            path.mkdir(parents=True)
            path.chmod(0o777)
            _apply_fs_group(path, fs_group, read_only=False)
            return _Volume(name, "emptyDir", path, dict(volume["emptyDir"] or {}))
        if "hostPath" in volume:
            source = dict(volume["hostPath"])
            host = source["path"]
            given = self.host_dirs.get(host)
            if isinstance(given, Path):
                path = given
            else:
                spec = given or HostDir()
                path = self.root / "host" / host.lstrip("/")
                if not path.exists():
                    path.mkdir(parents=True)
                    os.chown(path, spec.uid, spec.gid)
                    path.chmod(spec.mode)
            kind_ = source.get("type") or ""
            assert kind_ in ("", "Directory", "DirectoryOrCreate") or path.exists(), (
                f"hostPath {host} of type {kind_} does not exist"
            )
            return _Volume(name, "hostPath", path, source)
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            if claim in self.claims:
                path = self.claims[claim]
            else:
                path = self.root / "claims" / claim
                path.mkdir(parents=True, exist_ok=True)
                _apply_fs_group(path, fs_group, read_only=False)
            return _Volume(
                name, "persistentVolumeClaim", path, dict(volume["persistentVolumeClaim"])
            )
        kinds = sorted(k for k in volume if k != "name")
        raise NotImplementedError(f"volume {name}: type {kinds} is not modelled by the harness")

    def _projection(self, volume: _Volume) -> dict[str, tuple[bytes, int]]:
        """``{relative path: (content, mode)}`` the kubelet writes for a configMap/secret volume."""
        source = volume.source
        if volume.kind == "configMap":
            cm_name = source["name"]
            if cm_name not in self.configmaps:
                assert self.rendered is not None, f"ConfigMap {cm_name}: no render given"
                found = self.rendered.find("ConfigMap", cm_name, self.namespace)
                if not found and source.get("optional"):
                    self.configmaps[cm_name] = {}
                else:
                    assert found, (
                        f"ConfigMap {self.namespace}/{cm_name} is not rendered; the "
                        "pod would stay in ContainerCreating"
                    )
                    self.configmaps[cm_name] = dict(found[0].get("data") or {})
            data = {k: str(v).encode() for k, v in self.configmaps[cm_name].items()}
        else:
            secret = source["secretName"]
            if secret not in self.secrets and source.get("optional"):
                self.secrets[secret] = {}
            assert secret in self.secrets, (
                f"Secret {secret} is not given to PodRun(secrets=...);"
                " the pod would stay in ContainerCreating"
            )
            data = {
                k: v if isinstance(v, bytes) else str(v).encode()
                for k, v in self.secrets[secret].items()
            }
        default_mode = source.get("defaultMode", 0o644)
        out: dict[str, tuple[bytes, int]] = {}
        if source.get("items"):
            for item in source["items"]:
                if item["key"] not in data:
                    if source.get("optional"):
                        continue
                    raise AssertionError(
                        f"{volume.kind} {volume.name}: key {item['key']!r} is "
                        "not in the object; the kubelet refuses the volume"
                    )
                out[item["path"]] = (data[item["key"]], item.get("mode", default_mode))
        else:
            out = {key: (value, default_mode) for key, value in data.items()}
        return out

    def _atomic_write(self, volume: _Volume, payload: Mapping[str, tuple[bytes, int]]) -> None:
        """kubelet AtomicWriter.Write: timestamp folder, ``..data`` swap, user-visible links."""
        target = volume.path
        data_link = target / "..data"
        old = str(data_link.readlink()) if data_link.is_symlink() else None
        ts = _timestamp_dir(target)
        for rel, (content, mode) in payload.items():
            file = ts / rel
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(content)
            file.chmod(mode)
        fs_group = (self.spec.get("securityContext") or {}).get("fsGroup")
        _apply_fs_group(target, fs_group, read_only=volume.read_only)
        tmp_link = target / "..data_tmp"
        if tmp_link.is_symlink():
            tmp_link.unlink()
        tmp_link.symlink_to(ts.name)
        tmp_link.rename(data_link)
        visible = {PurePosixPath(rel).parts[0] for rel in payload}
        for top in sorted(visible):
            link = target / top
            if not link.is_symlink():
                link.symlink_to(f"..data/{top}")
        if old is not None:
            shutil.rmtree(target / old)
        for entry in target.iterdir():
            if not entry.name.startswith("..") and entry.name not in visible:
                entry.unlink()

    # sandboxes ------------------------------------------------------------------------------

    def _container_env(self, spec: Mapping[str, Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        for source in spec.get("envFrom") or []:
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                ref = source["configMapRef"]
                data = self._configmap_data(ref["name"], ref.get("optional", False))
            else:
                ref = source["secretRef"]
                data = self._secret_data(ref["name"], ref.get("optional", False))
            env.update({f"{prefix}{k}": v for k, v in data.items()})
        for entry in spec.get("env") or []:
            name = entry["name"]
            if "valueFrom" not in entry:
                env[name] = expand(str(entry.get("value", "")), env)
                continue
            ref = entry["valueFrom"]
            if "configMapKeyRef" in ref:
                r = ref["configMapKeyRef"]
                data = self._configmap_data(r["name"], r.get("optional", False))
            elif "secretKeyRef" in ref:
                r = ref["secretKeyRef"]
                data = self._secret_data(r["name"], r.get("optional", False))
            elif "fieldRef" in ref:
                env[name] = self._field(ref["fieldRef"]["fieldPath"])
                continue
            else:
                raise NotImplementedError(f"env {name}: {sorted(ref)} is not modelled")
            if r["key"] in data:
                env[name] = data[r["key"]]
            else:
                assert r.get("optional"), f"env {name}: key {r['key']} missing in {r['name']}"
        return env

    def _configmap_data(self, name: str, optional: bool) -> dict[str, str]:
        if name in self.configmaps:
            return self.configmaps[name]
        found = self.rendered.find("ConfigMap", name, self.namespace) if self.rendered else []
        assert found or optional, f"ConfigMap {self.namespace}/{name} is not rendered"
        return {k: str(v) for k, v in (found[0].get("data") or {}).items()} if found else {}

    def _secret_data(self, name: str, optional: bool) -> dict[str, str]:
        assert name in self.secrets or optional, (
            f"Secret {name} is not given to PodRun(secrets=...)"
        )
        return {
            k: v.decode() if isinstance(v, bytes) else str(v)
            for k, v in self.secrets.get(name, {}).items()
        }

    def _field(self, path: str) -> str:
        simple = {
            "metadata.name": self.name,
            "metadata.namespace": self.namespace,
            "metadata.uid": "00000000-0000-0000-0000-000000000001",
            "spec.nodeName": self.node_name,
            "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
            "status.podIP": self.pod_ip,
            "status.podIPs": self.pod_ip,
            "status.hostIP": "127.0.0.1",
        }
        if path in simple:
            return simple[path]
        match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
        if match:
            return str((self.meta.get(match.group(1)) or {}).get(match.group(2), ""))
        raise NotImplementedError(f"fieldRef {path} is not modelled")

    def _mounts(self, spec: Mapping[str, Any]) -> list[tuple[str, Path, bool]]:
        """``(container path, host source, read-only)`` for each volumeMount, kubelet-resolved."""
        out = []
        own_env = None
        for mount in spec.get("volumeMounts") or []:
            volume = self.volumes.get(mount["name"])
            assert volume is not None, f"volumeMount {mount['name']} names no volume"
            source = volume.path
            sub = mount.get("subPath")
            if mount.get("subPathExpr"):
                own_env = own_env if own_env is not None else self._container_env(spec)
                sub = expand(mount["subPathExpr"], own_env)
            if sub:
                assert (
                    not PurePosixPath(sub).is_absolute() and ".." not in PurePosixPath(sub).parts
                ), sub
                candidate = source / sub
                if not candidate.exists() and not candidate.is_symlink():
                    if volume.read_only:
                        raise AssertionError(f"subPath {sub} is not in volume {volume.name}")
                    # kubelet makes a missing subPath folder with the volume root's mode/owner.
                    st = source.stat()
                    candidate.mkdir(parents=True)
                    os.chown(candidate, st.st_uid, st.st_gid)
                    candidate.chmod(st.st_mode & 0o7777)
                # the kubelet binds the resolved file, so a later ..data swap does not reach it
                resolved = candidate.resolve()
                assert source.resolve() in (resolved, *resolved.parents), f"subPath {sub} escapes"
                source = resolved
            read_only = bool(mount.get("readOnly")) or volume.read_only
            out.append((mount["mountPath"], source, read_only))
        if self._sa_volume is not None and SA_DIR not in {dest for dest, _, _ in out}:
            out.append((SA_DIR, self._sa_volume.path, True))
        return out

    def _bwrap_args(self, container: str, init: bool) -> list[str]:
        spec = self.container(container, init)
        image = self.image(container)
        sc = spec.get("securityContext") or {}
        mounts = self._mounts(spec)
        dests = {PurePosixPath(d) for d, _, _ in mounts}
        image_paths = {PurePosixPath(p) for p in (*image.dirs, *image.files)}
        writable_tmp = not sc.get("readOnlyRootFilesystem") and PurePosixPath("/tmp") not in dests
        if writable_tmp:
            image_paths.add(PurePosixPath("/tmp"))
        hidden = set(HIDDEN_PATHS)
        if image.users:
            hidden |= {"/etc/passwd", "/etc/group"}
        box = _BwrapArgs(self.name[:63], hidden, dests, image_paths)
        box.system(image)
        # the image: passwd/group, folders and files it has
        work = self.root / "image" / container
        if image.users:
            box.users(image, work)
        box.image_dirs(image, work / "dirs")
        if writable_tmp:
            box.tmp(self.root / "containers" / container / "tmp")
        box.image_files(image, work / "files")
        # the kubelet-managed /etc/hosts (kubelet managedHostsFileContent): localhost and the pod's
        # own hostname -> pod IP; programs that resolve their host name (xrootd) need it. An
        # image stand-in that ships /etc/hosts (other names, as hostAliases would add) keeps it.
        if PurePosixPath("/etc/hosts") not in dests and "/etc/hosts" not in image.files:
            box.hosts(self.root / "containers" / container / "hosts", self.pod_ip, self.name[:63])
        box.volumes(mounts)
        box.python_over_mounts(dests | ({PurePosixPath("/tmp")} if writable_tmp else set()))
        if sc.get("readOnlyRootFilesystem"):
            box.args.extend(["--remount-ro", "/"])
        return box.args

    def _sandbox(self, container: str, init: bool) -> _Sandbox:
        key = (container, init)
        box = self._sandboxes.get(key)
        if box is not None and box.outer.poll() is None:
            return box
        read_fd, write_fd = os.pipe()
        argv = [
            *self.netns.prefix(),
            "bwrap",
            *self._bwrap_args(container, init),
            "--info-fd",
            str(write_fd),
            "--",
            "sleep",
            "infinity",
        ]
        log = self.root / "logs" / f"sandbox-{container}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with Path(log).open("ab") as out:
            outer = subprocess.Popen(
                argv, pass_fds=(write_fd,), stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )
        os.close(write_fd)

        def failed() -> AssertionError:
            return AssertionError(
                f"bwrap could not set up container {container}:\n"
                f"{log.read_text(errors='replace')}\nargv: {argv}"
            )

        info = _read_info(read_fd, outer)
        if not info:
            outer.wait(timeout=5)
            raise failed()
        box = _Sandbox(outer, int(json.loads(info)["child-pid"]))
        # bwrap reports the pid before the child has finished its mounts; the sandbox is ready
        # once the child has exec'd ``sleep`` (everything is set up before that exec).
        deadline = time.monotonic() + 20
        while not _sleeping_child(box.init_pid):
            if outer.poll() is not None or time.monotonic() > deadline:
                raise failed()
            time.sleep(0.01)
        self._sandboxes[key] = box
        return box

    def _stop_sandbox(self, key: tuple[str, bool]) -> None:
        box = self._sandboxes.pop(key, None)
        if box is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(box.init_pid, signal.SIGKILL)
        try:
            box.outer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            box.outer.kill()
            box.outer.wait(timeout=5)

    def _enter(
        self,
        container: str,
        init: bool,
        argv: Sequence[str],
        extra_env: Mapping[str, str] | None,
        stdin: Any,
    ) -> Process:
        spec = self.container(container, init)
        sc = spec.get("securityContext") or {}
        uid, gid, groups = self.identity(container, init)
        env = self.env(container, init)
        env.update(extra_env or {})
        workdir = spec.get("workingDir") or self.image(container).workdir
        box = self._sandbox(container, init)
        ids = ["--reuid", str(uid), "--regid", str(gid)]
        ids += ["--groups", ",".join(map(str, groups))] if groups else ["--clear-groups"]
        if sc.get("allowPrivilegeEscalation") is False:
            ids.append("--no-new-privs")
        # absolute paths: the container's PATH is for its own command, not for the harness
        cmd = [
            _tool("nsenter"),
            "-t",
            str(box.init_pid),
            "-m",
            "-p",
            "-n",
            "-i",
            "-u",
            "-r",
            "--",
            _tool("setpriv"),
            *ids,
            "--",
            _tool("env"),
            "-C",
            workdir,
            "--",
            *argv,
        ]
        n = next(_counter)
        log = self.root / "logs" / f"{container}-{n}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with Path(log).open("wb") as out:
            popen = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=stdin
            )
        proc = Process(popen, log, argv)
        self._processes.append(proc)
        return proc


def _tool(name: str) -> str:
    """Absolute path of a harness program (under /usr, which every sandbox has)."""
    return require_program(name, HARNESS_PROGRAMS.get(name))


def _pod_template(obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(metadata, spec)`` of a Pod, or of a workload's pod template (named after it)."""
    kind = obj.get("kind", "Pod")
    meta = dict(obj.get("metadata") or {})
    if kind == "Pod":
        return meta, dict(obj["spec"])
    spec = obj["spec"]
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec["template"]
    pod_meta = dict(template.get("metadata") or {})
    pod_meta.setdefault("name", f"{meta.get('name', 'pod')}-0")
    pod_meta.setdefault("namespace", meta.get("namespace"))
    return pod_meta, dict(template["spec"])


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 30,
    interval: float = 0.2,
    what: str = "condition",
) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s")
        time.sleep(interval)


def iter_files(root: Path) -> Iterator[Path]:
    """Every file below `root` (for assertions on what a program left)."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


__all__ = [
    "APT_INSTALL",
    "HostDir",
    "Image",
    "NetNS",
    "PodRun",
    "Process",
    "Rendered",
    "docker_stacks_image",
    "expand",
    "iter_files",
    "plain_image",
    "profile_slugs",
    "render_fresh",
    "require_harness",
    "require_program",
    "require_root",
    "user_pod",
    "wait_for",
]
