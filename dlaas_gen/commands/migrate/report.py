"""Text and JSON renderings of a `MigrationResult` (strings only; the CLI prints them)."""

from __future__ import annotations

import json

from dlaas_gen.commands.migrate.model import CHANGE, ERROR, MANUAL, NOTE, WARNING, MigrationResult

_SECTIONS = ((WARNING, "Warnings"), (MANUAL, "Manual steps"), (NOTE, "Notes"), (ERROR, "Errors"))

CUTOVER = (
    "Cut-over for migrated Helm Operator releases: stop the Helm Operator; apply the sources; "
    "apply the new HelmReleases (expect one upgrade per release); then "
    "`kubectl delete crd helmreleases.helm.fluxcd.io`. Deleting a HelmRelease while its "
    "controller runs deletes the Helm release."
)


def _summary(result: MigrationResult) -> str:
    changed = len(result.changed_files)
    verb = "changed" if result.written else "would change"
    parts = [f"{changed} file(s) {verb}"]
    for level, title in _SECTIONS:
        count = len(result.by_level(level))
        if count:
            parts.append(f"{count} {title.lower()}")
    return ", ".join(parts)


def format_text(result: MigrationResult, *, scan: bool = False) -> str:
    """Return the human report: changes (or the scan plan), then warnings and manual steps."""
    lines: list[str] = []
    if scan:
        lines.extend(plan.format() for plan in result.plans)
        if not result.plans:
            lines.append("no Flux v1 or beta objects found")
    else:
        lines.extend(f.format() for f in result.by_level(CHANGE))
    for level, title in _SECTIONS:
        items = result.by_level(level)
        if items and (not scan or level in (MANUAL, ERROR)):
            lines.append("")
            lines.append(f"{title}:")
            lines.extend(f.format() for f in items)
    if not scan and any(p.new_api == "helm.toolkit.fluxcd.io/v2" and p.old_api.startswith(
            ("helm.fluxcd.io", "flux.weave.works")) for p in result.plans):
        lines.extend(["", CUTOVER])
    if not scan:
        lines.extend(["", _summary(result)])
    return "\n".join(lines).lstrip("\n") + "\n"


def format_json(result: MigrationResult, *, scan: bool = False) -> str:
    """Return the machine report as JSON (stable key order)."""
    data = {
        "plans": [p.to_dict() for p in result.plans],
        "findings": [f.to_dict() for f in result.findings],
        "files": [
            {"path": f.path, "changed": f.changed, "valid": f.valid, "written": f.written,
             "unreadable": f.unreadable}
            for f in result.files if f.changed or not f.valid or f.unreadable
        ],
        "written": result.written,
        "exit_code": result.exit_code(),
    }
    if scan:
        data.pop("files")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
