"""Crash safety: SIGKILL during ``dlaas-gen render`` never leaves a mixed or half-written site.

The console script renders 30 sites while the test kills it at random moments, alternating
between two versions of the sites. After every kill each ``rendered/<site>/`` must be
byte-identical to the old or the new render, or absent (between the swap's two renames); the
next complete run restores every site and removes staging leftovers. Two runs at once: the
second gets the lock message; a lock file left by a killed run never blocks.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlaas_gen.render_lock import RENDER_LOCK_FILE
from dlaas_gen.writer import read_existing
from tests.conftest import FIXTURES

DLAAS_GEN = str(Path(sys.executable).with_name("dlaas-gen"))
SITES = 30
KILLS = 25
BUDGET_SECONDS = 120

pytestmark = pytest.mark.crash


def _write_sites(folder: Path, version: str) -> None:
    base = (FIXTURES / "sites" / "minimal.yaml").read_text()
    for index in range(SITES):
        text = base.replace("2024-12-23", f"{version}-{index:02d}")
        (folder / f"s{index:02d}.yaml").write_text(text + f"namespace: ns{index:02d}\n")


def _render(cwd: Path, out: str = "rendered") -> subprocess.CompletedProcess[str]:
    return subprocess.run([DLAAS_GEN, "render", "--sites-dir", "sites", "--out", out], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _snapshot(out: Path) -> dict[str, dict[str, bytes | None]]:
    return {f"s{i:02d}": read_existing(out / f"s{i:02d}") for i in range(SITES)}


@pytest.fixture
def two_versions(tmp_path: Path) -> tuple[Path, dict[str, dict], dict[str, dict], float]:
    """A work folder with sites/ and the reference renders of both versions."""
    (tmp_path / "sites").mkdir()
    refs = {}
    durations = []
    for version in ("2024-12", "2025-01"):
        # Each reference is its own repository: the Flux paths name the folder ``rendered``.
        ref = tmp_path / f"ref-{version}"
        (ref / "sites").mkdir(parents=True)
        _write_sites(ref / "sites", version)
        start = time.monotonic()
        result = _render(ref)
        durations.append(time.monotonic() - start)
        assert result.returncode == 0, result.stderr
        refs[version] = _snapshot(ref / "rendered")
    _write_sites(tmp_path / "sites", "2024-12")
    shutil.copytree(tmp_path / "ref-2024-12" / "rendered", tmp_path / "rendered")
    return tmp_path, refs["2024-12"], refs["2025-01"], max(durations)


def test_sigkill_never_leaves_a_mixed_site(
    two_versions, capsys: pytest.CaptureFixture[str]
) -> None:
    work, old, new, duration = two_versions
    rng = random.Random(int(os.environ.get("DLAAS_CRASH_SEED", "8")))
    out = work / "rendered"
    survived = absent_seen = mid_write = 0
    deadline = time.monotonic() + BUDGET_SECONDS
    for round_ in range(KILLS):
        if time.monotonic() > deadline:
            break
        _write_sites(work / "sites", "2025-01" if round_ % 2 == 0 else "2024-12")
        proc = subprocess.Popen(
            [DLAAS_GEN, "render", "--sites-dir", "sites", "--out", "rendered"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Most of a run is rendering and validating; aim most kills at the writing at its end.
        time.sleep(rng.uniform(0.5, 1.05) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        snapshot = _snapshot(out)
        versions = {
            ("old" if files == old[site] else "new") for site, files in snapshot.items() if files
        }
        leftovers = [
            p for p in out.iterdir() if p.name.startswith(".") and p.name != RENDER_LOCK_FILE
        ]
        mid_write += bool(leftovers) or len(versions) > 1
        for site, files in snapshot.items():
            if files == {}:
                absent_seen += 1
                continue
            assert files in (old[site], new[site]), f"round {round_}: {site} is a mix"
        survived += 1
    _write_sites(work / "sites", "2025-01")
    result = _render(work)
    assert result.returncode == 0, result.stderr
    assert _snapshot(out) == new
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    assert (work / RENDER_LOCK_FILE).exists()  # left by killed runs, blocks nothing
    with capsys.disabled():
        print(
            f"\ncrash safety: {survived} SIGKILLs survived over {SITES} sites, {mid_write} of "
            f"them while writing ({absent_seen} site folders seen absent between renames, "
            "all restored)"
        )
    assert survived >= 10


def _lock_held(lock: Path) -> bool:
    if not lock.exists():
        return False
    inode = lock.stat().st_ino
    return any(f":{inode} " in line for line in Path("/proc/locks").read_text().splitlines())


def test_second_render_gets_the_lock_message(two_versions) -> None:
    assert Path("/proc/locks").exists(), (
        "this test watches /proc/locks (Linux) to see the lock taken"
    )
    work, _, new, _ = two_versions
    _write_sites(work / "sites", "2025-01")
    first = subprocess.Popen(
        [DLAAS_GEN, "render", "--sites-dir", "sites", "--out", "rendered"],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _lock_held(work / RENDER_LOCK_FILE):
            assert first.poll() is None, "first render ended before taking the lock"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        first.send_signal(signal.SIGSTOP)  # hold it in the middle of writing
        second = _render(work)
        assert second.returncode == 1
        assert "another dlaas-gen run is writing" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
        first.communicate(timeout=60)
    assert first.returncode == 0
    assert _snapshot(work / "rendered") == new
