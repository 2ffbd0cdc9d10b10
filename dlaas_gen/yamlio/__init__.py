"""The only module that configures ruamel.yaml.

Why: one place decides how YAML is read (round-trip, duplicate keys rejected, positions kept)
and written (indent 2, dash offset 2, no key sorting, literal blocks for multi-line strings),
so the bytes in ``rendered/`` never depend on who called the dumper.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.tag import Tag

from dlaas_gen.yamlio.safety import MAX_DEPTH

__all__ = [
    "CommentedMap",
    "CommentedSeq",
    "dump_doc",
    "dump_docs",
    "load_fast",
    "load_fast_all",
    "load_roundtrip",
    "load_roundtrip_all",
    "load_simple",
    "NotSimple",
    "make_roundtrip",
    "plain",
    "position_of",
    "error_message",
]


def make_roundtrip() -> YAML:
    """Return a round-trip YAML instance that keeps comments, quotes and positions."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


@functools.lru_cache(maxsize=1)
def _make_fast() -> YAML:
    yaml = YAML(typ="safe", pure=False)  # C parser from ruamel.yaml.clib when installed
    yaml.allow_duplicate_keys = False
    return yaml


def load_fast(text: str) -> Any:
    """Parse one document into plain Python data, without positions (C parser).

    Why: round-trip parsing keeps comments and positions but is pure Python and ~10x slower;
    rendered output is re-parsed on every run, and positions are only needed for the rare
    problem (see `Manifest.locate`).
    """
    return _make_fast().load(text)


def load_fast_all(text: str) -> list[Any]:
    """Parse every document of a stream into plain Python data (C parser)."""
    return list(_make_fast().load_all(text))


def _events(text: str) -> Callable[[], Any]:
    """A function giving the next parse event of `text` (None at the end), from libyaml.

    Why: both parsers are libyaml, so the events are the same; ruamel.yaml wraps each event
    in Python code (version checks, its own event objects), which cost about 40% of reading a
    rendered object, so PyYAML's binding is used when it has libyaml. Only events are taken
    from PyYAML; resolving plain scalars stays with ruamel.yaml (YAML 1.2, `_plain_scalar`).
    """
    parser_class = _libyaml_parser()
    if parser_class is None:
        return functools.partial(next, iter(_make_fast().parse(text)), None)
    return cast(Callable[[], Any], parser_class(text).get_event)


@functools.lru_cache(maxsize=1)
def _libyaml_parser() -> Any:
    try:
        from yaml._yaml import CParser  # optional; imported on first read
    except ImportError:
        return None
    return CParser


class _Fallback(Exception):
    """The event stream holds something `load_rendered` leaves to the full loader."""


_NO_KEY = object()
#: The merge key (``<<: {...}``), which the full loader merges instead of keeping.
_MERGE = "<<"
#: Plain scalar text → the value ruamel resolves it to (only immutable results are kept).
_PLAIN: dict[str, Any] = {}
_IMMUTABLE = (str, int, float, bool, type(None))


def _plain_scalar(text: str) -> Any:
    value = _PLAIN.get(text, _NO_KEY)
    if value is _NO_KEY:
        if text and _is_text(text):
            value = text  # no YAML 1.2 type matches: ruamel gives the text itself
        else:
            value = load_fast(text) if text else None
        if not isinstance(value, _IMMUTABLE):
            raise _Fallback
        if len(_PLAIN) > 100_000:
            _PLAIN.clear()
        _PLAIN[text] = value
    return value


def _is_text(plain: str) -> bool:
    """True when ruamel.yaml resolves the plain scalar `plain` to a string (YAML 1.2).

    Why: resolving each new plain scalar with a whole load cost 0.1 ms, most of the reading of
    a two-site render; ruamel.yaml's resolver (``resolver.VersionedResolver.resolve``) tries
    the patterns registered for a scalar's first character and takes it for a string when none
    matches. The same patterns, from ruamel.yaml's own table, decide here; a scalar that
    matches one (a number, a boolean, a date) is still loaded by ruamel.yaml.
    """
    patterns = _implicit_patterns()
    if patterns is None:
        return False
    return not any(pattern.match(plain) for pattern in patterns.get(plain[0], ()))


@functools.lru_cache(maxsize=1)
def _implicit_patterns() -> dict[str, list[Any]] | None:
    """ruamel.yaml's YAML 1.2 implicit-type patterns by first character; None if any has none."""
    from ruamel.yaml.resolver import implicit_resolvers  # noqa: PLC0415 - its table, read once

    table: dict[str, list[Any]] = {}
    for versions, _tag, pattern, characters in implicit_resolvers:
        if (1, 2) in versions:
            if characters is None:
                return None
            for character in characters:
                table.setdefault(character, []).append(pattern)
    return table


class NotSimple(Exception):
    """`load_simple` met more than plain YAML (see there)."""


