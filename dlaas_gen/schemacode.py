"""Fast "is this document valid?" functions, compiled from JSON schemas and cached on disk.

Why: jsonschema costs 6 to 8 ms of every rendered site (issue 16); Python code generated from
the schema by fastjsonschema answers "valid" about ten times faster. It only ever answers yes
or no: a document it does not accept is checked again by jsonschema, which reports the errors,
so messages, their order and their places never change, and a stricter answer here can only
cost time.

The recipe (`prepare`), so that "valid" here means what it means to jsonschema as dlaas-gen
calls it (no format checker):

- only keywords whose meaning was compared with jsonschema's are compiled (`_PLAIN`,
  `_SCHEMA_MAPS`, `_SCHEMAS`, `_SCHEMA_LISTS`, ``$ref``); a schema that uses another keyword
  either implementation acts on gets no compiled function (jsonschema alone checks it).
  Annotations (``description``, ``default``, ``x-kubernetes-*``, ...) and ``format`` are left
  out of the compiled copy: jsonschema does not check ``format`` without a format checker;
- every ``$ref`` (also into another document, as kubernetes-validate's ``_definitions.json``)
  is resolved here and its target copied under ``$defs/r<N>``: only reachable definitions are
  compiled, and the generated function names cannot collide. A ``$ref`` beside other keywords
  means "both" in draft 2020-12 (``allOf``) and "only the ``$ref``" in draft 7, as in
  jsonschema;
- fastjsonschema's options: ``use_default=False`` (it would otherwise write defaults into the
  document), ``use_formats=False``, ``detailed_exceptions=False`` (the message is never used);
  its "array" is a list only, as jsonschema's (fastjsonschema also takes a tuple).

A compiled function is used when it is in the cache (`cache_dir`) or when compiling is allowed
(inside `compiling`, which `dlaas_gen.pipeline.build_sites` enters for a fleet, so a render of
two sites never pays the 0.1 to 0.2 s per workload kind). Entries are `marshal` data of the
compiled code, keyed by a SHA-256 over the schema's content, fastjsonschema's version, the
Python version and `RECIPE`; ``DLAAS_GEN_NO_CACHE=1`` keeps everything in memory.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import marshal
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from dlaas_gen.atomicfile import store_entry
from dlaas_gen.resources import caches_enabled, user_cache_dir

__all__ = ["DRAFT7", "DRAFT202012", "RECIPE", "Check", "Unsupported", "cache_dir", "cache_key",
           "checker", "compiling", "content_digest", "json_digest", "prepare"]

#: The drafts the callers validate with (jsonschema's ``Draft7Validator`` and
#: ``Draft202012Validator``).
DRAFT7 = "http://json-schema.org/draft-07/schema#"
DRAFT202012 = "https://json-schema.org/draft/2020-12/schema"
#: The ``$schema`` that selects fastjsonschema's generator for each: it has no 2020-12 one; its
#: 2019-09 generator means the same for the compiled keywords (``items`` as one schema).
_GENERATOR = {DRAFT7: DRAFT7, DRAFT202012: "https://json-schema.org/draft/2019-09/schema"}

#: Changes whenever `prepare`, the options or the entry format change (part of the key).
RECIPE = "dlaas-gen-schemacode-1"
_MAGIC = b"dlaas-gen schemacode 1\n"

#: True when the document is valid; False means "ask jsonschema".
Check = Callable[[Any], bool]
#: The root schema, and the other documents its ``$ref`` may name, by their ``$id``.
Schema = tuple[Mapping[str, Any], Mapping[str, Mapping[str, Any]]]

# Keywords compiled, compared with jsonschema 4 for drafts 7 and 2020-12: assertions on the
# value itself, subschemas by name, one subschema, lists of subschemas.
_PLAIN = frozenset({"type", "enum", "const", "required", "minLength", "maxLength", "pattern",
                    "minimum", "maximum", "minItems", "maxItems", "minProperties",
                    "maxProperties"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
_SCHEMAS = frozenset({"additionalProperties", "items", "not", "if", "then", "else"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SUBSCHEMAS = _SCHEMA_MAPS | _SCHEMAS | _SCHEMA_LISTS
#: Left out of the compiled copy: the draft is set by `_GENERATOR`, definitions are copied when
#: a ``$ref`` reaches them, and jsonschema as used here checks no ``format``.
_DROPPED = frozenset({"$schema", "$defs", "definitions", "format"})
#: Keywords jsonschema or fastjsonschema act on whose meanings were not compared: a schema
#: using one is left to jsonschema.
_UNVERIFIED = frozenset({
    "$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveAnchor", "$recursiveRef",
    "$vocabulary", "additionalItems", "contains", "contentEncoding", "contentMediaType",
    "contentSchema", "dependencies", "dependentRequired", "dependentSchemas", "exclusiveMaximum",
    "exclusiveMinimum", "maxContains", "minContains", "multipleOf", "prefixItems",
    "propertyNames", "unevaluatedItems", "unevaluatedProperties", "uniqueItems"})


class Unsupported(Exception):
    """The schema uses something `prepare` does not compile (jsonschema alone checks it)."""


# --- the recipe ------------------------------------------------------------------------------


class _Preparer:
    """One run of `prepare`: the references met so far and the targets still to copy."""

    def __init__(self, root: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]],
                 draft: str) -> None:
        self.draft = draft
        self.base = urldefrag(str(root.get("$id", "")))[0]
        self.documents = {urldefrag(uri)[0]: doc for uri, doc in documents.items()}
        self.documents[self.base] = root
        self.roots = {id(doc) for doc in self.documents.values()}
        self.names: dict[tuple[str, str], str] = {}
        self.pending: list[tuple[str, str]] = []

    def run(self, root: Mapping[str, Any]) -> dict[str, Any]:
        top = self.schema(root, self.base)
        prepared: dict[str, Any] = ({} if top else {"not": {}}) if isinstance(top, bool) else top
        definitions = {}
        while self.pending:
            uri, pointer = self.pending.pop()
            definitions[self.names[uri, pointer]] = self.schema(self.resolve(uri, pointer), uri)
        prepared = {"$schema": _GENERATOR[self.draft], **prepared}
        if definitions:
            prepared["$defs"] = definitions
        return prepared

    def ref(self, ref: Any, base: str) -> str:
        """The name of a reference's copied target (``#/$defs/r<N>``), queued on first sight."""
        if not isinstance(ref, str):
            raise Unsupported(f"$ref {ref!r}")
        uri, pointer = urldefrag(urljoin(base, ref))
        if uri not in self.documents or (pointer and not pointer.startswith("/")):
            raise Unsupported(f"$ref {ref!r} (not in the given documents, or an anchor)")
        name = self.names.get((uri, pointer))
        if name is None:
            name = self.names[uri, pointer] = f"r{len(self.names)}"
            self.pending.append((uri, pointer))
        return f"#/$defs/{name}"

    def resolve(self, uri: str, pointer: str) -> Any:
        """The target of a JSON pointer in one of the documents (as ``referencing`` reads it)."""
        node: Any = self.documents[uri]
        for segment in unquote(pointer).split("/")[1:] if pointer else []:
            if isinstance(node, list):
                try:
                    node = node[int(segment)]
                except (ValueError, IndexError):
                    raise Unsupported(f"$ref {uri}#{pointer}") from None
                continue
            key = segment.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or key not in node:
                raise Unsupported(f"$ref {uri}#{pointer}")
            node = node[key]
            if isinstance(node, Mapping) and "$id" in node:
                raise Unsupported(f"$ref {uri}#{pointer} passes an $id")  # another base URI
        return node

    def schema(self, node: Any, base: str) -> Any:
        """The compiled copy of one (sub)schema: verified keywords only, references renamed."""
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            raise Unsupported(f"schema {node!r}")
        if "$ref" in node:
            return self.with_ref(node, base)
        if "$id" in node and id(node) not in self.roots:
            raise Unsupported("$id below the root")  # another base URI for the $refs inside
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _UNVERIFIED:
                raise Unsupported(f"keyword {key}")
            if key in _PLAIN:
                out[key] = python_end_anchors(value) if key == "pattern" and isinstance(
                    value, str) else copy.deepcopy(value)
            elif key in _SUBSCHEMAS:
                out[key] = self.subschemas(key, value, base)
            # anything else ($id, _DROPPED, annotations) is left out
        if "const" in out:
            # The same test as a one-value enum in both implementations; fastjsonschema fails
            # to generate ``const`` without detailed exceptions (a KeyError in 2.22.3).
            out["allOf"] = [*out.get("allOf", []), {"enum": [out.pop("const")]}]
        return out

    def with_ref(self, node: Mapping[str, Any], base: str) -> dict[str, Any]:
        """The compiled copy of a schema with a ``$ref`` (and maybe other keywords)."""
        target = {"$ref": self.ref(node["$ref"], base)}
        if self.draft == DRAFT7:  # jsonschema ignores the siblings of $ref before 2019-09
            return target
        rest = self.schema({k: v for k, v in node.items() if k != "$ref"}, base)
        return {"allOf": [target, rest]} if rest else target

    def subschemas(self, key: str, value: Any, base: str) -> Any:
        """The compiled copy of the subschemas under one keyword."""
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            return {name: self.schema(sub, base) for name, sub in value.items()}
        if key in _SCHEMA_LISTS and isinstance(value, list):
            return [self.schema(sub, base) for sub in value]
        if key in _SCHEMAS and not (key == "items" and isinstance(value, list)):
            return self.schema(value, base)  # items as a list: prefixItems in 2020-12
        raise Unsupported(f"{key}: {value!r}")


