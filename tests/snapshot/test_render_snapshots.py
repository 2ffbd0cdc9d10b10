"""Snapshots of the rendered output of the fixture sites, one snapshot per rendered file.

Each snapshot is named ``<site>/<path in the site folder>`` (e.g.
``maximal/apps/helmrelease-jhub.yaml``), so a change shows up as the files it changes. The site's
``.dlaas-gen-files`` index is a snapshot too, so a file added or removed shows there.

A shipped payload (``dlaas_gen/payload/``: ``datalakectl``, the token renewer, the hub token
module, the XCache refresh script, the eosxd entrypoint) is embedded verbatim in the ConfigMap or
HelmRelease that ships it; in the snapshot its block is replaced by one line
``<payload NAME sha256:DIGEST>``. A payload edit then changes one digest line per file, and the
payload's behaviour is tested where it belongs (``tests/unit/payload/``, the real-tool and live
tiers). The replacement is exact: the block it replaces is the payload's lines at one
indentation, so putting the payload back gives the rendered bytes.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

import dlaas_gen
from dlaas_gen.pipeline import build_site
from tests.conftest import FIXTURES

SITES = ["minimal", "maximal", "maximal-variants"]
PAYLOAD_DIR = Path(dlaas_gen.__file__).resolve().parent / "payload"


def payloads() -> dict[str, str]:
    """Every shipped payload file by name (the package's payload folder, not its __init__)."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(PAYLOAD_DIR.iterdir())
            if p.is_file() and p.suffix in {".py", ".sh"} and p.name != "__init__.py"}


def placeholder(name: str, text: str) -> str:
    return f"<payload {name} sha256:{hashlib.sha256(text.encode()).hexdigest()}>"


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{line}\n" if line else "\n" for line in text.split("\n")[:-1])


def fold_payloads(text: str, shipped: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """`text` with each embedded payload block replaced by its placeholder line; the names."""
    found = []
    for name, payload in (shipped or payloads()).items():
        if not payload.endswith("\n"):
            raise AssertionError(f"payload {name} must end with a newline")
        for indent in range(2, 41, 2):
            block, mark = _block(payload, indent), " " * indent + placeholder(name, payload) + "\n"
            parts = text.split("\n" + block)  # a block starts at the beginning of a line
            if len(parts) > 1:
                text = ("\n" + mark).join(parts)
                found.append(name)
    return text, found


def unfold_payloads(text: str, shipped: dict[str, str] | None = None) -> str:
    """The inverse of `fold_payloads`: each placeholder line back to the payload's block."""
    for name, payload in (shipped or payloads()).items():
        mark = placeholder(name, payload) + "\n"
        while mark in text:
            head, tail = text.split(mark, 1)
            indent = len(head) - len(head.rstrip(" "))
            text = head[:len(head) - indent] + _block(payload, indent) + tail
    return text


@functools.cache
def rendered(site: str) -> dict[str, str]:
    """Every file `render` writes for fixture `site`, by path in the site folder."""
    built = build_site(FIXTURES / "sites" / f"{site}.yaml")
    errors = [p.format() for p in built.problems if p.is_error]
    assert errors == [], errors
    return {path: data.decode() for path, data in sorted(built.plan.items())}


def _cases() -> list:
    cases = []
    for site in SITES:
        try:
            paths = list(rendered(site))
        except Exception as exc:  # noqa: BLE001 - reported by the test below, not at collection
            cases.append(pytest.param(site, None, id=f"{site}/<render failed: {exc!r}>"[:200]))
            continue
        cases += [pytest.param(site, path, id=f"{site}/{path}") for path in paths]
    return cases


@pytest.mark.parametrize(("site", "path"), _cases())
def test_rendered_file(site: str, path: str | None, snapshot: SnapshotAssertion) -> None:
    files = rendered(site)  # raises the render's error when collection could not render
    assert path is not None
    folded, _ = fold_payloads(files[path])
    assert unfold_payloads(folded) == files[path]
    assert folded == snapshot


def test_each_payload_is_embedded_verbatim_in_the_fixture_sites() -> None:
    """Every payload file reaches some fixture site whole, so the digests cover all of them."""
    seen = set()
    for site in SITES:
        for text in rendered(site).values():
            seen.update(fold_payloads(text)[1])
    assert seen == set(payloads())


def test_fold_and_unfold_are_exact() -> None:
    shipped = {"run.sh": "#!/bin/sh\n\n  indented\nlast\n"}
    text = ("data:\n  run.sh: |\n    #!/bin/sh\n\n      indented\n    last\n  other: x\n"
            "spec:\n  values:\n    files:\n      run.sh: |\n        #!/bin/sh\n\n"
            "          indented\n        last\n")
    folded, found = fold_payloads(text, shipped)
    mark = placeholder("run.sh", shipped["run.sh"])
    assert found == ["run.sh", "run.sh"]
    assert folded == (f"data:\n  run.sh: |\n    {mark}\n  other: x\n"
                      f"spec:\n  values:\n    files:\n      run.sh: |\n        {mark}\n")
    assert unfold_payloads(folded, shipped) == text
    assert fold_payloads("data:\n  run.sh: |\n    #!/bin/sh\n    last\n", shipped)[1] == []
