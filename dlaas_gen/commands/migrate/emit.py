"""Re-emit a changed document so that only the edited fields change bytes.

Why: dumping a whole document with ruamel rewrites what it cannot round-trip exactly (``True``
becomes ``true``, ``null`` an empty value, folded and multi-line plain scalars are joined,
mixed-style lists are re-indented, trailing spaces and whitespace-only comment lines vanish).
So the migrated document is compared with a fresh parse of its original text, map by map and list
by list: an unchanged entry keeps its original lines; only a changed or new entry is dumped on its
own (and even then, each of its lines equal to an original one keeps the original bytes). A
removed entry leaves its comments behind, so a comment above or after it stays in place, and its
end-of-line comment moves to a line of its own.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.tokens import CommentToken

from dlaas_gen.yamlio import make_roundtrip

_EOL_COMMENT = re.compile(r"[ \t]#")


class _Fallback(Exception):
    """The original layout is not one this module can map (flow style, odd positions)."""


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _comment_of(line: str) -> str | None:
    """The comment text of a line (full-line or end-of-line), None when it has none."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return stripped
    for match in _EOL_COMMENT.finditer(line):
        before = line[: match.start()]
        if before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
            return line[match.start() + 1:].strip()
    return None


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def dump(node: Any, indent: tuple[int, int, int]) -> list[str]:
    """Dump `node` with ruamel round-trip; return its lines (no line ends)."""
    yaml = make_roundtrip()
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    stream = io.StringIO()
    yaml.dump(node, stream)
    return stream.getvalue().splitlines()


def _tokens(slot: Any) -> Iterable[Any]:
    if isinstance(slot, CommentToken):
        yield slot
    elif isinstance(slot, list):
        for item in slot:
            yield from _tokens(item)


def _comment_tokens(node: Any) -> Iterable[Any]:
    """Every comment token attached to `node` and its descendants."""
    ca = getattr(node, "ca", None)
    if ca is not None:
        yield from _tokens(list(ca.items.values()))
        yield from _tokens(ca.comment)
        yield from _tokens(getattr(ca, "end", None))
    if isinstance(node, dict):
        for value in node.values():
            yield from _comment_tokens(value)
    elif isinstance(node, list):
        for value in node:
            yield from _comment_tokens(value)


@contextlib.contextmanager
def _shifted(node: Any, delta: int) -> Iterator[None]:
    """Move end-of-line comment columns by `delta` while `node` is dumped on its own."""
    saved = []
    for token in _comment_tokens(node):
        try:
            saved.append((token, token.column))
            token.column = max(0, token.column + delta)
        except AttributeError:  # a token built without a mark
            continue
    try:
        yield
    finally:
        for token, column in saved:
            token.column = column


def _flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return bool(fa is not None and fa.flow_style())


def same(new: Any, old: Any) -> bool:
    """True when two parsed values are equal in value, type and layout-relevant style."""
    if type(new) is not type(old):
        return False
    if isinstance(new, CommentedMap):
        return (_flow(new) == _flow(old) and list(new) == list(old)
                and all(same(new[k], old[k]) for k in new))
    if isinstance(new, CommentedSeq):
        return (_flow(new) == _flow(old) and len(new) == len(old)
                and all(same(a, b) for a, b in zip(new, old, strict=True)))
    try:
        return bool(new == old)
    except Exception:  # noqa: BLE001 - odd scalar types compare as different
        return False


def _line_key(line: str) -> str:
    """Comparison key of a line.

    Comment indentation and the blanks before an end-of-line comment do not count (they carry
    no meaning); neither does a tab escape.
    """
    stripped = line.strip()
    if stripped.startswith("#"):
        return stripped
    comment = _comment_of(line)
    if comment:
        line = line[: line.rindex(comment)].rstrip() + " " + comment
    # ruamel escapes tabs in double-quoted scalars; the original tab is the same value.
    return line.rstrip().replace("\\t", "\t")


def _item_key(node: Any) -> str:
    """A hashable key of a list item's value (type included) for aligning two lists."""
    if isinstance(node, dict):
        return "{" + ",".join(f"{k!r}:{_item_key(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_item_key(v) for v in node) + "]"
    return f"{type(node).__name__}:{node!r}"


def restore(old: list[str], new: list[str]) -> list[str]:
    """Return `new` with the lines of `old` put back where they belong.

    Every line equal to an `old` line (see `_line_key`) is taken from `old`, and the comment
    and blank lines of `old` that `new` lost are put back in place (an end-of-line comment of a
    dropped line becomes a line of its own).
    """
    key = _line_key

    lost = Counter(c for c in map(_comment_of, old) if c) - Counter(
        c for c in map(_comment_of, new) if c)
    blanks = sum(1 for ln in old if not ln.strip()) - sum(1 for ln in new if not ln.strip())
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, [key(ln) for ln in old], [key(ln) for ln in new],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(old[i1:i2])
            continue
        out.extend(new[j1:j2])
        for line in old[i1:i2]:
            comment = _comment_of(line)
            if not line.strip():
                if blanks > 0:
                    blanks -= 1
                    out.append(line)
            elif comment and lost[comment] > 0:
                lost[comment] -= 1
                out.append(line if line.lstrip().startswith("#")
                           else " " * _indent_of(line) + comment)
    return out