def python_end_anchors(pattern: str) -> str:
    r"""`pattern` with each end anchor ``$`` written as ``(?=\n?\Z)``, its meaning in Python.

    Why: jsonschema runs ``re.search(pattern, value)``, where ``$`` also matches before a final
    newline; fastjsonschema turns every unescaped ``$`` into ``\Z`` (not before a newline), even
    inside a character class, where it is a literal ``$`` (escaped here).

    Raises:
        Unsupported: inline flags ``m`` or ``x``, which change what ``$`` is.
    """
    if re.search(r"\(\?[aiLmsux-]*[mx]", pattern):
        raise Unsupported(f"pattern {pattern!r} (inline flags)")
    out: list[str] = []
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
        elif char == "[":  # a class: to its closing bracket (one right after [ or [^ is literal)
            end = index + 1
            end += pattern.startswith("^", end)
            end += pattern.startswith("]", end)
            while end < size and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            out.append(re.sub(r"(\\.)|\$", lambda m: m.group(1) or "\\$",
                              pattern[index:end + 1], flags=re.DOTALL))
            index = end + 1
        else:
            out.append(r"(?=\n?\Z)" if char == "$" else char)
            index += 1
    return "".join(out)


def prepare(root: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]],
            draft: str) -> dict[str, Any]:
    """The schema fastjsonschema compiles for `root` (validated by jsonschema with `draft`).

    `documents` are the other schemas its ``$ref`` may name, by URI (their ``$id``). The
    arguments are not changed.

    Raises:
        Unsupported: a keyword or reference the recipe does not compile.
    """
    if draft not in _GENERATOR:
        raise Unsupported(f"draft {draft}")
    return _Preparer(root, documents, draft).run(root)


