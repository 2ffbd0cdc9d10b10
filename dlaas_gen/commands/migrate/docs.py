"""Split a YAML file into documents, parse them, and re-emit only the ones that changed.

Why: ruamel round-trip keeps comments, key order and quoting, but it still re-flows some
whitespace; documents we do not change must stay byte-for-byte identical, so each document keeps
its original text and only changed documents are re-emitted, entry by entry (`emit`).
Parsing accepts what kustomize's Go YAML parser accepts and ruamel does not (a TAB after a value,
``key:<TAB>value``), and error messages never quote a value from the file (a duplicate
``password`` key must not print the passwords).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import MarkedYAMLError

from dlaas_gen.commands.migrate.emit import dump, emit_changed
from dlaas_gen.yamlio import make_roundtrip, plain

_SEPARATOR = re.compile(r"^---(?:[ \t]*(?:#.*)?)?$")
_DOC_END = re.compile(r"^\.\.\.[ \t]*$")
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})(?:\s|$)")
_TEMPLATE = re.compile(r"\{\{|\{%|\{#")


class YamlFileError(Exception):
    """A file that cannot be split or parsed; carries a 1-based line."""

    def __init__(self, message: str, line: int, col: int = 0):
        """`message` at 1-based `line` (and `col`, 0 when unknown)."""
        super().__init__(message)
        self.line = line
        self.col = col


@dataclass
class Chunk:
    """One document of a YAML stream and its original text.

    Attributes:
        head: separator line (``---``) and leading comment/blank lines, kept verbatim.
        body: the document's content lines (LF line ends).
        tail: trailing column-0 comments, blank lines and a ``...`` marker, kept verbatim.
        body_line: 1-based line of the first body line in the file.
        doc: parsed document (None for an empty document).
        changed: set by the migration when `doc` was modified.
        extra: documents to emit right after this one (new source objects).
        tolerated: a TAB that ruamel rejects (and Go YAML accepts) was read leniently.
    """

    head: str
    body: str
    tail: str
    body_line: int
    doc: Any = None
    changed: bool = False
    extra: list[Any] = field(default_factory=list)
    tolerated: bool = False

    @property
    def original(self) -> str:
        """The chunk's original text (LF line ends)."""
        return self.head + self.body + self.tail

    def abs_line(self, rel: int | None) -> int:
        """Turn a 0-based line inside `body` into a 1-based file line."""
        return self.body_line + (rel or 0)


@dataclass
class YamlFile:
    """A parsed multi-document YAML file with its line-ending style."""

    chunks: list[Chunk]
    crlf: bool
    final_newline: bool
    indent: tuple[int, int, int]


def looks_like_template(text: str) -> bool:
    """True when the text carries Jinja/Go template markup."""
    return bool(_TEMPLATE.search(text))


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or line.startswith("#") or line.startswith("%")


def split_documents(text: str) -> list[tuple[str, str, str, int]]:
    """Split LF text into ``(head, body, tail, body_line)`` per document.

    Raises:
        YamlFileError: on merge-conflict markers.
    """
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if _CONFLICT.match(line):
            raise YamlFileError("merge-conflict marker", number, 1)
    groups: list[list[str]] = [[]]
    starts = [1]
    for number, line in enumerate(lines, start=1):
        if _SEPARATOR.match(line.rstrip("\n")) and (groups[-1] or number > 1):
            groups.append([])
            starts.append(number)
        groups[-1].append(line)
    out = []
    for group, start in zip(groups, starts, strict=True):
        first = 0
        if group and _SEPARATOR.match(group[0].rstrip("\n")):
            first = 1
        while first < len(group) and _is_filler(group[first]):
            first += 1
        last = len(group)
        while last > first and (
            _is_filler(group[last - 1]) or _DOC_END.match(group[last - 1].rstrip("\n"))
        ):
            last -= 1
        out.append(("".join(group[:first]), "".join(group[first:last]), "".join(group[last:]),
                    start + first))
    return out


def detect_indent(text: str) -> tuple[int, int, int]:
    """Guess ruamel's ``(mapping, sequence, offset)`` indentation from a document's text.

    Why: a re-emitted document must look like its neighbours; block sequences are written either
    flush with their parent key (offset 0) or indented (offset 2) and both styles are common.
    """
    mapping, offset = 0, None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for prev, cur in zip(lines, lines[1:], strict=False):
        p_ind = len(prev) - len(prev.lstrip(" "))
        c_ind = len(cur) - len(cur.lstrip(" "))
        body = prev.strip()
        if not body.endswith(":") or body.startswith("- "):
            continue
        if cur.lstrip().startswith("- "):
            if offset is None:
                offset = c_ind - p_ind
        elif c_ind > p_ind and not mapping:
            mapping = c_ind - p_ind
        if mapping and offset is not None:
            break
    mapping = mapping or 2
    offset = 0 if offset is None else max(offset, 0)
    return mapping, offset + 2, offset


_PLACEHOLDER = "\ue000"
_TAB_PROBLEM = "found character '\\t' that cannot start any token"
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_DUPLICATE = re.compile(r'found duplicate key "(?P<key>.*?)" with value ')


