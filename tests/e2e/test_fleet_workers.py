"""End-to-end: a fleet of escape-like sites renders with worker processes, without hanging.

Why: the Dockerfile parser is a Go library and the Go runtime does not survive ``fork``; when
forked workers called it, a fleet of 100 escape-like sites hung on 2 cores. The render runs in
its own process (killed with its workers on timeout), with the Go runtime already started in
the parent, as happens when the first site is built before the workers are forked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.fleet import make_fleet

FLEET = 100
TIMEOUT = 180  # the render takes seconds (about 10 s on one busy core); a hang never ends

DRIVER = """
import sys
import dockerfile
from dlaas_gen import pipeline
from dlaas_gen.cli import main

dockerfile.parse_string("FROM scratch\\n")  # the Go runtime runs in the parent before fork
pipeline._workers = lambda count: 2
sys.argv = ["dlaas-gen", "render", "--sites-dir", "sites", "--out", "rendered"]
main()
"""


@pytest.mark.slow
def test_a_fleet_renders_with_two_workers_without_hanging(tmp_path: Path) -> None:
    make_fleet(tmp_path, FLEET)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"render of {FLEET} sites with 2 workers hung (killed after {TIMEOUT} s)")
    assert proc.returncode == 0, out + err
    folders = sorted(p.name for p in (tmp_path / "rendered").iterdir() if p.is_dir())
    assert folders == [f"site{i:04d}" for i in range(FLEET)]
    for name in ("site0000", "site0099"):
        assert (tmp_path / "rendered" / name / "images" / "root" / "Dockerfile").is_file()