@contextlib.contextmanager
def _arrays_are_lists() -> Iterator[None]:
    """The "array" type of fastjsonschema as jsonschema's: a list (it also takes a tuple)."""
    from fastjsonschema import draft04

    table = draft04.JSON_TYPE_TO_PYTHON_TYPE
    saved = table["array"]
    table["array"] = "list"
    try:
        yield
    finally:
        table["array"] = saved


def _generate(prepared: Mapping[str, Any]) -> types.CodeType:
    """The compiled module of a prepared schema (its function ``validate``)."""
    import fastjsonschema

    with _arrays_are_lists():
        source = fastjsonschema.compile_to_code(
            dict(prepared),  # a fresh copy from `prepare`: its resolver rewrites $refs in place
            use_default=False, use_formats=False, detailed_exceptions=False)
    return compile(source, "<dlaas-gen schemacode>", "exec")


def _function(code: types.CodeType) -> Check:
    """Run a compiled module; its ``validate`` wrapped to answer True (valid) or False."""
    namespace: dict[str, Any] = {"__name__": f"{__name__}.generated"}
    exec(code, namespace)  # our own generated code, from memory or our cache folder
    validate = namespace.get("validate")
    if not callable(validate):
        raise ValueError("no validate function in the compiled module")

    def check(doc: Any) -> bool:
        try:
            validate(doc)
        except Exception:  # noqa: BLE001 - any failure means "ask jsonschema"
            return False
        return True

    return check


# --- keys and the cache folder ---------------------------------------------------------------


