"""Generated blocks inside the hand-written documentation pages (``docs/*.md``).

Why: one source per fact. The rule tables of ``docs/security.md`` come from the code that
enforces the rules (``policy_catalog.RULES``, ``validate.tree_rules.secrets.SCAN_RULES``) and
the picture in ``docs/commands.md`` is what ``dlaas-gen graph escape`` draws. A page holds each
block between a begin and an end marker::

    <!-- begin generated: policy-rules (do not edit by hand) -->
    ...
    <!-- end generated: policy-rules -->

:func:`refresh_page` rewrites what is between them; a test fails when a committed page differs
from its refreshed text (``make docs-generated`` refreshes every page).
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from dlaas_gen.defaults import DEFAULT_DOCS_DIR, DEFAULT_SITES_DIR

_BEGIN = re.compile(r"^<!-- begin generated: (?P<name>[a-z0-9-]+)\b[^\n]*-->\n", re.MULTILINE)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def policy_rules_table() -> str:
    """The security policy rules: id, severity, reason, opt-out."""
    from dlaas_gen.policy_catalog import RULES

    rows = ([f"`{r.id}`", r.severity, r.reason, r.opt_out] for r in RULES)
    return _table(["Rule", "Severity", "Reason", "Opt-out"], rows)


def secret_scan_rules_table() -> str:
    """The secret scan rules of ``validate``: id, severity, what each finds."""
    from dlaas_gen.validate.tree_rules.secrets import SCAN_RULES

    rows = ([f"`{rule_id}`", severity, finds, "none (move the value into a Secret)"]
            for rule_id, severity, finds in SCAN_RULES)
    return _table(["Rule", "Severity", "Finds", "Opt-out"], rows)


def escape_graph(sites_dir: Path) -> str:
    """``dlaas-gen graph escape`` (Mermaid) in a fenced block."""
    from dlaas_gen.commands.graph import site_graph, to_mermaid
    from dlaas_gen.errors import ConfigError
    from dlaas_gen.loader import select_sites
    from dlaas_gen.pipeline import build_site

    built = build_site(select_sites(sites_dir, ["escape"])[0])
    errors = [p for p in built.problems if p.is_error]
    if errors:
        raise ConfigError(errors)
    return "```mermaid\n" + to_mermaid(site_graph(built.manifests)) + "```\n"


def _module_summary(module: str) -> str:
    """The first line of a dlaas_gen module's docstring, read from its file (not imported)."""
    package_dir = Path(__file__).resolve().parents[2]  # dlaas_gen/
    path = package_dir.joinpath(*module.split(".")[1:])
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    if not source.is_file():
        return ""
    doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def import_layers(pyproject: Path) -> str:
    """The package's layers and import contracts, from ``[tool.importlinter]`` of `pyproject`.

    Why: `lint-imports` enforces the contracts written in ``pyproject.toml``; the page shows the
    same list, so it cannot describe layers that are not checked. Each module is shown with the
    first line of its docstring.
    """
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = config["contracts"]
    layered = next(c for c in contracts if c["type"] == "layers")
    container = layered["containers"][0]
    rows = []
    for number, layer in enumerate(layered["layers"], 1):
        names = [n.strip().strip("()") for n in re.split(r"[|:]", layer)]
        kind = ("" if len(names) == 1
                else ", independent" if "|" in layer else ", may import each other")
        for index, name in enumerate(names):
            module = f"{container}.{name}"
            rows.append([f"{number}{kind}" if index == 0 else str(number), f"`{module}`",
                         _module_summary(module) or "(not written yet: an optional layer)"])
    table = _table(["Layer", "Module", "What it holds"], rows)
    others = "".join(f"- `{c['id']}` ({c['type']}): {c['name']}.\n"
                     for c in contracts if c is not layered)
    return (f"Layers, top first (contract `{layered['id']}`): a module imports only from layers "
            f"below its own.\n\n{table}\nThe other contracts:\n\n{others}")


#: Block name → generator (given the folder of the example sites).
BLOCKS: dict[str, Callable[[Path], str]] = {
    "policy-rules": lambda _sites_dir: policy_rules_table(),
    "secret-scan-rules": lambda _sites_dir: secret_scan_rules_table(),
    "graph-escape": escape_graph,
    "import-layers": lambda sites_dir: import_layers(sites_dir.parent / "pyproject.toml"),
}


def refresh_page(text: str, sites_dir: Path = DEFAULT_SITES_DIR) -> str:
    """Return ``text`` with every generated block rewritten from the code.

    Raises:
        ValueError: a block names no known generator, or has no end marker.
    """
    out: list[str] = []
    pos = 0
    for begin in _BEGIN.finditer(text):
        if begin.start() < pos:
            continue
        name = begin["name"]
        if name not in BLOCKS:
            raise ValueError(f"unknown generated block {name!r} (known: {', '.join(BLOCKS)})")
        end_marker = f"<!-- end generated: {name} -->"
        end = text.find(end_marker, begin.end())
        if end < 0:
            raise ValueError(f"generated block {name!r} has no {end_marker!r}")
        out += [text[pos:begin.end()], BLOCKS[name](sites_dir)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def generated_blocks(text: str) -> list[str]:
    """Names of the generated blocks in a page, in order."""
    return [m["name"] for m in _BEGIN.finditer(text)]


def refresh_docs(docs_dir: Path = DEFAULT_DOCS_DIR,
                 sites_dir: Path = DEFAULT_SITES_DIR) -> list[Path]:
    """Rewrite the generated blocks of every page in ``docs_dir``; return the pages changed."""
    changed = []
    for page in sorted(docs_dir.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        if not generated_blocks(text):
            continue
        fresh = refresh_page(text, sites_dir)
        if fresh != text:
            page.write_text(fresh, encoding="utf-8")
            changed.append(page)
    return changed
