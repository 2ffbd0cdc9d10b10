"""The wheel carries templates, schemas and example sites; installed outside the repository,
``dlaas-gen init`` + ``render`` work.

Why offline: the wheel is built with ``--no-isolation`` from this venv's setuptools, and the
fresh venv sees this venv's dependencies through a ``.pth`` line (pip installs only the wheel,
``--no-deps --no-index``); the checkout itself is never on its path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

# Builds the wheel and installs it in a new virtualenv.
pytestmark = pytest.mark.slow


def _tracked_copy(dest: Path) -> Path:
    """The working tree without ignored files (so the build never writes into the checkout)."""
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(listing, cwd=REPO, check=True, capture_output=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        source = REPO / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = _tracked_copy(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(out), str(src)], check=True, capture_output=True, timeout=300)
    return next(out.glob("dlaas_gen-*.whl"))


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dlaas_gen/templates/jupyterhub/helmrelease.yaml.j2" in names
    assert {"dlaas_gen/sites/demo.yaml", "dlaas_gen/sites/escape.yaml",
            "dlaas_gen/sites/site.schema.json"} <= names
    assert any(n.startswith("dlaas_gen/data/schemas/") and n.endswith(".json") for n in names)
    assert {"dlaas_gen/data/schemas/SHA256SUMS", "dlaas_gen/templates/xcache/deployment.yaml.j2",
            "dlaas_gen/data/schemas/flux-v1/json/helmrelease-helm-v1.json"} <= names
    assert not any(n.startswith(("tests/", "rendered/", "templates/", "sites/")) for n in names)


def test_installed_wheel_inits_and_renders(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site_packages = Path(
        subprocess.run(
            [
                str(venv / "bin/python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site_packages / "zz-project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NO_COLOR"] = "1"

    def dlaas_gen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin/dlaas-gen"), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    where = subprocess.run(
        [
            str(venv / "bin/python"),
            "-c",
            "import dlaas_gen.resources as r; print(r.templates_dir())",
        ],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(site_packages)), where
    init = dlaas_gen("init", "demo2")
    assert init.returncode == 0, init.stdout + init.stderr
    assert (work / "sites/site.schema.json").is_file()
    render = dlaas_gen("render")
    assert render.returncode == 0, render.stdout + render.stderr
    assert (work / "rendered/demo2/apps").is_dir()
    assert dlaas_gen("validate").returncode == 0
    assert dlaas_gen("init", "esc", "--from", "escape").returncode == 0
    assert dlaas_gen("render", "--check").returncode == 1  # esc is not rendered yet
    assert dlaas_gen("render").returncode == 0
