"""Plain-text report, coloured when asked (the CLI asks on a TTY without NO_COLOR)."""

from __future__ import annotations

from collections.abc import Callable

from dlaas_gen.commands.diff.charts import ChartDiff
from dlaas_gen.commands.diff.limit import Block, fit, what_was_cut
from dlaas_gen.commands.diff.model import (
    ADDED,
    CHANGED,
    DANGER,
    INFO,
    MOVED,
    REMOVED,
    STATUSES,
    WARNING,
    DiffResult,
    ResourceChange,
)

_RESET = "\033[0m"
_COLORS = {
    "bold": "\033[1m",
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "cyan": "\033[36m",
    "dim": "\033[2m",
}
_MARK = {ADDED: "+", REMOVED: "-", CHANGED: "~", MOVED: ">"}
_STATUS_COLOR = {ADDED: "green", REMOVED: "red", CHANGED: "yellow", MOVED: "cyan"}
_SEVERITY_COLOR = {DANGER: "red", WARNING: "yellow", INFO: "cyan"}
#: ``paint(text, style)``: `text` in a `_COLORS` style, or as it is without colour.
Paint = Callable[[str, str], str]


def summary_line(result: DiffResult) -> str:
    """``2 changed, 1 added, 0 removed, 1 moved, 12 unchanged`` in a fixed order."""
    parts = [f"{result.count(s)} {s}" for s in (CHANGED, ADDED, REMOVED, MOVED)]
    parts.append(f"{result.unchanged} unchanged")
    return ", ".join(parts)


def render_text(
    result: DiffResult, *, color: bool = False, limit_bytes: int | None = None
) -> str:
    """Render `result` as text.

    Args:
        result: the comparison.
        color: add ANSI colours.
        limit_bytes: maximum size in bytes (with a truncation note), None for no limit.
    """

    def paint(text: str, style: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if color else text

    head = [paint(f"dlaas-gen diff: {result.old_label} -> {result.new_label}", "bold")]
    head.append(summary_line(result))
    if not result.changes:
        head.append("No differences.")
    if result.attention:
        head += ["", paint(f"Needs attention ({len(result.attention)}):", "bold")]
        for item in result.attention:
            change = f": {item.old} -> {item.new}" if item.old is not None else ""
            sev = paint(f"{item.severity.upper():<7}", _SEVERITY_COLOR[item.severity])
            head.append(f"  {sev} {item.label}: {item.message}{change} [{item.rule}]")
    if result.notes:
        head += ["", "Notes:"]
        head += [f"  - {note}" for note in result.notes]
    head_text = "\n".join(head) + "\n"
    ordered = sorted(result.changes, key=lambda c: (STATUSES.index(c.status), c.sort_key))
    blocks = [_block(change, paint) for change in ordered]
    for chart in result.charts:
        blocks.append(Block(_chart_head(chart, paint), (), ""))
        changes = sorted(chart.changes, key=lambda c: (STATUSES.index(c.status), c.sort_key))
        blocks += [_block(change, paint, indent="  ") for change in changes]

    def note(omitted: int, cut: int) -> str:
        what = what_was_cut(omitted, cut, cut_text="1 cut short", nothing="output cut")
        return (
            f"\n[truncated to {limit_bytes} bytes: {what}; run dlaas-gen diff without "
            "--limit-bytes for everything]\n"
        )

    return fit(head_text, blocks, limit_bytes, note)


def chart_summary(chart: ChartDiff) -> str:
    """``1 changed, 0 added, 0 removed, 0 moved, 30 unchanged`` for a chart's objects."""
    counts = [f"{sum(1 for c in chart.changes if c.status == s)} {s}"
              for s in (CHANGED, ADDED, REMOVED, MOVED)]
    return ", ".join([*counts, f"{chart.unchanged} unchanged"])


def chart_rendered_for(chart: ChartDiff) -> str:
    """Which Helm rendered the chart, and for which ``Capabilities.KubeVersion``."""
    return (f"helm template offline with the Helm SDK {chart.helm_version}, "
            f"Capabilities.KubeVersion {chart.kube_version}")


def _chart_head(chart: ChartDiff, paint: Paint) -> str:
    lines = ["", paint(f"Chart objects of {chart.label}: {chart.old_chart} -> {chart.new_chart}",
                       "bold"),
             f"  ({chart_rendered_for(chart)})", f"  {chart_summary(chart)}"]
    for item in chart.attention:
        sev = paint(f"{item.severity.upper():<7}", _SEVERITY_COLOR[item.severity])
        change = f": {item.old} -> {item.new}" if item.old is not None else ""
        lines.append(f"  {sev} {item.key}: {item.message}{change} [{item.rule}]")
    return "\n".join(lines) + "\n"


def _block(change: ResourceChange, paint: Paint, indent: str = "") -> Block:
    mark = _MARK[change.status]
    if change.status == MOVED:
        where = f"{change.old_path} -> {change.new_path}"
    elif change.old_path and change.new_path and change.old_path != change.new_path:
        where = f"{change.old_path} -> {change.new_path}"
    else:
        where = change.path
    title = paint(f"{mark} {change.status:<7} {change.label}", _STATUS_COLOR[change.status])
    opening = f"\n{indent}{title}  ({where})\n"
    lines: list[str] = []
    if change.secret_keys:
        keys = change.secret_keys
        for label, names in (("added", keys.added), ("removed", keys.removed),
                             ("changed", keys.changed)):
            if names:
                lines.append(f"  Secret keys {label}: {', '.join(names)}\n")
    if change.status in (CHANGED, ADDED):
        lines += _diff_lines(change.diff, paint)
        if change.values_diff or change.values_notes:
            lines.append(paint("  merged Helm values:\n", "bold"))
            lines += [f"    note: {n}\n" for n in change.values_notes]
            lines += _diff_lines(change.values_diff, paint)
    return Block(opening, tuple(lines), "", "  ... (cut to respect the size limit)\n")


def _diff_lines(diff: str, paint: Paint) -> list[str]:
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append("  " + (paint(line, style) if style else line) + "\n")
    return out
