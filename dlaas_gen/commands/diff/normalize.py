"""Turn objects into comparable, printable form: key order, ignored metadata, redacted Secrets.

Why: a diff is only as good as its normalisation. Keys are sorted so that reordering a file is
not a change; label churn is dropped before comparing so that it is not a change either; and
Secret values are replaced *before* any text is produced, so no formatter can leak them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.commands.diff.model import SecretKeys

#: Placeholder for a Secret value (the same on both sides when the value did not change).
REDACTED = "<redacted>"
#: Placeholder on the new side for a Secret value that changed.
REDACTED_CHANGED = "<redacted: changed>"
#: Fields of a Secret that hold values.
SECRET_VALUE_FIELDS = ("data", "stringData")
#: Annotations of a Secret that may carry its values.
SECRET_SENSITIVE_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)

_TOP_ORDER = (
    "apiVersion",
    "kind",
    "metadata",
    "type",
    "immutable",
    "spec",
    "data",
    "stringData",
    "binaryData",
)
_EMBEDDED_SECRET = re.compile(r"""kind["']?\s*:\s*["']?Secret\b""")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Sentinel for "no such key on this side".
MISSING: Any = _Missing()


def ordered(value: Any, *, top: bool = True) -> Any:
    """Return `value` with mapping keys in a stable order.

    The top level of an object follows the Kubernetes convention (apiVersion, kind, metadata,
    spec, data…), every other level is sorted alphabetically; lists keep their order.
    """
    if isinstance(value, Mapping):
        keys = sorted(value, key=str)
        if top:
            first = [k for k in _TOP_ORDER if k in value]
            keys = first + [k for k in keys if k not in first]
        return {k: ordered(value[k], top=False) for k in keys}
    if isinstance(value, list | tuple):
        return [ordered(v, top=False) for v in value]
    return value


def to_text(value: Any) -> str:
    """Dump a normalised value as YAML with stable key order (empty string for MISSING)."""
    if value is MISSING:
        return ""
    return yamlio.dump_doc(ordered(value))


def _matches(key: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def strip_metadata(
    value: Any, label_patterns: Iterable[str], annotation_patterns: Iterable[str]
) -> Any:
    """Drop ignored labels and annotations from every ``metadata`` mapping in `value`.

    Why: pod templates and volumeClaimTemplates carry chart labels too; selectors live outside
    ``metadata`` and are never touched, so an immutable selector change is still seen.
    """
    labels = tuple(label_patterns)
    annotations = tuple(annotation_patterns)

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            for key, item in node.items():
                if key == "metadata" and isinstance(item, Mapping):
                    out[key] = _filter_meta(walk(item), labels, annotations)
                else:
                    out[key] = walk(item)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(value)


def _filter_meta(meta: dict[str, Any], labels: tuple[str, ...], annos: tuple[str, ...]) -> Any:
    for field_name, patterns in (("labels", labels), ("annotations", annos)):
        items = meta.get(field_name)
        if not isinstance(items, Mapping) or not patterns:
            continue
        kept = {k: v for k, v in items.items() if not _matches(str(k), patterns)}
        if kept:
            meta[field_name] = kept
        elif len(kept) != len(items):
            del meta[field_name]
    return meta


def is_secret(node: Any) -> bool:
    """True for a mapping that is a Kubernetes Secret (top level or embedded anywhere)."""
    return isinstance(node, Mapping) and node.get("kind") == "Secret"


def redact_pair(old: Any, new: Any) -> tuple[Any, Any]:
    """Redact every Secret value in `old` and `new`, comparing them in memory only.

    Secrets are found at the top level, nested anywhere (chart ``extraObjects``, ``List``
    items) and inside strings that hold YAML or JSON documents (a ConfigMap carrying manifests).
    An unchanged value becomes `REDACTED` on both sides; a changed one `REDACTED_CHANGED` on
    the new side, so the diff shows that the key changed and nothing else.

    Why: flux2#2167 showed that value-blind masks make every Secret look changed; hashing
    leaks low-entropy values, so values are only ever compared with ``==``.
    """
    return _redact(old, new), _redact(new, old, new_side=True)


def _redact(value: Any, other: Any, *, new_side: bool = False) -> Any:
    if is_secret(value):
        return _redact_secret(value, other if is_secret(other) else MISSING, new_side)
    if isinstance(value, Mapping):
        twin = other if isinstance(other, Mapping) else {}
        return {k: _redact(v, twin.get(k, MISSING), new_side=new_side) for k, v in value.items()}
    if isinstance(value, list):
        twin_list = other if isinstance(other, list) else []
        return [
            _redact(v, twin_list[i] if i < len(twin_list) else MISSING, new_side=new_side)
            for i, v in enumerate(value)
        ]
    if isinstance(value, str) and _EMBEDDED_SECRET.search(value):
        return _redact_string(value, other, new_side)
    return value


def _redact_string(value: str, other: Any, new_side: bool) -> str:
    docs = _parse_docs(value)
    if docs is None:
        # Looks like it holds a Secret but cannot be parsed: hide it all.
        if not isinstance(other, str) or other == value:
            return REDACTED
        return REDACTED_CHANGED if new_side else REDACTED
    if not any(_contains_secret(d) for d in docs):
        return value
    twins = _parse_docs(other) if isinstance(other, str) else None
    twins = twins or []
    out = [
        _redact(d, twins[i] if i < len(twins) else MISSING, new_side=new_side)
        for i, d in enumerate(docs)
    ]
    return yamlio.dump_docs(out)


def _parse_docs(text: str) -> list[Any] | None:
    try:
        return [yamlio.plain(d) for d in yamlio.load_roundtrip_all(text)]
    except (YAMLError, ValueError, TypeError):
        return None


def _contains_secret(node: Any) -> bool:
    if is_secret(node):
        return True
    if isinstance(node, Mapping):
        return any(_contains_secret(v) for v in node.values())
    if isinstance(node, list):
        return any(_contains_secret(v) for v in node)
    if isinstance(node, str):
        return bool(_EMBEDDED_SECRET.search(node))
    return False


def _redact_secret(secret: Mapping[str, Any], other: Any, new_side: bool) -> dict[str, Any]:
    twin: Mapping[str, Any] = other if isinstance(other, Mapping) else {}
    out = dict(secret)
    for field_name in SECRET_VALUE_FIELDS:
        if field_name not in secret:
            continue
        mine = secret[field_name]
        theirs = twin.get(field_name, MISSING)
        if not isinstance(mine, Mapping):
            out[field_name] = _placeholder(mine, theirs, new_side)
            continue
        theirs_map = theirs if isinstance(theirs, Mapping) else {}
        out[field_name] = {
            k: _placeholder(v, theirs_map.get(k, MISSING), new_side) for k, v in mine.items()
        }
    meta = secret.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        twin_meta = twin.get("metadata") if isinstance(twin.get("metadata"), Mapping) else {}
        twin_annos = twin_meta.get("annotations") if isinstance(twin_meta, Mapping) else None
        twin_annos = twin_annos if isinstance(twin_annos, Mapping) else {}
        annos = dict(meta["annotations"])
        for name in SECRET_SENSITIVE_ANNOTATIONS:
            if name in annos:
                annos[name] = _placeholder(annos[name], twin_annos.get(name, MISSING), new_side)
        out["metadata"] = {**meta, "annotations": annos}
    return out


def _placeholder(mine: Any, theirs: Any, new_side: bool) -> str:
    if new_side and theirs is not MISSING and theirs != mine:
        return REDACTED_CHANGED
    return REDACTED


def secret_keys(old: Any, new: Any) -> SecretKeys:
    """Which keys of a Secret were added, removed or changed (names only).

    ``data`` and ``stringData`` are looked at together, as the API server merges them.
    """
    before = _secret_items(old)
    after = _secret_items(new)
    return SecretKeys(
        added=tuple(sorted(k for k in after if k not in before)),
        removed=tuple(sorted(k for k in before if k not in after)),
        changed=tuple(sorted(k for k in after if k in before and after[k] != before[k])),
    )


def _secret_items(doc: Any) -> dict[str, tuple[Any, Any]]:
    if not isinstance(doc, Mapping):
        return {}
    items: dict[str, tuple[Any, Any]] = {}
    for index, field_name in enumerate(SECRET_VALUE_FIELDS):
        values = doc.get(field_name)
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            pair = list(items.get(str(key), (MISSING, MISSING)))
            pair[index] = value
            items[str(key)] = (pair[0], pair[1])
    return items


def get_path(doc: Any, path: str) -> Any:
    """Return the value at dotted `path` in `doc`, or `MISSING`."""
    node = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def sanitize_yaml_message(message: str) -> str:
    """Remove values quoted by ruamel in duplicate-key messages.

    Why: ruamel reports ``found duplicate key "pw" with value "s3cret" (original value: …)``;
    for a Secret that would print the secret in a CI log.
    """
    return re.sub(r"\s*with value .*", "", message)
