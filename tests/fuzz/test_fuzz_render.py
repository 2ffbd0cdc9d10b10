"""Property: whatever a site file holds, ``render`` ends in exit 0 or 1, never a traceback.

Each case mutates a valid site (the repository's sites and the fixture sites) or generates a
random document, renders it through the real CLI into an output folder that already holds a
render, and checks: exit code 0 or 1; every message a one-line ``file:line:col`` problem; on
exit 1 the output folder is byte-for-byte unchanged; on exit 0 it is a complete render (files
match the ownership index, no staging leftovers).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dlaas_gen import yamlio
from dlaas_gen.cli import app
from dlaas_gen.writer import INDEX_FILE, read_existing
from tests.conftest import FIXTURES, REPO
from tests.fuzz.counters import EXAMPLES, record

SEEDS = sorted([*(REPO / "sites").glob("*.yaml"), *(FIXTURES / "sites").glob("*.yaml")])
SEEDS = [p for p in SEEDS if not p.name.endswith((".origins.yaml", ".schema.json"))]
PROBLEM_LINE = re.compile(r"^\S.*:\d+:\d+: (error|warning): .+ \[[\w-]+\]$")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
WORK = Path(tempfile.mkdtemp(prefix="dlaas-fuzz-"))
RUNNER = CliRunner()


def _baseline(seed: Path) -> Path:
    """A rendered/ folder holding the seed's render (made once per seed)."""
    # A repository of its own (sites/ beside rendered/), laid out like the case below, so the
    # Flux paths of both renders name the same folder.
    out = _out_dir(WORK / "baseline" / seed.stem, seed)
    if not out.exists():
        sites = WORK / "baseline" / seed.stem / "sites"
        _stage(sites, seed.read_bytes(), seed)
        result = RUNNER.invoke(app, ["render", "--sites-dir", str(sites), "--out", str(out)])
        assert result.exit_code == 0, result.output
    return out


def _out_dir(root: Path, seed: Path) -> Path:
    """The rendered folder the seed's Flux paths name (``gitops.path_prefix``) under `root`."""
    data = yamlio.load_roundtrip(seed.read_text())
    prefix = ((data.get("gitops") or {}).get("path_prefix") or "./rendered").strip("/")
    return root / prefix.removeprefix("./")


def _stage(folder: Path, data: bytes, seed: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lock = seed.with_name(f"{seed.stem}.origins.yaml")
    if lock.exists():
        shutil.copy(lock, folder / lock.name)
    path = folder / f"{seed.stem}.yaml"
    path.write_bytes(data)
    return path


def check_render(seed: Path, data: bytes) -> None:
    """Render `data` as the site file of `seed` over the seed's render and check the outcome."""
    ok = False
    try:
        case = WORK / "case"
        shutil.rmtree(case, ignore_errors=True)
        sites = case / "sites"
        _stage(sites, data, seed)
        out = _out_dir(case, seed)
        shutil.copytree(_baseline(seed), out)
        before = read_existing(out / seed.stem)
        result = RUNNER.invoke(app, ["render", "--sites-dir", str(sites), "--out", str(out)])
        stderr = result.stderr
        assert "Traceback" not in result.output + stderr, stderr
        assert result.exit_code in (0, 1), (result.exit_code, stderr)
        lines = [line for line in stderr.splitlines() if line]
        bad = [line for line in lines if not PROBLEM_LINE.match(line)]
        assert not bad, bad
        after = read_existing(out / seed.stem)
        leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") and p.is_dir()]
        assert leftovers == []
        if result.exit_code == 1:
            assert lines, "exit 1 without a message"
            assert after == before, "output changed by a failed render"
        else:
            listed = {line for line in (after[INDEX_FILE] or b"").decode().splitlines()
                      if line and not line.startswith("#")}
            assert set(after) == listed | {INDEX_FILE}
        ok = True
    finally:
        record(ok)


# --- mutations of parsed site data ---------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "latest", "../../etc", "/abs/../x", "-1", "1e400", "0x10", "~",
                     "+_", "0x_", "\u202e\u0000", "é" * 300, "a" * 5000, "{{ x }}", "${HOME}"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _mutate(data: Any, path: tuple[Any, ...], kind: str, value: Any) -> Any:
    if not path:
        return value if kind != "delete" else {}
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if kind == "delete":
        del parent[last]
    elif kind == "nest":
        nested: Any = parent[last]
        for _ in range(value if isinstance(value, int) and 0 < value < 200 else 50):
            nested = [nested]
        parent[last] = nested
    else:
        parent[last] = value
    return data


@SETTINGS
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_mutated_site_data(seed: Path, data: st.DataObject) -> None:
    tree = yaml.safe_load(seed.read_text())
    path = data.draw(st.sampled_from(_paths(tree)))
    kind = data.draw(st.sampled_from(["delete", "swap", "swap", "nest"]))
    value = data.draw(VALUES)
    mutated = _mutate(tree, path, kind, value)
    text = yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False)
    check_render(seed, text.encode("utf-8"))


# --- mutations of the text ------------------------------------------------------------------


def _text_mutation(text: str, kind: str, where: int, extra: str) -> bytes:
    lines = text.splitlines(keepends=True) or ["\n"]
    i = where % len(lines)
    if kind == "duplicate-line":
        lines.insert(i, lines[i])
    elif kind == "tab":
        lines[i] = "\t" + lines[i]
    elif kind == "truncate":
        return text[: where % (len(text) + 1)].encode()
    elif kind == "insert":
        lines.insert(i, extra + "\n")
    elif kind == "bomb":
        bomb = ["b0: &b0 [x, x, x, x, x, x, x, x]"]
        bomb += [f"b{n}: &b{n} [" + ", ".join([f"*b{n - 1}"] * 8) + "]" for n in range(1, 9)]
        lines.append("\n".join(bomb) + "\n")
    elif kind == "bytes":
        return (
            text.encode()[:where]
            + extra.encode("utf-8", "surrogatepass")[:4]
            + b"\xff\xfe"
            + text.encode()[where:]
        )
    elif kind == "document":
        lines.append("---\n" + extra + "\n")
    elif kind == "merge":
        lines.append("base: &base {a: 1}\nmerged:\n  <<: *base\n")
    return "".join(lines).encode("utf-8", "surrogatepass")


@SETTINGS
@given(
    seed=st.sampled_from(SEEDS),
    kind=st.sampled_from(
        ["duplicate-line", "tab", "truncate", "insert", "bomb", "bytes", "document", "merge"]
    ),
    where=st.integers(min_value=0, max_value=10_000),
    extra=st.text(max_size=60),
)
def test_mutated_site_text(seed: Path, kind: str, where: int, extra: str) -> None:
    check_render(seed, _text_mutation(seed.read_text(), kind, where, extra))


# --- random documents -------------------------------------------------------------------------


@SETTINGS
@given(
    doc=st.one_of(
        VALUES.map(
            lambda v: yaml.safe_dump(v, allow_unicode=True).encode("utf-8", "surrogatepass")
        ),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=300),
    )
)
def test_random_documents(doc: bytes) -> None:
    check_render(SEEDS[0], doc)
