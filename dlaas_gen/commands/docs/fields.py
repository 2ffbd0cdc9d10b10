"""Walk `SiteConfig` into one `FieldDoc` per field path (``singleuser.image.tag``)."""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from dlaas_gen.config import SiteConfig

#: Validator function names of the constrained string types, and how the reference names them.
_CHECK_NAMES = {
    "_check_quantity": "quantity",
    "_check_duration": "duration",
    "_check_abs_path": "absolute path",
    "_check_https_url": "https URL",
    "_check_label": "DNS-1123 label",
    "_check_subdomain": "DNS-1123 subdomain",
    "_check_config_key": "Secret key",
    "_check_tag": "image tag",
    "_check_base": "image reference",
    "_check_pip": "`name==version`",
    "_check_conda": "`name=version`",
    "_check_registry": "registry path",
}


#: A map entry in a path (``images.<name>.base``); in `FieldDoc.loc` it stands for any key.
MAP_ITEM = "<name>"


@dataclass
class FieldDoc:
    """One documented field.

    Attributes:
        path: dotted path, list items as ``[]``, e.g. ``profiles[].image.tag``.
        loc: the path as keys, with ``0`` for list items and `MAP_ITEM` for the entries of a
            map of models (for looking values up).
        model: name of the model that declares the field.
        type: human type, e.g. ``string (duration)`` or ``list of Toleration``.
        default: the default as YAML-ish text, or None when the field is required.
        description: from the model.
        hint: the ``affects`` hint of the field (``json_schema_extra``), if any.
        variant: the ``type`` tag of the union member that holds the field, if any.
        depth: nesting depth (0 for top-level fields).
        parent: `key` of the enclosing field, None at the top level.
    """

    path: str
    loc: tuple[Any, ...]
    model: str
    type: str
    default: str | None
    description: str
    hint: list[str] = field(default_factory=list)
    variant: str | None = None
    depth: int = 0
    parent: str | None = None

    @property
    def key(self) -> str:
        """Unique id: the path, plus the union member of a union field (``storage.type@static``)."""
        return f"{self.path}@{self.variant}" if self.variant else self.path

    @property
    def required(self) -> bool:
        """True when the field has no default."""
        return self.default is None


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models in an annotation (through unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in models_in(arg)]


def type_name(annotation: Any) -> str:
    """A short human name of a field's type."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return _plain_type_name(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _check_name(annotation.__metadata__) or type_name(args[0])
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {type_name(args[0])} to {type_name(args[1])}" if args else "map"
    return _plain_type_name(annotation)


def _plain_type_name(annotation: Any) -> str:
    """The name of a type that is not generic (a model, an enum, a builtin)."""
    if annotation is type(None):
        return "null"
    if annotation is typing.Any:
        return "any"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(json.dumps(m.value) for m in annotation)
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _check_name(metadata: Iterable[Any]) -> str | None:
    """``string (<check>)`` when the metadata holds one of the named string checks."""
    for meta in metadata:
        name = getattr(getattr(meta, "func", None), "__name__", "")
        if name in _CHECK_NAMES:
            return f"string ({_CHECK_NAMES[name]})"
    return None


def default_text(info: FieldInfo) -> str | None:
    """The default as compact JSON (None when required)."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return None
    else:
        value = info.default
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    return json.dumps(value, sort_keys=False, default=str)


def _hint(info: FieldInfo) -> list[str]:
    extra = info.json_schema_extra
    affects = extra.get("affects", []) if isinstance(extra, dict) else []
    return [str(kind) for kind in affects] if isinstance(affects, list) else []


def walk_fields(model: type[BaseModel] = SiteConfig) -> list[FieldDoc]:
    """Every field under `model`, depth first in declaration order."""
    out: list[FieldDoc] = []
    _walk(model, "", (), 0, None, None, out, set())
    return out


def _walk(
    model: type[BaseModel], prefix: str, loc: tuple[Any, ...], depth: int,
    variant: str | None, parent: str | None, out: list[FieldDoc], stack: set[type[BaseModel]],
) -> None:
    if model in stack:  # recursive models: document once
        return
    stack = stack | {model}
    for field_name, info in model.model_fields.items():
        name = info.alias or field_name  # the key in the site file (`from`, not `from_`)
        path = f"{prefix}{name}"
        doc = FieldDoc(
            path=path, loc=(*loc, name), model=model.__name__, type=_field_type(info),
            default=default_text(info), description=info.description or "", hint=_hint(info),
            variant=variant, depth=depth, parent=parent,
        )
        out.append(doc)
        origin = typing.get_origin(_strip(info.annotation))
        is_list, is_map = origin is list, origin is dict
        subs = models_in(info.annotation)
        for sub in subs:
            tag = sub.model_fields.get("type")
            sub_variant = str(tag.default) if len(subs) > 1 and tag is not None else None
            sub_prefix = (f"{path}[]." if is_list
                          else f"{path}.{MAP_ITEM}." if is_map else f"{path}.")
            sub_loc = (*doc.loc, 0) if is_list else (*doc.loc, MAP_ITEM) if is_map else doc.loc
            _walk(sub, sub_prefix, sub_loc, depth + 1, sub_variant, doc.key, out, stack)


def _field_type(info: FieldInfo) -> str:
    """The type of a field, naming constrained strings.

    Why the metadata: pydantic moves the validators of an ``Annotated`` field type to
    ``FieldInfo.metadata``.
    """
    return _check_name(info.metadata) or type_name(info.annotation)


def _strip(annotation: Any) -> Any:
    """Drop Optional/Annotated wrappers to see whether a field is a list."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = origin in (typing.Union, types.UnionType) and len(args) == 1
        if origin is typing.Annotated or optional:
            annotation = args[0]
            continue
        return annotation
