"""Rule jupyter-config-path: the Rucio server config and kernel config land where Jupyter reads
config. A fresh render of the escape example passes; each edit that brings the failure back
(a ``*.d`` folder, a folder off the config path, an image file, a config path changed by env) is
reported at the file, line and column of the ``mountPath`` that puts it there.

The live test ``tests/live/test_jupyter_server.py`` shows the same with the real programs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dlaas_gen.context.notebook import KERNEL_CONFIG, SERVER_CONFIG
from dlaas_gen.pipeline import build_site
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import validate_tree
from dlaas_gen.validate.tree_rules.notebook import problem_for
from tests.conftest import REPO

RULE = "jupyter-config-path"
RELEASE = "apps/helmrelease-jhub.yaml"


@pytest.fixture(scope="module")
def plan() -> dict[str, bytes]:
    built = build_site(REPO / "sites" / "escape.yaml")
    assert [p.format() for p in built.problems if p.is_error] == []
    return built.plan


@pytest.fixture()
def tree(tmp_path: Path, plan: dict[str, bytes]) -> Path:
    for rel, data in plan.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    return tmp_path


def problems(folder: Path) -> list[tuple[str, int, int, str]]:
    return [(p.path, p.line, p.col, p.message) for p in validate_tree(load_tree(folder))
            if p.rule == RULE]


def move_mount(tree: Path, old: str, new: str) -> tuple[int, int]:
    """Change a mountPath in the rendered HelmRelease; (line, col) of its ``mountPath`` key."""
    path = tree / RELEASE
    old_line, new_line = f"mountPath: {old}\n", f"mountPath: {new}\n"
    text = path.read_text()
    assert text.count(old_line) == 1, old
    text = text.replace(old_line, new_line)
    path.write_text(text)
    for number, line in enumerate(text.splitlines(), 1):
        if line.endswith(f"mountPath: {new}"):
            return number, line.index("mountPath") + 1
    raise AssertionError(new)


def test_the_escape_render_mounts_both_files_where_jupyter_reads_config(tree: Path) -> None:
    assert problems(tree) == []
    assert SERVER_CONFIG == "/usr/local/etc/jupyter/jupyter_server_config.json"
    values = yaml.safe_load((tree / RELEASE).read_text())["spec"]["values"]
    mounts = {m["mountPath"]: m for m in values["singleuser"]["storage"]["extraVolumeMounts"]}
    assert mounts[SERVER_CONFIG]["subPath"] == "rucio.json"
    assert mounts[KERNEL_CONFIG]["subPath"] == "ipython_kernel_config.json"
    assert not any("jupyter_server_config.d" in p for p in mounts)


def test_server_config_in_a_d_folder_is_reported_at_its_mount_path(tree: Path) -> None:
    line, col = move_mount(tree, SERVER_CONFIG, "/etc/jupyter/jupyter_server_config.d/rucio.json")
    [(file, got_line, got_col, message)] = problems(tree)
    assert (file, got_line, got_col) == (RELEASE, line, col)
    assert "jpserver_extensions" in message and "not as config" in message
    assert "/usr/local/etc/jupyter/jupyter_server_config.json" in message


def test_server_config_off_the_config_path_is_reported(tree: Path) -> None:
    line, col = move_mount(tree, SERVER_CONFIG, "/home/jovyan/rucio.json")
    [(file, got_line, got_col, message)] = problems(tree)
    assert (file, got_line, got_col) == (RELEASE, line, col)
    assert "does not load" in message and "/etc/jupyter" in message


def test_server_config_over_the_images_own_file_is_reported(tree: Path) -> None:
    line, col = move_mount(tree, SERVER_CONFIG, "/etc/jupyter/jupyter_server_config.py")
    [(file, got_line, got_col, message)] = problems(tree)
    assert (file, got_line, got_col) == (RELEASE, line, col)
    assert "the docker-stacks image ships" in message


def test_kernel_config_off_the_ipython_path_is_reported(tree: Path) -> None:
    line, col = move_mount(tree, KERNEL_CONFIG, "/etc/ipython/kernel.json")
    [(file, got_line, got_col, message)] = problems(tree)
    assert (file, got_line, got_col) == (RELEASE, line, col)
    assert "IPython does not load" in message


def test_platform_dirs_move_the_system_config_path() -> None:
    # jupyter_core: JUPYTER_PLATFORM_DIRS=1 replaces /usr/local/etc/jupyter and /etc/jupyter
    # with platformdirs' site config folders (XDG_CONFIG_DIRS, /etc/xdg).
    assert problem_for("server", SERVER_CONFIG, {}) is None
    message = problem_for("server", SERVER_CONFIG, {"JUPYTER_PLATFORM_DIRS": "1"})
    assert message is not None and "/etc/xdg/jupyter" in message
    assert problem_for("server", "/srv/cfg/jupyter_server_config.json",
                       {"JUPYTER_CONFIG_PATH": "/srv/cfg"}) is None


def test_a_site_bringing_the_d_folder_back_through_extra_values_fails_render(
        tmp_path: Path) -> None:
    site = tmp_path / "escape.yaml"
    text = (REPO / "sites" / "escape.yaml").read_text()
    assert "\nextra_values:" not in text
    site.write_text(
        text
        + (
            "extra_values:\n"
            "  singleuser:\n"
            "    storage:\n"
            "      extraVolumeMounts:\n"
            "        - name: dlaas-notebook-files\n"
            "          mountPath: /etc/jupyter/jupyter_server_config.d/rucio.json\n"
            "          subPath: rucio.json\n"
        )
    )
    for companion in (REPO / "sites").glob("escape.*.yaml"):
        (tmp_path / companion.name).write_text(companion.read_text())
    built = build_site(site, tmp_path / "out")
    found = [p for p in built.problems if p.rule == RULE]
    assert len(found) == 1 and found[0].is_error
    # Reported at the site-file line that puts it there (the rendered file is never written) ...
    lines = site.read_text().splitlines()
    mount = "          mountPath: /etc/jupyter/jupyter_server_config.d/rucio.json"
    assert (found[0].path, found[0].line, found[0].col) == (
        str(site),
        lines.index(mount) + 1,
        mount.index("mountPath") + 1,
    )
    # ... naming the rendered object and its line and column there.
    match = re.search(
        rf"\(rendered HelmRelease jhub/jhub, {re.escape(RELEASE)}:(\d+):(\d+)\)$", found[0].message
    )
    assert match, found[0].message
    rendered = built.plan[RELEASE].decode()
    line = rendered.splitlines()[int(match[1]) - 1]
    assert line.strip() == "mountPath: /etc/jupyter/jupyter_server_config.d/rucio.json"
    assert int(match[2]) == line.index("mountPath") + 1
