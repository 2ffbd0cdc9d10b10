"""Split a YAML file into documents, parse them, and re-emit only the ones that changed.

Why: ruamel round-trip keeps comments, key order and quoting, but it still re-flows some
whitespace; documents we do not change must stay byte-for-byte identical, so each document keeps
its original text and only changed documents are dumped, after which every dumped line that
equals an original line (ignoring trailing whitespace) is replaced by the original bytes.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dlaas_gen.yamlio import make_roundtrip

_SEPARATOR = re.compile(r"^---(?:[ \t]*(?:#.*)?)?$")
_DOC_END = re.compile(r"^\.\.\.[ \t]*$")
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})(?:\s|$)")
_TEMPLATE = re.compile(r"\{\{|\{%|\{#")


class YamlFileError(Exception):
    """A file that cannot be split or parsed; carries a 1-based line."""

    def __init__(self, message: str, line: int, col: int = 0):
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
    """

    head: str
    body: str
    tail: str
    body_line: int
    doc: Any = None
    changed: bool = False
    extra: list[Any] = field(default_factory=list)

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
        out.append(
            ("".join(group[:first]), "".join(group[first:last]), "".join(group[last:]), start + first)
        )
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


def parse_file(raw: str) -> YamlFile:
    """Split and parse a file's text (any line ending).

    Raises:
        YamlFileError: conflict markers or invalid YAML, with the file line.
    """
    crlf = "\r\n" in raw
    text = raw.replace("\r\n", "\n")
    final_newline = text.endswith("\n") or not text
    yaml = make_roundtrip()
    chunks = []
    for head, body, tail, body_line in split_documents(text):
        chunk = Chunk(head=head, body=body, tail=tail, body_line=body_line)
        if body.strip():
            try:
                chunk.doc = yaml.load(body)
            except MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = body_line + (mark.line if mark else 0)
                col = (mark.column + 1) if mark else 0
                problem = exc.problem or exc.context or "invalid YAML"
                raise YamlFileError(f"invalid YAML: {problem}", line, col) from None
            except YAMLError as exc:
                raise YamlFileError(f"invalid YAML: {exc}", body_line) from None
        chunks.append(chunk)
    return YamlFile(chunks, crlf, final_newline, detect_indent(text))


def dump_document(doc: Any, indent: tuple[int, int, int]) -> str:
    """Dump one document with ruamel round-trip and the given indentation."""
    yaml = make_roundtrip()
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _restore_lines(original: str, dumped: str) -> str:
    """Replace each dumped line equal (up to trailing blanks) to an original line by the original."""
    old = original.splitlines()
    new = dumped.splitlines()
    def key(line: str) -> str:
        # ruamel escapes tabs in double-quoted scalars; the original tab is the same value.
        return line.rstrip().replace("\\t", "\t")

    matcher = difflib.SequenceMatcher(None, [key(ln) for ln in old], [key(ln) for ln in new],
                                      autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        out.extend(old[i1:i2] if tag == "equal" else new[j1:j2])
    return "\n".join(out) + "\n"


def render_file(yfile: YamlFile) -> str:
    """Return the file's text with changed documents re-emitted and new documents appended."""
    parts = []
    for chunk in yfile.chunks:
        if chunk.changed:
            body = _restore_lines(chunk.body, dump_document(chunk.doc, detect_indent(chunk.body)))
            parts.append(chunk.head + body + chunk.tail)
        else:
            parts.append(chunk.original)
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
