"""Map jsonschema errors to the place a user must edit."""

from __future__ import annotations

from typing import Any


def error_path(error: Any) -> list[Any]:
    """Path of a jsonschema error; for an unexpected key, the path of that key.

    Why: "additional properties are not allowed" is reported on the parent object; the user
    needs the line of the misspelt key.
    """
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties") or {})
        extras = [k for k in error.instance if k not in allowed]
        if extras:
            return [*path, extras[0]]
    return path