def load_simple(text: str) -> Any:
    """Parse one document of plain YAML fast, or raise `NotSimple`.

    Plain YAML has no anchors, aliases, tags, merge keys, duplicate or complex keys, no
    second document and no nesting deeper than `safety.MAX_DEPTH`, so nothing in it can
    expand or surprise; a caller sends anything else to its careful path.

    Raises:
        NotSimple: the text is not plain YAML.
        ruamel.yaml.error.YAMLError: the text is not YAML.
    """
    try:
        return _from_events(_events(text))
    except _Fallback:
        raise NotSimple from None
    except Exception:  # noqa: BLE001 - PyYAML's errors are not ruamel's: the full loader's
        load_fast(text)
        raise NotSimple from None


def load_rendered(text: str) -> Any:
    """Parse one rendered document fast: C parser events, plain scalars resolved once each.

    Why: re-reading every rendered object is required (it proves the output is YAML), and
    ruamel's Python constructor was the largest single cost of rendering a fleet. Rendered
    output is simple (no anchors, aliases or tags); anything else, and any error, goes to
    `load_fast`, and a test checks both give identical data.
    """
    try:
        return load_simple(text)  # on bad YAML it raises the full loader's error
    except NotSimple:
        return load_fast(text)


class _Builder:
    """Plain data from one document's events; raises `_Fallback` for anything but plain YAML."""

    __slots__ = ("documents", "keys", "root", "stack")

    def __init__(self) -> None:
        """Start with no document."""
        self.stack: list[Any] = []
        self.keys: list[Any] = []
        self.root: Any = _NO_KEY
        self.documents = 0

    def add(self, value: Any) -> None:
        """Put a finished value into the open collection (or make it the document)."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if type(top) is list:
            top.append(value)
        elif self.keys[-1] is _NO_KEY:
            if not isinstance(value, _IMMUTABLE) or value in top or value == _MERGE:
                raise _Fallback
            self.keys[-1] = value
        else:
            top[self.keys[-1]] = value
            self.keys[-1] = _NO_KEY

    def scalar(self, event: Any) -> None:
        """A scalar: plain ones resolved (``true``, ``1``), quoted ones kept as text."""
        if event.anchor or event.tag is not None:
            raise _Fallback
        plain = event.implicit[0] and not event.style
        self.add(_plain_scalar(event.value) if plain else event.value)

    def start(self, event: Any) -> None:
        """A mapping or a sequence opens."""
        if event.anchor or event.tag is not None or len(self.stack) >= MAX_DEPTH:
            raise _Fallback
        self.stack.append({} if type(event).__name__ == "MappingStartEvent" else [])
        self.keys.append(_NO_KEY)

    def end(self, _event: Any) -> None:
        """The open collection closes."""
        self.keys.pop()
        self.add(self.stack.pop())

    def document(self, _event: Any) -> None:
        """A document starts; a second one is left to the full loader."""
        self.documents += 1
        if self.documents > 1:
            raise _Fallback

    def alias(self, _event: Any) -> None:
        """Aliases are left to the full loader."""
        raise _Fallback


#: Event class name → what the builder does with it (the others carry no data).
_HANDLERS: dict[str, Any] = {
    "ScalarEvent": _Builder.scalar,
    "MappingStartEvent": _Builder.start,
    "SequenceStartEvent": _Builder.start,
    "MappingEndEvent": _Builder.end,
    "SequenceEndEvent": _Builder.end,
    "DocumentStartEvent": _Builder.document,
    "AliasEvent": _Builder.alias,
}


def _from_events(next_event: Callable[[], Any]) -> Any:
    builder = _Builder()
    handlers = _HANDLERS
    event = next_event()
    while event is not None:
        handler = handlers.get(type(event).__name__)
        if handler is not None:
            handler(builder, event)
        event = next_event()
    return None if builder.root is _NO_KEY else builder.root


def load_roundtrip(text: str) -> Any:
    """Parse one YAML document keeping positions (raises ruamel errors on bad YAML)."""
    return make_roundtrip().load(text)


def load_roundtrip_all(text: str) -> list[Any]:
    """Parse every document of a YAML stream keeping positions."""
    return list(make_roundtrip().load_all(text))


#: Strings a YAML 1.1 reader (Go's yaml.v2, used by Kubernetes tooling) takes for booleans or
#: null; they are always quoted so every consumer reads them as strings.
_YAML11_SPECIAL = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL)$"
)


def _represent_str(representer: Any, data: str) -> Any:
    if "\n" in data and not data.startswith((" ", "\t")):
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if _YAML11_SPECIAL.match(data):
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return representer.represent_str(data)


@functools.lru_cache(maxsize=1)
def _make_dumper() -> YAML:
    r"""The manifest dumper: block style, insertion order, literal blocks, C emitter.

    Why the safe C emitter rather than round-trip: dumping was most of the render time; the
    C emitter is ~7x faster and its output is as deterministic (sequences are written
    indentless, ``key:\n- item``, as kubectl does).
    """
    yaml = YAML(typ="safe", pure=False)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.allow_unicode = True
    yaml.representer.sort_base_mapping_type_on_output = False
    return yaml


class _Representer(SafeRepresenter):
    """ruamel.yaml's safe representer with one `Tag` per tag name, and our `str` rule.

    Why: the base class makes a new `Tag` for every node, and each one decodes its name
    character by character when the emitter reads it: 40% of a dump. A tag is only read
    while dumping, so one shared, already-decoded `Tag` per name gives the same output.
    """

    def represent_scalar(self, tag: Any, value: Any, style: Any = None,
                         anchor: Any = None) -> Any:
        """As the base class, with the shared tag."""
        return super().represent_scalar(_tag(tag), value, style=style, anchor=anchor)

    def represent_sequence(self, tag: Any, sequence: Any, flow_style: Any = None) -> Any:
        """As the base class, with the shared tag."""
        return super().represent_sequence(_tag(tag), sequence, flow_style=flow_style)

    def represent_mapping(self, tag: Any, mapping: Any, flow_style: Any = None) -> Any:
        """As the base class, with the shared tag."""
        return super().represent_mapping(_tag(tag), mapping, flow_style=flow_style)


_Representer.add_representer(str, _represent_str)


@functools.lru_cache(maxsize=64)
def _shared_tag(name: str) -> Tag:
    tag = Tag(suffix=name)
    tag.trval  # noqa: B018 - decoded once, here
    return tag


def _tag(tag: Any) -> Any:
    return _shared_tag(tag) if isinstance(tag, str) else tag


def dump_doc(doc: Any) -> str:
    """Serialise one document deterministically (trailing newline, no ``---``)."""
    stream = io.StringIO()
    _make_dumper().dump(plain(doc), stream)
    return stream.getvalue()


def dump_docs(docs: Iterable[Any]) -> str:
    """Serialise several documents separated by ``---``."""
    return "---\n".join(dump_doc(doc) for doc in docs)


def plain(value: Any) -> Any:
    """Return `value` with ruamel containers and scalar subclasses turned into builtins."""
    if isinstance(value, dict):
        return {k if isinstance(k, (int, float, bool)) else str(k): plain(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def position_of(node: Any, loc: Iterable[Any], *, value: bool = False) -> tuple[int, int]:
    """Return the 1-based (line, col) of the deepest existing node along `loc`.

    Why: pydantic and jsonschema report paths, users want positions. A missing key is reported
    at its parent key, which is where the user has to add it. With `value`, a path that exists
    to its end points at the value (where a wrong value must be fixed) instead of the key.
    """
    line, col = _own_position(node)
    current = node
    keys = list(loc)
    for index, key in enumerate(keys):
        if isinstance(current, CommentedMap) and key in current:
            at_value = value and index == len(keys) - 1
            pos = _lc(current.lc.value if at_value else current.lc.key, key)
            if pos is not None:
                line, col = pos[0] + 1, pos[1] + 1
            current = current[key]
        elif isinstance(current, CommentedSeq) and isinstance(key, int) and 0 <= key < len(current):
            pos = _lc(current.lc.item, key)
            if pos is not None:
                line, col = pos[0] + 1, pos[1] + 1
            current = current[key]
        else:
            break
    return line, col


def _own_position(node: Any) -> tuple[int, int]:
    """Where a parsed container starts (1, 1 for anything without a position)."""
    lc = getattr(node, "lc", None)
    line, col = getattr(lc, "line", None), getattr(lc, "col", None)
    if isinstance(line, int) and isinstance(col, int):
        return line + 1, col + 1
    return 1, 1


def _lc(lookup: Any, key: Any) -> tuple[int, int] | None:
    """A ruamel line/column look-up that returns None for nodes added after parsing.

    Why: ``lc.key()`` raises KeyError for a key inserted by code (migrate, defaults); the
    caller then keeps the parent's position, which is the nearest place that exists in the file.
    """
    try:
        pos = lookup(key)
    except (KeyError, IndexError, TypeError):
        return None
    if not pos or pos[0] is None or pos[1] is None:
        return None
    return pos[0], pos[1]


DUPLICATE_KEY = re.compile(r'found duplicate key "(?P<key>.*?)" with value')


def error_message(exc: Any) -> str:
    """A one-line message for a ruamel error that never quotes a value from the file.

    Why: ruamel's duplicate-key message repeats both values, and a duplicated key may be a
    Secret's ``data`` entry; only the key is safe to print.
    """
    problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
    match = DUPLICATE_KEY.search(problem)
    if match or "duplicate key" in problem:
        key = match.group("key") if match else ""
        return f"duplicate key {key!r}" if key else "duplicate key"
    return problem
