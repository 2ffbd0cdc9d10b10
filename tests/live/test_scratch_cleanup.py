"""Live (c): the rendered scratch cleanup CronJob, run by busybox as the pod runs it.

From a fresh render of ``sites/escape.yaml``: the CronJob's container command (``/bin/sh -c``),
its env (``XrdSecsssENDORSEMENT`` from the Secret it names), the securityContext uid/gid
(65534, ``readOnlyRootFilesystem``), and the scratch hostPath at ``/scratch``, in a sandbox whose
only programs are busybox's (Debian ``busybox``, the image is ``busybox:1.37.0``): ``sh``,
``find``, ``xargs``, ``rm`` and ``rmdir`` are busybox applets, so GNU semantics cannot hide a
problem. The host folder stands in for the EOS scratch folder: user folders are owned by the
notebook uid (1000) and writable by group 65534 (``2770``), the stand-in for the EOS
``sys.acl=u:<cleanup uid>:rwx`` the docs ask for; what eosxd and the MGM do with the
endorsement is not run here (no EOS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.live.harness import DEFAULT_PATH, Image, PodRun, Rendered, require_program

HOUR = 3600
DAY = 24 * HOUR
NOTEBOOK_UID = 1000
ENDORSEMENT = "0123456789abcdef-test-endorsement"
#: Helpers the harness itself runs inside every sandbox (nsenter enters with them); they sit in
#: /usr/bin, and busybox's applets in /bin, as in the busybox image.
HARNESS_HELPERS = ("setpriv", "env")


def _libraries(*programs: str) -> set[str]:
    """The shared objects `programs` load (ldd), as absolute paths."""
    found = set()
    for program in programs:
        out = subprocess.run(["ldd", program], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            parts = line.split()
            if "=>" in parts and len(parts) > parts.index("=>") + 1:
                target = parts[parts.index("=>") + 1]
                if target.startswith("/"):
                    found.add(target)
            elif parts and parts[0].startswith("/"):
                found.add(parts[0])
    return found


def busybox_image(folder: Path) -> Image:
    """The busybox image's file tree: busybox and its applets in /bin, its passwd/group."""
    busybox = require_program("busybox", "busybox")
    root = folder / "busybox-root"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet != "busybox" and "/" not in applet:
            (root / "bin" / applet).symlink_to("busybox")
    helpers = [shutil.which(h) for h in HARNESS_HELPERS]
    (root / "usr" / "bin").mkdir(parents=True)
    for helper in helpers:
        assert helper, HARNESS_HELPERS
        shutil.copy2(helper, root / "usr" / "bin" / Path(helper).name)
    for lib in _libraries(busybox, *helpers):  # glibc busybox, as busybox:1.37.0 (glibc)
        target = root / lib.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(lib), target)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (root / "etc" / "hosts").write_text("")  # mount point of the kubelet's file, as runc makes it
    return Image(env={"PATH": DEFAULT_PATH}, rootfs=root)


def _file(path: Path, age: float, text: str = "x", uid: int = NOTEBOOK_UID) -> Path:
    path.write_text(text)
    os.chown(path, uid, 65534)
    _age(path, age)
    return path


def _age(path: Path, age: float) -> None:
    when = time.time() - age
    os.utime(path, (when, when), follow_symlinks=False)


def _user_dir(path: Path, mode: int = 0o2770, gid: int = 65534) -> Path:
    path.mkdir()
    os.chown(path, NOTEBOOK_UID, gid)
    path.chmod(mode)
    return path


