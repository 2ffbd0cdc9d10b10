"""The eosxd entrypoint (``dlaas_gen/payload/eosxd_entrypoint.sh``), run by real shells.

The DaemonSet runs ``/bin/sh /etc/eos/entrypoint.sh INSTANCE...``. Here the shipped script runs
under dash and bash with every program it calls (``mkdir``, ``grep``, ``eosxd``, ``umount``,
``fusermount``, ``sleep``) replaced by a stand-in on ``PATH`` that logs its arguments and keeps
the "mounted" state in a folder, so nothing outside the test's folder is touched: each instance
is mounted at start, one that dies is mounted again, a failing ``eosxd`` is reported and retried,
and SIGTERM unmounts every instance (lazily, else with ``fusermount -uz``) and exits 0.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dlaas_gen.payloads import payload_text

SHELLS = ["dash", "bash"]

#: Stand-ins: each logs ``name args`` to $LOG; the mounted state is a file per instance in $STATE.
STANDINS = {
    "mkdir": 'echo "mkdir $*" >> "$LOG"\n',
    "grep": (
        '# grep -q " /eos/NAME fuse" /proc/mounts\n'
        'name=${2#" /eos/"}; name=${name%" fuse"}\n'
        'echo "grep $name" >> "$LOG"\n'
        '[ "$3" = /proc/mounts ] && [ -e "$STATE/$name" ]\n'
    ),
    # The mount exists before the call is logged: a test that waits for the call may then
    # act on the mount without racing the stand-in.
    "eosxd": (
        'name=${1#-ofsname=}\n'
        'if [ -e "$STATE/fail-$name" ]; then\n'
        '  "$RM" "$STATE/fail-$name"; echo "eosxd $*" >> "$LOG"; exit 7\n'
        'fi\n'
        ': > "$STATE/$name"\n'
        'echo "eosxd $*" >> "$LOG"\n'
    ),
    "umount": (
        'echo "umount $*" >> "$LOG"\n'
        'name=${2#/eos/}\n'
        '[ -e "$STATE/busy-$name" ] && exit 32\n'
        '"$RM" -f "$STATE/$name"\n'
    ),
    "fusermount": 'echo "fusermount $*" >> "$LOG"\n"$RM" -f "$STATE/${2#/eos/}"\n',
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed to run the entrypoint: apt-get install -y {name}"
    return path


class Entrypoint:
    def __init__(self, tmp_path: Path, shell: str) -> None:
        self.shell = _tool(shell)
        self.state = tmp_path / "state"
        self.log = tmp_path / "calls.log"
        self.state.mkdir()
        bin_dir = self.bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, body in {**STANDINS, "sleep": 'exec "$SLEEP" 0.05\n'}.items():
            (bin_dir / name).write_text(f"#!{_tool('sh')}\n{body}")
            (bin_dir / name).chmod(0o755)
        self.script = tmp_path / "entrypoint.sh"
        self.script.write_text(payload_text("eosxd_entrypoint.sh"))
        self.env = {"PATH": str(bin_dir), "LOG": str(self.log), "STATE": str(self.state),
                    "RM": _tool("rm"), "SLEEP": _tool("sleep")}
        self.proc: subprocess.Popen[str] | None = None

    def run(self, *names: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.shell, str(self.script), *names], env=self.env,
                              capture_output=True, text=True, timeout=30, check=False)

    def start(self, *names: str) -> None:
        self.proc = subprocess.Popen([self.shell, str(self.script), *names], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def wait_for(self, call: str, times: int = 1) -> None:
        deadline = time.monotonic() + 20
        while self.calls().count(call) < times:
            assert self.proc is not None and self.proc.poll() is None, self.finish()
            assert time.monotonic() < deadline, f"no {call!r} in {self.calls()}"
            time.sleep(0.02)

    def finish(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


@pytest.fixture(params=SHELLS)
def entrypoint(request: pytest.FixtureRequest, tmp_path: Path):
    ep = Entrypoint(tmp_path, request.param)
    yield ep
    if ep.proc is not None and ep.proc.poll() is None:
        ep.proc.kill()
        ep.proc.wait()


def test_without_an_instance_it_is_a_usage_error(entrypoint: Entrypoint) -> None:
    done = entrypoint.run()
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "usage: entrypoint.sh INSTANCE...\n")
    assert entrypoint.calls() == []


def test_mounts_each_instance_then_unmounts_all_on_sigterm(entrypoint: Entrypoint) -> None:
    entrypoint.start("eulake", "home")
    entrypoint.wait_for("grep home", times=2)  # mounted, then checked by the loop
    code, out, err = entrypoint.finish()
    assert (code, err) == (0, "")
    assert out == "mounting EOS instance eulake\nmounting EOS instance home\n"
    calls = entrypoint.calls()
    assert calls[:6] == ["mkdir -p /eos/eulake", "grep eulake", "eosxd -ofsname=eulake",
                         "mkdir -p /eos/home", "grep home", "eosxd -ofsname=home"]
    assert calls[-2:] == ["umount -l /eos/eulake", "umount -l /eos/home"]
    assert not any(c.startswith("fusermount") for c in calls)
    assert list(entrypoint.state.iterdir()) == []


def test_an_instance_already_mounted_is_left_alone(entrypoint: Entrypoint) -> None:
    (entrypoint.state / "eulake").touch()
    entrypoint.start("eulake")
    entrypoint.wait_for("grep eulake", times=2)
    code, out, _ = entrypoint.finish()
    assert code == 0 and out == ""
    assert "eosxd -ofsname=eulake" not in entrypoint.calls()


def test_a_mount_that_dies_is_mounted_again(entrypoint: Entrypoint) -> None:
    entrypoint.start("eulake")
    entrypoint.wait_for("eosxd -ofsname=eulake")
    (entrypoint.state / "eulake").unlink()  # eosxd died, the kernel dropped the mount
    entrypoint.wait_for("eosxd -ofsname=eulake", times=2)
    code, out, _ = entrypoint.finish()
    assert code == 0
    assert out == "mounting EOS instance eulake\n" * 2


def test_a_failing_eosxd_is_reported_and_retried(entrypoint: Entrypoint) -> None:
    (entrypoint.state / "fail-eulake").touch()
    entrypoint.start("eulake")
    entrypoint.wait_for("eosxd -ofsname=eulake", times=2)
    code, _, err = entrypoint.finish()
    assert code == 0
    assert err == "eosxd for eulake exited with 7\n"
    assert (entrypoint.state / "eulake").exists() is False  # unmounted on stop


def test_a_busy_mount_falls_back_to_fusermount(entrypoint: Entrypoint) -> None:
    (entrypoint.state / "busy-home").touch()
    entrypoint.start("eulake", "home")
    entrypoint.wait_for("grep home", times=2)
    code, _, err = entrypoint.finish(signal.SIGINT)
    assert (code, err) == (0, "")
    assert entrypoint.calls()[-3:] == ["umount -l /eos/eulake", "umount -l /eos/home",
                                       "fusermount -uz /eos/home"]


def test_a_signal_inside_a_check_still_unmounts_every_instance(entrypoint: Entrypoint) -> None:
    """A trap runs inside whatever function the shell is in; "$@" there is not the instances.

    The ``grep`` stand-in for ``home`` blocks until the signal has been sent, so the signal
    arrives while the loop is inside ``mounted home``.
    """
    gate = entrypoint.state / "gate"
    (entrypoint.bin_dir / "grep").write_text(
        f"#!{_tool('sh')}\n" + STANDINS["grep"].replace(
            'echo "grep $name" >> "$LOG"\n',
            'echo "grep $name" >> "$LOG"\n'
            'if [ "$name" = home ] && [ -e "$STATE/home" ]; then\n'
            '  while [ ! -e "$STATE/gate" ]; do "$SLEEP" 0.01; done\n'
            'fi\n'))
    entrypoint.start("eulake", "home")
    entrypoint.wait_for("grep home", times=2)  # blocked inside `mounted home`
    assert entrypoint.proc is not None
    entrypoint.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    gate.touch()
    code, _, err = entrypoint.finish()
    assert (code, err) == (0, "")
    calls = entrypoint.calls()
    assert calls[-2:] == ["umount -l /eos/eulake", "umount -l /eos/home"]
    assert sorted(p.name for p in entrypoint.state.iterdir()) == ["gate"]