class Emitter:
    """Builds the new text of one document body from its original lines."""

    def __init__(self, body: str, indent: tuple[int, int, int]):
        """`body`: the document's original text; `indent`: its (mapping, sequence, offset)."""
        self.lines = body.split("\n")
        self.indent = indent

    # -- entry dumps ------------------------------------------------------------------------

    def _place(self, dumped: list[str], col: int) -> list[str]:
        if not dumped:
            return []
        strip = _indent_of(dumped[0])
        out = []
        for line in dumped:
            cut = line[strip:] if line[:strip].strip() == "" else line.lstrip(" ")
            out.append(" " * col + cut if cut else "")
        return out

    def _dump_entry(self, parent: CommentedMap, key: Any, col: int,
                    old: list[str] | None) -> list[str]:
        single = CommentedMap()
        single[key] = parent[key]
        if key in parent.ca.items:
            single.ca.items[key] = parent.ca.items[key]
        with _shifted(single, -col):
            lines = self._place(dump(single, self.indent), col)
        return restore(old, lines) if old is not None else lines

    def _dump_item(self, parent: CommentedSeq, index: int, col: int,
                   old: list[str] | None) -> list[str]:
        single = CommentedSeq([parent[index]])
        if index in parent.ca.items:
            single.ca.items[0] = parent.ca.items[index]
        with _shifted(single, -col):
            lines = self._place(dump(single, self.indent), col)
        return restore(old, lines) if old is not None else lines

    def _kept(self, span: list[str]) -> list[str]:
        """Comment and blank lines of a removed entry (end-of-line comments on their own)."""
        out = []
        for line in span:
            comment = _comment_of(line)
            if not line.strip() or line.lstrip().startswith("#"):
                out.append(line)
            elif comment:
                out.append(" " * _indent_of(line) + comment)
        return out

    # -- structure ----------------------------------------------------------------------------

    def document(self, new: Any, old: Any) -> str:
        """Return the new body text."""
        if not (isinstance(new, CommentedMap) and isinstance(old, CommentedMap)) or _flow(old):
            raise _Fallback
        if not old:
            raise _Fallback
        first = old.lc.key(next(iter(old)))[0]
        end = len(self.lines)
        trailing_newline = self.lines and self.lines[-1] == ""
        if trailing_newline:
            end -= 1
        out = self.lines[:first] + self._map(new, old, first, end, None)
        return "\n".join(out) + ("\n" if trailing_newline else "")

    def _positions(self, old: CommentedMap, start: int, end: int) -> list[tuple[Any, int, int]]:
        keys = list(old)
        out = []
        previous = start - 1
        for key in keys:
            try:
                line, col = old.lc.key(key)
            except (KeyError, TypeError):
                raise _Fallback from None
            if line < start or line >= end or line < previous:
                raise _Fallback
            previous = line
            out.append((key, line, col))
        if len({col for _, _, col in out}) != 1:
            raise _Fallback
        return out

    def _map(self, new: CommentedMap, old: CommentedMap, start: int, end: int,
             prefix: str | None) -> list[str]:
        positions = self._positions(old, start, end)
        col = positions[0][2]
        spans = {}
        for i, (key, line, _) in enumerate(positions):
            stop = positions[i + 1][1] if i + 1 < len(positions) else end
            spans[key] = (line, stop)
        old_keys = [k for k, _, _ in positions]
        survivors = [k for k in new if k in spans]
        if survivors != [k for k in old_keys if k in new]:
            raise _Fallback  # reordered keys
        pieces: list[tuple[str, list[str]]] = []
        pending = [k for k in old_keys if k not in new]
        old_iter = iter(old_keys)

        def flush_deleted(until: Any) -> None:
            for k in old_iter:
                if k == until:
                    return
                if k in pending:
                    a, b = spans[k]
                    pieces.append(("deleted", self.lines[a:b]))

        for key in new:
            if key in spans:
                flush_deleted(key)
                a, b = spans[key]
                pieces.append(self._entry(new, old, key, col, a, b))
            else:
                pieces.append(("dumped", self._dump_entry(new, key, col, None)))
        flush_deleted(object())
        lines = self._merge(pieces)
        return self._with_prefix(lines, col, prefix)

    def _entry(self, new: CommentedMap, old: CommentedMap, key: Any, col: int, a: int, b: int
               ) -> tuple[str, list[str]]:
        nv, ov = new[key], old[key]
        span = self.lines[a:b]
        if same(nv, ov):
            return "verbatim", span
        try:
            if (isinstance(nv, CommentedMap) and isinstance(ov, CommentedMap) and nv and ov
                    and not _flow(ov) and not _flow(nv)):
                first = ov.lc.key(next(iter(ov)))[0]
                if first > a:
                    return "nested", (self.lines[a:first]
                                      + self._map(nv, ov, first, b, None))
            if (isinstance(nv, CommentedSeq) and isinstance(ov, CommentedSeq) and nv and ov
                    and not _flow(ov) and not _flow(nv)):
                first = self._dash_line(ov, 0)
                if first > a:
                    return "nested", (self.lines[a:first] + self._seq(nv, ov, first, b))
        except _Fallback:
            pass
        return "dumped", self._dump_entry(new, key, col, span)

    def _dash_line(self, seq: CommentedSeq, index: int) -> int:
        line, col = seq.lc.item(index)
        text = self.lines[line] if line < len(self.lines) else ""
        head = text[:col].rstrip()
        if not head.endswith("-"):
            raise _Fallback
        return line

    def _dash_col(self, seq: CommentedSeq, index: int) -> int:
        line, col = seq.lc.item(index)
        return len(self.lines[line][:col].rstrip()) - 1

    def _seq(self, new: CommentedSeq, old: CommentedSeq, start: int, end: int) -> list[str]:
        starts = [self._dash_line(old, i) for i in range(len(old))]
        if starts[0] != start or starts != sorted(starts) or len(set(starts)) != len(starts):
            raise _Fallback
        dash = self._dash_col(old, 0)
        spans = [(s, starts[i + 1] if i + 1 < len(starts) else end) for i, s in enumerate(starts)]
        pieces: list[tuple[str, list[str]]] = []
        matcher = difflib.SequenceMatcher(None, [_item_key(x) for x in old],
                                          [_item_key(x) for x in new], autojunk=False)
        for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
            pairs = list(zip(range(i1, i2), range(j1, j2), strict=False))
            for i, j in pairs:
                pieces.append(self._item(new, old, j, i, spans[i], dash))
            for i in range(i1 + len(pairs), i2):
                pieces.append(("deleted", self.lines[spans[i][0]:spans[i][1]]))
            for j in range(j1 + len(pairs), j2):
                pieces.append(("dumped", self._dump_item(new, j, dash, None)))
        return self._merge(pieces)

    def _item(self, new: CommentedSeq, old: CommentedSeq, j: int, i: int,
              span_range: tuple[int, int], dash: int) -> tuple[str, list[str]]:
        a, b = span_range
        span = self.lines[a:b]
        nv, ov = new[j], old[i]
        if same(nv, ov):
            return "verbatim", span
        line, col = old.lc.item(i)
        if (isinstance(nv, CommentedMap) and isinstance(ov, CommentedMap) and nv and ov
                and not _flow(nv) and not _flow(ov) and line == a):
            try:
                return "nested", self._map(nv, ov, a, b, self.lines[a][:col])
            except _Fallback:
                pass
        return "dumped", self._dump_item(new, j, dash, span)

    def _merge(self, pieces: Iterable[tuple[str, list[str]]]) -> list[str]:
        """Join pieces; comments of removed entries are kept unless a dumped piece has them."""
        pieces = list(pieces)
        present = Counter(c for kind, lines in pieces if kind == "dumped"
                          for c in map(_comment_of, lines) if c)
        out: list[str] = []
        for kind, lines in pieces:
            if kind != "deleted":
                out.extend(lines)
                continue
            for line in self._kept(lines):
                comment = _comment_of(line)
                if comment and present[comment] > 0:
                    present[comment] -= 1
                    continue
                out.append(line)
        return out

    def _with_prefix(self, lines: list[str], col: int, prefix: str | None) -> list[str]:
        """Give the first content line of a list item its ``- ``.

        The item's first key, which carried the dash, may have been removed or dumped.
        """
        if prefix is None:
            return lines
        for i, line in enumerate(lines):
            if _is_filler(line):
                continue
            if line.startswith(prefix):
                return lines
            if _indent_of(line) >= col:
                lines[i] = prefix + line[col:]
                return lines
            raise _Fallback
        raise _Fallback


def emit_changed(body: str, new: Any, old: Any, indent: tuple[int, int, int]) -> str:
    """Return the new text of a document body (LF line ends).

    Args:
        body: the document's original text.
        new: the migrated document (ruamel round-trip).
        old: a fresh parse of `body` (positions of the original layout).
        indent: ``(mapping, sequence, offset)`` for the parts that are dumped.
    """
    try:
        return Emitter(body, indent).document(new, old)
    except _Fallback:
        dumped = dump(new, indent)
        text = "\n".join(restore(body.split("\n")[:-1] if body.endswith("\n")
                                 else body.split("\n"), dumped))
        return text + ("\n" if body.endswith("\n") else "")