def safe_problem(exc: BaseException) -> str:
    """The YAML problem of `exc` without any value from the input.

    Why: ruamel's messages quote values (a duplicate key prints both values, a bad scalar prints
    itself); keys are fine, so a duplicate key is named, and every other quoted text longer than
    one character is replaced by ``…``.
    """
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if problem is None:
        return "invalid YAML: a value cannot be read"
    match = _DUPLICATE.search(problem)
    if match:
        return f'invalid YAML: duplicate key "{match.group("key")}"'

    def redact(m: re.Match[str]) -> str:
        return m.group(0) if len(m.group(0)) <= 4 else m.group(0)[0] + "…" + m.group(0)[0]

    return f"invalid YAML: {_QUOTED.sub(redact, str(problem))}"


def _fix_tab(lines: list[str], line: int, col: int, placeholder: bool) -> bool:
    """Make the TAB at (line, col) acceptable to ruamel the way Go YAML reads it."""
    if line >= len(lines) or col >= len(lines[line]) or lines[line][col] != "\t":
        return False
    text = lines[line]
    stop = col
    while stop < len(text) and text[stop] in " \t":
        stop += 1
    rest = text[stop:].rstrip("\n")
    before = text[:col].rstrip(" \t")
    indicator = bool(before) and (before[-1] == ":" or (
        before[-1] in "-?" and (len(before) == 1 or before[-2] in " \t")))
    if not rest or rest.startswith("#") or indicator:
        lines[line] = text[:col] + text[col:stop].replace("\t", " ") + text[stop:]
        return True
    if not placeholder:
        return False
    lines[line] = text[:col] + _PLACEHOLDER + text[col + 1:]
    return True


def _untab(node: Any) -> Any:
    """Turn placeholders back into the TABs they stand for (inside plain scalars)."""
    if isinstance(node, str) and _PLACEHOLDER in node:
        return node.replace(_PLACEHOLDER, "\t")
    if isinstance(node, dict):
        for key in list(node):
            value = _untab(node[key])
            if value is not node[key]:
                node[key] = value
    elif isinstance(node, list):
        for i, value in enumerate(node):
            new = _untab(value)
            if new is not value:
                node[i] = new
    return node


def load_tolerant(text: str) -> tuple[Any, bool]:
    """Parse one document with ruamel round-trip; TABs Go YAML accepts are accepted too.

    Returns:
        ``(document, tolerated)``: tolerated is True when a TAB had to be read leniently.

    Raises:
        MarkedYAMLError, YAMLError: the text is not YAML (even for Go YAML).
    """
    yaml = make_roundtrip()
    lines = text.split("\n")
    placeholder = _PLACEHOLDER not in text
    tolerated = False
    for _ in range(text.count("\t") + 1):
        try:
            doc = yaml.load("\n".join(lines))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark
            if exc.problem != _TAB_PROBLEM or mark is None or not _fix_tab(
                    lines, mark.line, mark.column, placeholder):
                raise
            tolerated = True
            continue
        return (_untab(doc) if tolerated else doc), tolerated
    raise YamlFileError("invalid YAML: TAB characters", 1)


def parse_file(raw: str) -> YamlFile:
    """Split and parse a file's text (any line ending).

    Raises:
        YamlFileError: conflict markers or invalid YAML, with the file line (no value quoted).
    """
    crlf = "\r\n" in raw
    text = raw.replace("\r\n", "\n")
    final_newline = text.endswith("\n") or not text
    chunks = []
    for head, body, tail, body_line in split_documents(text):
        chunk = Chunk(head=head, body=body, tail=tail, body_line=body_line)
        if body.strip():
            try:
                chunk.doc, chunk.tolerated = load_tolerant(body)
            except MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = body_line + (mark.line if mark else 0)
                col = (mark.column + 1) if mark else 0
                raise YamlFileError(safe_problem(exc), line, col) from None
            except YamlFileError as exc:
                raise YamlFileError(str(exc), body_line) from None
            except Exception as exc:  # noqa: BLE001 - ruamel raises ValueError etc. on bad scalars
                raise YamlFileError(safe_problem(exc), body_line) from None
        chunks.append(chunk)
    return YamlFile(chunks, crlf, final_newline, detect_indent(text))


def dump_document(doc: Any, indent: tuple[int, int, int]) -> str:
    """Dump one document with ruamel round-trip and the given indentation."""
    return "\n".join(dump(doc, indent)) + "\n"


def render_chunk(chunk: Chunk) -> str:
    """Return the chunk's new text: only its edited entries change bytes.

    The new text is parsed again and compared with the migrated document; on any difference
    (a bug in `emit`) the whole document is dumped instead, so no value changes by accident.
    """
    if not chunk.changed:
        return chunk.original
    pristine, _ = load_tolerant(chunk.body)
    indent = detect_indent(chunk.body)
    body = emit_changed(chunk.body, chunk.doc, pristine, indent)
    try:
        same = plain(load_tolerant(body)[0]) == plain(chunk.doc)
    except Exception:  # noqa: BLE001 - unreadable output is a mismatch too
        same = False
    if not same:
        # Why: values must never change by accident; a plain dump is always faithful.
        body = dump_document(chunk.doc, indent)
    return chunk.head + body + chunk.tail


def render_file(yfile: YamlFile) -> str:
    """Return the file's text with changed documents re-emitted and new documents appended."""
    parts = []
    for chunk in yfile.chunks:
        parts.append(render_chunk(chunk))
        for extra in chunk.extra:
            text = "".join(parts)
            if text and not text.endswith("\n"):
                parts.append("\n")
            parts.append("---\n" + dump_document(extra, yfile.indent))
    text = "".join(parts)
    if not yfile.final_newline and text.endswith("\n"):
        text = text[:-1]
    if yfile.crlf:
        text = text.replace("\n", "\r\n")
    return text
