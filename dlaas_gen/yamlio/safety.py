"""Reject hostile or confusing YAML before it is composed into objects.

Why: the round-trip loader keeps aliases as shared references, but everything after it
(`yamlio.plain`, pydantic) copies them, so a "billion laughs" file of a few hundred bytes would
expand to gigabytes. Walking ruamel's event stream (which never expands anything) lets us
measure the expanded size, the nesting depth, merge keys, duplicate keys and extra documents,
and stop at the first hazard with its exact position.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
)

#: Nodes a document may expand to once every alias is replaced by what it names.
MAX_EXPANDED_NODES = 100_000
#: Nesting of mappings and sequences (a site file needs fewer than 10).
MAX_DEPTH = 64
#: Aliases in one file.
MAX_ALIASES = 256


@dataclass(frozen=True)
class Hazard:
    """One reason to refuse a YAML file, with its 1-based position."""

    line: int
    col: int
    message: str


@dataclass
class _Frame:
    anchor: str | None
    is_map: bool
    size: int = 1
    expect_key: bool = True
    keys: dict[str, int] | None = None


def tab_hazard(text: str) -> Hazard | None:
    """The first tab used for indentation (YAML forbids it; editors hide it)."""
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return Hazard(number, indent.index("\t") + 1,
                          "tab character in indentation; indent with spaces")
    return None


def scan(text: str, *, one_document: bool = True, fast: bool = False) -> Hazard | None:
    """Return the first hazard of `text`, or None when it is safe to compose.

    Checks, in stream order: nesting deeper than `MAX_DEPTH`, more than `MAX_ALIASES` aliases,
    an expansion beyond `MAX_EXPANDED_NODES` nodes, merge keys (``<<``), duplicate scalar keys,
    and (with `one_document`) a second non-empty document.

    With `fast`, events come from the C parser (ruamel.yaml.clib): same events and marks,
    several times faster, but its error messages differ from the pure parser's.

    Raises:
        ruamel.yaml.error.YAMLError: the text is not YAML (the caller reports the position).
    """
    found = tab_hazard(text)
    if found:
        return found
    scanner = _Scanner(one_document)
    parser = YAML(typ="safe", pure=False) if fast else YAML(typ="rt")
    for event in parser.parse(text):
        found = scanner.feed(event)
        if found:
            return found
    return None


#: Events that make or close a node (the others frame streams and documents).
_NODE_EVENTS = (AliasEvent, ScalarEvent, CollectionStartEvent, CollectionEndEvent)


class _Scanner:
    """The walk over one event stream: open collections, anchor sizes and the counts so far."""

    def __init__(self, one_document: bool) -> None:
        """Start a walk; with `one_document`, a second non-empty document is a hazard."""
        self.one_document = one_document
        self.sizes: dict[str, int] = {}
        self.stack: list[_Frame] = []
        self.expanded = self.aliases = self.documents = 0
        self.doc_mark: tuple[int, int] | None = None

    def feed(self, event: Event) -> Hazard | None:
        """Take the next event; the hazard it completes, if any."""
        mark = event.start_mark
        line, col = mark.line + 1, mark.column + 1
        if isinstance(event, DocumentStartEvent):
            self.doc_mark = (line, col)
            return None
        if not isinstance(event, _NODE_EVENTS):
            return None
        found = self._document(event, line, col)
        if found:
            return found
        if isinstance(event, CollectionEndEvent):
            self._close()
            return None
        found = _key_hazard(self.stack, event, line, col)
        if found:
            return found
        return self._node(event, line, col)

    def _document(self, event: Event, line: int, col: int) -> Hazard | None:
        """Count a top-level node as a document; the second one is a hazard."""
        if self.stack or isinstance(event, CollectionEndEvent):
            return None
        empty = isinstance(event, ScalarEvent) and event.value == "" and event.style is None
        self.documents += 0 if empty else 1
        if self.one_document and self.documents > 1:
            where = self.doc_mark or (line, col)
            return Hazard(*where, "a site file holds one YAML document; remove the "
                          "second one (and its '---')")
        return None

    def _close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.sizes[frame.anchor] = frame.size
        _add(self.stack, frame.size)

    def _node(self, event: Event, line: int, col: int) -> Hazard | None:
        """An alias, a scalar or a collection start: depth, alias count and expanded size."""
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                return Hazard(line, col, f"more than {MAX_ALIASES} aliases")
            size = self.sizes.get(event.anchor, 1)
        elif isinstance(event, ScalarEvent):
            size = 1
            if event.anchor:
                self.sizes[event.anchor] = 1
        else:
            if len(self.stack) >= MAX_DEPTH:
                return Hazard(line, col, f"nested deeper than {MAX_DEPTH} levels")
            is_map = isinstance(event, MappingStartEvent)
            assert isinstance(event, CollectionStartEvent)  # _NODE_EVENTS, not a scalar/alias/end
            self.stack.append(_Frame(event.anchor, is_map, keys={} if is_map else None))
            self.expanded += 1
            return None
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            return Hazard(line, col, f"aliases expand this file to more than {MAX_EXPANDED_NODES} "
                          "nodes (an alias bomb?); write the values out")
        _add(self.stack, size)
        return None


def _add(stack: list[_Frame], size: int) -> None:
    if stack:
        stack[-1].size += size


def _key_hazard(stack: list[_Frame], event: object, line: int, col: int) -> Hazard | None:
    """Merge keys and duplicate keys, for the event in key position of the innermost mapping."""
    if not stack or not stack[-1].is_map:
        return None
    frame = stack[-1]
    is_key = frame.expect_key
    frame.expect_key = not frame.expect_key
    if not is_key or not isinstance(event, ScalarEvent):
        return None
    if event.value == "<<" and event.style is None:
        return Hazard(line, col, "merge keys ('<<') are not supported; write the keys out")
    assert frame.keys is not None
    if event.value in frame.keys:
        return Hazard(line, col, f"duplicate key {event.value!r} (first at line "
                      f"{frame.keys[event.value]})")
    frame.keys[event.value] = line
    return None
