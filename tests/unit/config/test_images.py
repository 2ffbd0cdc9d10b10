"""Image rules of a site file, each reported at the line to change (file:line:col)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from tests.conftest import REPO
from tests.support.image_sites import DIGEST_1, SITE, line_of, write

ESCAPE = (REPO / "sites" / "escape.yaml").read_text()


def errors(path: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load_site(path)
    return [(p.path, p.line, p.col, p.message) for p in info.value.problems]


def edited(tmp_path: Path, old: str, new: str, text: str = SITE, name: str = "s") -> Path:
    assert old in text, old
    return write(tmp_path, text.replace(old, new, 1), name)


def test_the_example_sites_load_without_image_findings() -> None:
    assert load_site(REPO / "sites" / "escape.yaml").warnings == ()
    demo = load_site(REPO / "sites" / "demo.yaml")
    assert [w.message for w in demo.warnings if "image" in w.message] == []


def test_escape_profile_on_a_stock_image_is_refused_at_its_line(tmp_path: Path) -> None:
    """Acceptance: a stock image with `rucio:` enabled is refused where the profile names it."""
    path = edited(tmp_path, "    image: {build: root}\n",
                  '    image: {name: quay.io/jupyter/datascience-notebook, tag: "2024-12-23"}\n',
                  ESCAPE, "escape")
    [(file, line, col, message)] = errors(path)
    assert (file, line, col) == (str(path), line_of(path, "datascience-notebook"), 5)
    assert "quay.io/jupyter/datascience-notebook:2024-12-23 is not built here" in message
    assert "rucio-extension, rucio-client, python3" in message
    assert "`rucio:`" in message and "`upload:`" in message and "`auth:`" in message


def test_singleuser_stock_image_must_declare_what_the_site_enables(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        "  image: {build: alma}\n",
        '  image: {name: quay.io/jupyter/minimal-notebook, tag: "1", provides: [python3]}\n',
    )
    [(_, line, col, message)] = errors(path)
    # At `provides`, the list that lacks the extension (no upload: here, so no client needed).
    text = path.read_text().splitlines()[line - 1]
    assert line == line_of(path, "minimal-notebook") and text[col - 1 :].startswith("provides:")
    assert "does not declare rucio-extension in `provides`" in message
    assert "rucio-client" not in message.split("(")[0]


def test_external_image_declaring_everything_is_accepted(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        "  image: {build: alma}\n",
        '  image: {name: ghcr.io/lab/notebook, tag: "1.2", '
        "provides: [rucio-extension, rucio-client, python3]}\n",
    )
    assert load_site(path).config.singleuser.image.provides == [
        "rucio-extension",
        "rucio-client",
        "python3",
    ]


def test_without_data_lake_sections_nothing_is_needed(tmp_path: Path) -> None:
    path = write(
        tmp_path, "singleuser:\n  image: {name: quay.io/jupyter/minimal-notebook, tag: '1'}\n"
    )
    assert load_site(path).warnings == ()


def test_built_image_without_the_extension_is_refused_at_the_reference(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        "    pip: [jupyterhub==5.5.4, rucio-jupyterlab==41.0.0]\n",
        "    pip: [jupyterhub==5.5.4]\n",
    )
    [(_, line, col, message)] = errors(path)
    assert (line, col) == (line_of(path, "image: {build: alma}"), 11)
    assert "image 'alma' does not install rucio-jupyterlab" in message
    assert "add it to images.alma.pip" in message


def test_unknown_build_reference(tmp_path: Path) -> None:
    path = edited(tmp_path, "    image: {build: root}\n", "    image: {build: roots}\n")
    [(_, line, col, message)] = errors(path)
    assert (line, col) == (line_of(path, "{build: roots}"), 13)
    assert "`build: roots` names no entry of `images:` (alma, lab, root)" in message


@pytest.mark.parametrize(
    ("old", "new", "needle", "after", "col", "expected"),
    [
        (
            "    from: lab\n",
            "    from: lab\n    base: docker.io/library/almalinux:9\n",
            "from: lab",
            None,
            5,
            "sets both `base` and `from`",
        ),
        (
            "    from: lab\n",
            "    from: labs\n",
            "from: labs",
            None,
            5,
            "`from: labs` names no image",
        ),
        ("    from: lab\n", "    from: root\n", "from: root", None, 5, "built on itself"),
        ("    registry: registry.example.org/alma\n", "", "  alma:", None, 3, "needs `registry`"),
        (
            "    conda: [root=6.32.8]\n",
            "    conda: [root=6.32.8]\n    family: alma9\n",
            "family: alma9",
            "  root:",
            5,
            "is built on 'lab' (docker-stacks); it cannot be alma9",
        ),
        (
            "    conda: [root=6.32.8]\n",
            '    conda: [root=6.32.8]\n    python: "3.11"\n',
            "python:",
            "  root:",
            5,
            "whose Python is 3.12",
        ),
        (
            "    conda: [root=6.32.8]\n",
            "    conda: [root=6.32.8]\n    pip: [rucio-clients==40.0.0]\n",
            "rucio-clients==40.0.0",
            "  root:",
            None,
            "rucio-clients is pinned to 41.5.1 by 'lab'",
        ),
        (
            "    family: alma9\n",
            "    family: alma9\n    conda: [root=6.32.8]\n",
            "conda:",
            "  alma:",
            5,
            "conda packages need the docker-stacks family",
        ),
        (
            "    family: alma9\n",
            '    family: alma9\n    python: "3.13"\n',
            "python:",
            "  alma:",
            5,
            "AlmaLinux 9 AppStream ships Python 3.11 and 3.12, not 3.13",
        ),
        (
            "    pip: [jupyterhub==5.5.4, rucio-jupyterlab==41.0.0]\n",
            "    pip: [jupyterhub==5.5.4, rucio-jupyterlab==41.0.0, Rucio_JupyterLab==41.0.0]\n",
            "Rucio_JupyterLab",
            None,
            None,
            "rucio-jupyterlab is pinned twice in image 'alma' (item #2)",
        ),
    ],
)
def test_image_definition_errors(
    tmp_path: Path,
    old: str,
    new: str,
    needle: str,
    after: str | None,
    col: int | None,
    expected: str,
) -> None:
    """`col` None: the finding is at the list item, where `needle` starts."""
    path = edited(tmp_path, old, new)
    found = errors(path)
    line = line_of(path, needle, after)
    col = col or path.read_text().splitlines()[line - 1].index(needle) + 1
    assert any(e[1:] == (line, col, e[3]) and expected in e[3] for e in found), found


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("rucio-clients", "is not a pinned Python package ('name==version')"),
        ("rucio-clients>=41", "is not a pinned Python package"),
        ("rucio-clients==41.5.1; python_version>'3'", "is not a pinned Python package"),
    ],
)
def test_pip_entries_are_exact_pins(tmp_path: Path, value: str, message: str) -> None:
    path = edited(tmp_path, "rucio-clients==41.5.1]", f'"{value}"]')
    [(_, line, col, found)] = errors(path)
    assert line == line_of(path, value) and col > 5 and message in found


def test_base_tag_only_is_a_warning_and_latest_an_error(tmp_path: Path) -> None:
    pinned = f"docker-stacks-foundation:python-3.12@sha256:{DIGEST_1}"
    path = edited(tmp_path, pinned, "docker-stacks-foundation:python-3.12")
    [warning] = load_site(path).warnings
    assert (warning.line, warning.col) == (line_of(path, "docker-stacks-foundation"), 5)
    assert warning.level == "warning" and "pinned to a tag only" in warning.message
    path = edited(tmp_path, pinned, "docker-stacks-foundation:latest")
    [(_, line, _, message)] = errors(path)
    assert line == line_of(path, "docker-stacks-foundation") and "'latest' is not pinned" in message


def test_notebook7_stack_base_with_the_extension_is_a_warning(tmp_path: Path) -> None:
    path = edited(tmp_path, "docker-stacks-foundation:python-3.12", "scipy-notebook:2024-12-23")
    [warning] = load_site(path).warnings
    assert warning.line == line_of(path, "scipy-notebook")
    assert (
        "ships Notebook 7 from conda while rucio-jupyterlab requires notebook<7" in warning.message
    )
    assert "docker-stacks-foundation" in warning.message


def test_unknown_keys_in_an_image_are_located_with_a_hint(tmp_path: Path) -> None:
    path = edited(tmp_path, "    from: lab\n", "    form: lab\n")
    found = errors(path)
    line = line_of(path, "form: lab")
    assert (str(path), line, 5, "images.root.form: unknown key; did you mean 'from'?") in found
    path = edited(tmp_path, "  image: {build: alma}\n", "  image: {nme: x, tag: '1'}\n")
    found = errors(path)
    assert any(m == "singleuser.image.nme: unknown key; did you mean 'name'?" for *_, m in found)