def content_digest(*parts: bytes) -> str:
    """SHA-256 of byte strings (each length-prefixed): the content a schema is made from."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def json_digest(value: Any) -> str:
    """SHA-256 of a schema's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=True)
    return content_digest(text.encode("utf-8", "surrogatepass"))


@functools.lru_cache(maxsize=1024)
def cache_key(digest: str, draft: str) -> str:
    """The cache key of a schema's content digest: also the recipe, fastjsonschema, Python."""
    import fastjsonschema

    parts = (RECIPE, fastjsonschema.VERSION, sys.version, sys.implementation.cache_tag or "",
             draft, digest)
    return content_digest(*(p.encode() for p in parts))


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dlaas-gen/schemas`` (else ``~/.cache``)."""
    return user_cache_dir() / "schemas"


def _entry(key: str) -> Path:
    return cache_dir() / f"{key}.code"


def _read(key: str) -> types.CodeType | None:
    """The stored code of `key`; None when absent, damaged, or stored for another key."""
    try:
        data = _entry(key).read_bytes()
    except OSError:
        return None
    head = _MAGIC + key.encode() + b"\n"
    checksum, newline = data[len(head):len(head) + 64], data[len(head) + 64:len(head) + 65]
    payload = data[len(head) + 65:]
    if (not data.startswith(head) or newline != b"\n"
            or hashlib.sha256(payload).hexdigest().encode() != checksum):
        return None
    try:
        code = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def _write(key: str, code: types.CodeType) -> None:
    """Store `code` under `key` atomically (a temporary file renamed into place)."""
    payload = marshal.dumps(code)
    data = (_MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode()
            + b"\n" + payload)
    store_entry(_entry(key), data)  # a read-only or full cache folder only costs speed


# --- when to compile, and the functions of this process --------------------------------------

_compiling = 0
#: Functions loaded or compiled in this process by key; None: the schema is not compiled.
_MEMO: dict[str, Check | None] = {}
#: Keys not in the cache when looked for outside `compiling` (looked for again inside it).
_ABSENT: set[str] = set()


@contextlib.contextmanager
def compiling(allowed: bool = True) -> Iterator[None]:
    """Inside, `checker` compiles a schema that is not in the cache (when `allowed`).

    Why: compiling costs 0.1 to 0.2 s for each workload kind; it pays off for a fleet, whose
    worker processes are forked after the first site (they inherit the functions), not for a
    render of a couple of sites.
    """
    global _compiling
    if not allowed:
        yield
        return
    _compiling += 1
    _ABSENT.clear()
    try:
        yield
    finally:
        _compiling -= 1


def checker(digest: str, draft: str, load: Callable[[], Schema]) -> Check | None:
    """The compiled check of a schema, or None (then jsonschema alone checks).

    Args:
        digest: content digest of everything the schema is made from (`content_digest` of
            the files' bytes, or `json_digest`); never a time stamp.
        draft: the draft jsonschema validates with (`DRAFT7` or `DRAFT202012`).
        load: returns the root schema and the documents its ``$ref`` names (by ``$id``);
            called only to compile.

    A function in memory or in the cache is returned; otherwise one is compiled (and stored)
    only inside `compiling`. With ``DLAAS_GEN_NO_CACHE`` set, nothing is read or written.
    """
    disk = caches_enabled()
    if not (disk or _compiling or _MEMO):
        return None
    key = cache_key(digest, draft)
    if key in _MEMO:
        return _MEMO[key]
    if not _compiling and (key in _ABSENT or not disk):
        return None
    found = _load(key) if disk else None
    if found is None and not _compiling:
        _ABSENT.add(key)
        return None
    if found is None:
        found = _compile(key, load, draft, store=disk)
    _MEMO[key] = found
    return found


def _load(key: str) -> Check | None:
    """The function stored under `key`, or None (absent, damaged, or does not run)."""
    code = _read(key)
    if code is None:
        return None
    try:
        return _function(code)
    except Exception:  # noqa: BLE001 - a stored module that does not run is a miss
        return None


def _compile(key: str, load: Callable[[], Schema], draft: str, *, store: bool) -> Check | None:
    """Compile the schema `load` gives (and store it); None when it cannot be compiled."""
    try:
        root, documents = load()
        code = _generate(prepare(root, documents, draft))
        found = _function(code)
    except Exception:  # noqa: BLE001 - Unsupported, or a schema fastjsonschema refuses
        return None
    if store:
        _write(key, code)
    return found
