"""Keep a report under a byte limit, with an explicit note saying what was left out.

Why: GitHub rejects comments over 65 536 characters and GitLab notes have a limit too
(flux-local#207, #883). Cutting at an arbitrary byte breaks code fences and hides the fact that
something is missing, so the report is assembled from a head (summary, attention) and one block
per resource; whole blocks are kept while they fit, the next one is cut at a line with its
fences closed, and a note counts what was omitted. The result is never longer than the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One resource section: opening text, body lines, closing text.

    Attributes:
        opening: everything before the body (header, ``<details>``, fence).
        lines: body lines, each ending with a newline; these may be cut.
        closing: everything after the body (closing fence, ``</details>``).
        cut_marker: the line put where the body is cut.
    """

    opening: str
    lines: tuple[str, ...]
    closing: str
    cut_marker: str = "... (cut to respect the size limit)\n"

    @property
    def text(self) -> str:
        """The whole block."""
        return self.opening + "".join(self.lines) + self.closing


def size(text: str) -> int:
    """Length of `text` in UTF-8 bytes."""
    return len(text.encode("utf-8"))


def cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of `text` not longer than `limit` bytes (no split characters)."""
    return text.encode("utf-8")[: max(limit, 0)].decode("utf-8", "ignore")


def _cut_lines(text: str, limit: int) -> str:
    """The longest prefix of whole lines of `text` within `limit` bytes."""
    out: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        if used + size(line) > limit:
            break
        out.append(line)
        used += size(line)
    return "".join(out)


def what_was_cut(omitted: int, cut: int, *, cut_text: str, nothing: str) -> str:
    """What a truncation note says was left out: whole sections, one cut short, else `nothing`."""
    parts = [f"{omitted} resource section(s) omitted"] if omitted else []
    if cut:
        parts.append(cut_text)
    return ", ".join(parts) or nothing


def fit(
    head: str,
    blocks: list[Block],
    limit: int | None,
    note: Callable[[int, int], str],
) -> str:
    """Assemble `head` and `blocks` within `limit` bytes.

    Args:
        head: text that comes first (summary, attention); cut at a line only if it alone does
            not fit.
        blocks: resource sections in order.
        limit: maximum size in UTF-8 bytes; None for no limit.
        note: ``note(omitted, cut)`` returns the truncation note for `omitted` sections left
            out entirely and `cut` (0 or 1) sections shown in part.

    Returns:
        The report, at most `limit` bytes long.
    """
    full = head + "".join(b.text for b in blocks)
    if limit is None or size(full) <= limit:
        return full
    total = len(blocks)
    if size(head) + size(note(total, 0)) > limit:
        text = note(total, 0)
        if size(text) >= limit:
            return cut_bytes(text, limit)
        return _cut_lines(head, limit - size(text)) + text
    out = head
    kept = 0
    for block in blocks:
        if size(out) + size(block.text) + size(note(total - kept - 1, 0)) > limit:
            break
        out += block.text
        kept += 1
    block = blocks[kept]
    final_note = note(total - kept - 1, 1)
    budget = limit - size(out) - size(final_note)
    fixed = size(block.opening) + size(block.closing) + size(block.cut_marker)
    if budget > fixed:
        body = _cut_lines("".join(block.lines), budget - fixed)
        if body:
            return out + block.opening + body + block.cut_marker + block.closing + final_note
    return out + note(total - kept, 0)
