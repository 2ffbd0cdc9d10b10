"""JSON report with a stable, versioned schema (documented in README.md, "JSON output").

Why: CI jobs and bots parse this; fields are only ever added within a ``version``, and the
order of keys and items is fixed so that the output itself can be snapshot-tested.
"""

from __future__ import annotations

import json
from typing import Any

from dlaas_gen.commands.diff.charts import to_data as chart_data
from dlaas_gen.commands.diff.model import (
    ADDED,
    CHANGED,
    MOVED,
    REMOVED,
    SCHEMA_VERSION,
    SEVERITIES,
    DiffResult,
    ResourceChange,
)


def to_data(result: DiffResult) -> dict[str, Any]:
    """Return the JSON document as plain data."""
    return {
        "version": SCHEMA_VERSION,
        "old": result.old_label,
        "new": result.new_label,
        "summary": {
            "added": result.count(ADDED),
            "removed": result.count(REMOVED),
            "changed": result.count(CHANGED),
            "moved": result.count(MOVED),
            "unchanged": result.unchanged,
            "attention": {
                s: sum(1 for a in result.attention if a.severity == s) for s in SEVERITIES
            },
        },
        "resources": [_resource(c) for c in result.changes],
        "attention": [
            {
                "severity": item.severity,
                "rule": item.rule,
                "site": item.site,
                "group": item.key.group,
                "kind": item.key.kind,
                "namespace": item.key.namespace,
                "name": item.key.name,
                "message": item.message,
                "old": item.old,
                "new": item.new,
            }
            for item in result.attention
        ],
        "notes": list(result.notes),
        "charts": [chart_data(chart, _resource) for chart in result.charts],
    }


def _resource(change: ResourceChange) -> dict[str, Any]:
    keys = change.secret_keys
    return {
        "status": change.status,
        "site": change.site,
        "group": change.key.group,
        "kind": change.key.kind,
        "namespace": change.key.namespace,
        "name": change.key.name,
        "old_path": change.old_path,
        "new_path": change.new_path,
        "diff": change.diff,
        "values_diff": change.values_diff,
        "values_notes": list(change.values_notes),
        "secret_keys": None
        if keys is None
        else {
            "added": list(keys.added),
            "removed": list(keys.removed),
            "changed": list(keys.changed),
        },
    }


def render_json(result: DiffResult) -> str:
    """Render `result` as indented JSON with a trailing newline."""
    return json.dumps(to_data(result), indent=2, ensure_ascii=False) + "\n"