class Tree:
    """A scratch folder as users leave it, with what must go and what must stay."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.scratch = base / "scratch"
        self.outside = base / "outside"
        self.gone: list[Path] = []
        self.kept: list[Path] = []
        self.mounts: list[Path] = []
        self.scratch.mkdir(parents=True)
        # writable for the cleanup too, so only the command's own rules protect depth 1
        os.chown(self.scratch, 0, 65534)
        self.scratch.chmod(0o2775)
        self.outside.mkdir()

    def build(self) -> None:
        s = self.scratch
        alice = _user_dir(s / "alice")
        self.gone += [_file(alice / "old.root", 3 * DAY), _file(alice / "49h.root", 49 * HOUR)]
        self.kept += [_file(alice / "new.root", HOUR), _file(alice / "47h.root", 47 * HOUR)]
        results = _user_dir(alice / "results")
        self.gone.append(_file(results / "stale.txt", 5 * DAY))
        self.kept += [results, _file(results / "fresh.txt", 600)]
        empty = _user_dir(alice / "empty-old")
        self.gone.append(empty)
        # nested empty folders go one level per run: the parent is new again afterwards
        nested = _user_dir(alice / "nested-old")
        deeper = _user_dir(nested / "deeper-old")
        self.gone.append(deeper)
        self.kept.append(nested)
        # depth 1 is never touched: the user folders and anything beside them
        self.kept += [alice, _user_dir(s / "bob"), _file(s / "protected-old.dat", 9 * DAY, uid=0)]
        # symlinks are removed, their targets never, even an old target the job could delete
        target = _file(self.outside / "target-old.root", 9 * DAY)
        link_out = alice / "link-out"
        link_out.symlink_to("../../outside/target-old.root")
        link_file = alice / "link-to-protected"
        link_file.symlink_to("/scratch/protected-old.dat")
        link_dir = alice / "link-to-scratch"
        link_dir.symlink_to("/scratch")  # followed, protected-old.dat would sit at depth 3
        for link in (link_out, link_file, link_dir):
            os.lchown(link, NOTEBOOK_UID, 65534)
            _age(link, 9 * DAY)
        self.gone += [link_out, link_file, link_dir]
        self.kept.append(target)
        # -xdev: another file system inside the tree is left alone
        mnt = _user_dir(alice / "mnt")
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "mode=2770,uid=1000,gid=65534", "tmpfs", str(mnt)],
            check=True,
        )
        self.mounts.append(mnt)
        self.kept += [mnt, _file(mnt / "other-fs-old.root", 9 * DAY)]
        for folder in (results, empty, nested, deeper, alice, s / "bob"):
            _age(folder, 10 * DAY)

    def close(self) -> None:
        for mnt in reversed(self.mounts):
            subprocess.run(["umount", str(mnt)], check=False)


@pytest.fixture
def escape(rendered_sites: dict[str, Rendered]) -> Rendered:
    return rendered_sites["escape"]


def cleanup_pod(escape: Rendered, tree: Tree, root: Path) -> PodRun:
    cron = escape.get("CronJob", "scratch-cleanup")
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [volume] = [v for v in spec["volumes"] if "hostPath" in v]
    [secret] = [e["valueFrom"]["secretKeyRef"] for e in spec["containers"][0]["env"]]
    return PodRun(
        cron,
        escape,
        root,
        image=busybox_image(root),
        host_dirs={volume["hostPath"]["path"]: tree.scratch},
        secrets={secret["name"]: {secret["key"]: ENDORSEMENT}},
    )


def test_cleanup_removes_exactly_the_old_files(escape: Rendered, tmp_path: Path) -> None:
    tree = Tree(tmp_path / "node")
    try:
        tree.build()
        with cleanup_pod(escape, tree, tmp_path / "pod") as pod:
            assert pod.identity("cleanup") == (65534, 65534, [])
            assert pod.env("cleanup")["XrdSecsssENDORSEMENT"] == ENDORSEMENT
            # every program the command runs resolves to busybox on the image's PATH
            shell = pod.run(
                "cleanup",
                [
                    "/bin/sh",
                    "-c",
                    "for p in sh find xargs rm rmdir; do "
                    'readlink "$(command -v $p)"; done; '
                    'echo "$XrdSecsssENDORSEMENT"',
                ],
            )
            assert shell.stdout.split() == ["busybox"] * 5 + [ENDORSEMENT], shell.stdout
            done = pod.run("cleanup", timeout=60)
        assert done.returncode == 0, done.stdout
        left = [p for p in tree.gone if os.path.lexists(p)]
        lost = [p for p in tree.kept if not os.path.lexists(p)]
        assert left == [] and lost == [], done.stdout
        # the log (xargs -t) names exactly what went, as the container sees it
        logged = {
            word
            for line in done.stdout.splitlines()
            if line.startswith(("rm -f ", "rmdir "))
            for word in line.split()[2 if line.startswith("rm -f") else 1 :]
        }
        assert logged == {"/scratch/" + p.relative_to(tree.scratch).as_posix() for p in tree.gone}
    finally:
        tree.close()


def test_cleanup_fails_visibly_when_it_cannot_delete(escape: Rendered, tmp_path: Path) -> None:
    """A folder the cleanup's identity may not write: exit 1, the rest is still cleaned."""
    tree = Tree(tmp_path / "node")
    alice = _user_dir(tree.scratch / "alice")
    old = _file(alice / "old.root", 3 * DAY)
    carol = _user_dir(tree.scratch / "carol", mode=0o755, gid=NOTEBOOK_UID)  # no rights
    locked = _file(carol / "old.root", 3 * DAY)
    with cleanup_pod(escape, tree, tmp_path / "pod") as pod:
        done = pod.run("cleanup", timeout=60)
    assert done.returncode == 1, done.stdout
    assert not old.exists() and locked.exists()
    assert "/scratch/carol/old.root" in done.stdout and "Permission denied" in done.stdout
    assert "scratch-cleanup: some entries older than 48 h could not be deleted" in done.stdout
