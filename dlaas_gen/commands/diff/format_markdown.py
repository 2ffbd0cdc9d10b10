"""Markdown report for a merge-request or pull-request comment.

Why: reviewers read the summary first (flux-local#207: huge comments are unreadable and hit
the platform limit), so a table and the attention list come on top and each changed resource
is one collapsed ``<details>`` section that can be dropped whole when the size limit is hit.
"""

from __future__ import annotations

import html
import re

from dlaas_gen.commands.diff.charts import ChartDiff
from dlaas_gen.commands.diff.format_text import chart_rendered_for, chart_summary, summary_line
from dlaas_gen.commands.diff.limit import Block, fit, what_was_cut
from dlaas_gen.commands.diff.model import (
    ADDED,
    CHANGED,
    STATUSES,
    DiffResult,
    ResourceChange,
)

TITLE = "### dlaas-gen diff"


def code(text: str) -> str:
    """An inline code span that survives backticks and table pipes in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    escaped = text.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(result: DiffResult, *, limit_bytes: int | None = None) -> str:
    """Render `result` as a Markdown comment body.

    Args:
        result: the comparison.
        limit_bytes: maximum size in UTF-8 bytes; sections are dropped (and said so) to fit.
    """
    head = [TITLE, ""]
    head.append(
        f"{code(result.old_label)} → {code(result.new_label)}: **{summary_line(result)}**"
    )
    head.append("")
    if not result.changes:
        head += ["No differences.", ""]
    else:
        head += ["| Change | Resource | File |", "|---|---|---|"]
        for change in _ordered(result):
            site = f"{code(change.site)} " if change.site else ""
            head.append(f"| {change.status} | {site}{code(str(change.key))} | {_where(change)} |")
        head.append("")
    if result.attention:
        head += [f"#### Needs attention ({len(result.attention)})", ""]
        for item in result.attention:
            value = (f": {code(item.old)} → {code(item.new)}"
                     if item.old is not None and item.new is not None else "")
            site = f"{code(item.site)} " if item.site else ""
            head.append(
                f"- **{item.severity}** {site}{code(str(item.key))}: "
                f"{html.escape(item.message)}{value} <sub>{item.rule}</sub>"
            )
        head.append("")
    if result.notes:
        head += ["<sub>Notes:</sub>", ""]
        head += [f"- <sub>{html.escape(note)}</sub>" for note in result.notes]
        head.append("")
    blocks = [_block(c) for c in _ordered(result) if c.status in (CHANGED, ADDED)]
    for chart in result.charts:
        blocks.append(Block(_chart_head(chart), (), ""))
        changes = sorted(chart.changes, key=lambda c: (STATUSES.index(c.status), c.sort_key))
        blocks += [_block(c) for c in changes if c.status in (CHANGED, ADDED)]

    def note(omitted: int, cut: int) -> str:
        what = what_was_cut(omitted, cut, cut_text="1 section cut short", nothing="report cut")
        return (
            f"\n> [!WARNING]\n> **Truncated to {limit_bytes} bytes**: {what}. Run "
            "`dlaas-gen diff` locally or read the job log for the full diff.\n"
        )

    return fit("\n".join(head) + "\n", blocks, limit_bytes, note)


def _chart_head(chart: ChartDiff) -> str:
    lines = [f"#### Chart objects of {code(chart.label)}: {code(chart.old_chart)} → "
             f"{code(chart.new_chart)}", "",
             f"<sub>{html.escape(chart_rendered_for(chart))}</sub>", "",
             f"**{chart_summary(chart)}**", ""]
    if chart.changes:
        lines += ["| Change | Resource | Template |", "|---|---|---|"]
        for change in sorted(chart.changes, key=lambda c: (STATUSES.index(c.status), c.sort_key)):
            lines.append(f"| {change.status} | {code(str(change.key))} | {_where(change)} |")
        lines.append("")
    for item in chart.attention:
        value = (f": {code(item.old)} → {code(item.new)}"
                 if item.old is not None and item.new is not None else "")
        lines.append(f"- **{item.severity}** {code(str(item.key))}: {html.escape(item.message)}"
                     f"{value} <sub>{item.rule}</sub>")
    return "\n".join(lines) + "\n\n"


def _ordered(result: DiffResult) -> list[ResourceChange]:
    return sorted(result.changes, key=lambda c: (STATUSES.index(c.status), c.sort_key))


def _where(change: ResourceChange) -> str:
    if change.old_path and change.new_path and change.old_path != change.new_path:
        return f"{code(change.old_path)} → {code(change.new_path)}"
    return code(change.path)


def _block(change: ResourceChange) -> Block:
    site = f"[{html.escape(change.site)}] " if change.site else ""
    summary = (
        f"<details><summary>{change.status}: {site}<code>{html.escape(str(change.key))}</code>"
        f"</summary>\n\n"
    )
    lines: list[str] = []
    if change.secret_keys:
        keys = change.secret_keys
        for label, names in (("added", keys.added), ("removed", keys.removed),
                             ("changed", keys.changed)):
            if names:
                lines.append(f"Secret keys {label}: {', '.join(code(n) for n in names)}\n\n")
    body = change.diff
    if change.values_diff or change.values_notes:
        notes = "".join(f"# {n}\n" for n in change.values_notes)
        body += f"# merged Helm values\n{notes}{change.values_diff}"
    fence = _fence(body)
    opening = summary + "".join(lines) + f"{fence}diff\n"
    return Block(
        opening,
        tuple(body.splitlines(keepends=True)),
        f"{fence}\n\n</details>\n\n",
        "# ... (cut to respect the size limit)\n",
    )
