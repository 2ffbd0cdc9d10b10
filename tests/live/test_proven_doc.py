"""docs/proven.md names the program versions that ran the live tests: the installed ones."""

from __future__ import annotations

import platform
import re
import subprocess
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from tests.live.harness import VENV_BIN, require_program

DOC = Path(__file__).resolve().parents[2] / "docs" / "proven.md"


def _cli(argv: list[str], pattern: str) -> Callable[[], str]:
    def get() -> str:
        require_program(argv[0])
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        match = re.search(pattern, out.stdout + out.stderr)
        assert match, f"{argv}: no version in {out.stdout + out.stderr!r}"
        return match.group(1)

    return get


def _dist(name: str) -> Callable[[], str]:
    return lambda: version(name)


#: Name as the table writes it -> how to read the installed version.
PROGRAMS: dict[str, Callable[[], str]] = {
    **{
        name: _dist(name)
        for name in (
            "jupyter_server",
            "rucio-jupyterlab",
            "ipykernel",
            "jupyter_client",
            "jupyterhub",
            "jupyterhub-kubespawner",
            "oauthenticator",
            "kubernetes-validate",
            "rucio-clients",
        )
    },
    "IPython": _dist("ipython"),
    "kubectl": _cli(
        [str(VENV_BIN / "kubectl"), "version", "--client"], r"Client Version: v([\d.]+)"
    ),
    "bubblewrap": _cli(["bwrap", "--version"], r"bubblewrap ([\d.]+)"),
    "util-linux": _cli(["setpriv", "--version"], r"util-linux ([\d.]+)"),
    "xrootd": _cli(["xrootd", "-v"], r"v([\d.]+)"),
    "xrdcp": _cli(["xrdcp", "--version"], r"v([\d.]+)"),
    "BusyBox": _cli(["busybox"], r"BusyBox v([\d.]+)"),
    "Python": lambda: platform.python_version(),
}


def table_versions() -> list[tuple[str, str]]:
    """(program, version) pairs written in the "What ran" table."""
    text = DOC.read_text("utf-8")
    section = text.split("## What ran", 1)[1].split("\n## ", 1)[0]
    rows = [
        line.split("|")[2]
        for line in section.splitlines()
        if line.startswith("|") and not line.startswith("|---") and line.count("|") >= 5
    ]
    found = []
    for cell in rows[1:]:
        for name in PROGRAMS:
            for match in re.finditer(rf"(?<![\w-]){re.escape(name)} (\d[\w.]*\d)", cell):
                found.append((name, match.group(1)))
    return found


def test_the_table_names_the_installed_versions():
    found = table_versions()
    named = {name for name, _ in found}
    assert {"jupyter_server", "rucio-jupyterlab", "ipykernel", "bubblewrap"} <= named, found
    wrong = [
        (name, written, PROGRAMS[name]()) for name, written in found if PROGRAMS[name]() != written
    ]
    assert wrong == [], "docs/proven.md: (program, written, installed)"
