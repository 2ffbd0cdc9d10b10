"""``dlaas-gen diff``: compare two rendered trees by resource, for review.

Public API:

- `diff_dirs` compares two folders; `diff_git` compares a folder at the merge-base of a ref and
  ``HEAD`` (read from git, no checkout) with the same folder in the working tree.
- `compare_sides` compares two already loaded `Side` objects.
- `render_text`, `render_markdown`, `render_json` turn a `DiffResult` into a report.

The library never prints and never exits: unreadable input raises
`dlaas_gen.errors.UsageError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dlaas_gen.commands.diff.charts import ChartDiff, folder_archives, git_archives
from dlaas_gen.commands.diff.compare import compare_sides
from dlaas_gen.commands.diff.format_json import render_json, to_data
from dlaas_gen.commands.diff.format_markdown import render_markdown
from dlaas_gen.commands.diff.format_text import render_text
from dlaas_gen.commands.diff.model import (
    DEFAULT_IGNORE_ANNOTATIONS,
    DEFAULT_IGNORE_LABELS,
    SCHEMA_VERSION,
    Attention,
    DiffOptions,
    DiffResult,
    ResourceChange,
    SecretKeys,
    Side,
)
from dlaas_gen.commands.diff.sources import BASE_SHA_ENV, load_dir, load_git_tree, resolve_base

__all__ = [
    "BASE_SHA_ENV",
    "DEFAULT_IGNORE_ANNOTATIONS",
    "DEFAULT_IGNORE_LABELS",
    "SCHEMA_VERSION",
    "Attention",
    "ChartDiff",
    "DiffOptions",
    "DiffResult",
    "ResourceChange",
    "SecretKeys",
    "Side",
    "compare_sides",
    "diff_dirs",
    "diff_git",
    "load_dir",
    "load_git_tree",
    "render_json",
    "render_markdown",
    "render_text",
    "resolve_base",
    "to_data",
]


def diff_dirs(
    old: Path, new: Path, options: DiffOptions | None = None, *,
    charts_dir: Path | None = None, old_charts_dir: Path | None = None,
) -> DiffResult:
    """Compare the objects under folder `old` with those under folder `new`.

    With `charts_dir` (the new side's chart locks; `old_charts_dir` for the old side, default
    the same), changed HelmReleases whose chart is locked on both sides also show the objects
    their chart renders.

    Raises:
        UsageError: a folder is missing, or a file is not valid YAML.
    """
    charts = None
    if charts_dir is not None:
        charts = (folder_archives(old_charts_dir or charts_dir), folder_archives(charts_dir))
    return compare_sides(load_dir(old, side="old"), load_dir(new, side="new"), options, charts)


def diff_git(
    base: str | None,
    folder: Path,
    *,
    cwd: Path | None = None,
    options: DiffOptions | None = None,
    env: Mapping[str, str] | None = None,
    charts_dir: Path | None = None,
) -> DiffResult:
    """Compare `folder` at the merge-base of `base` and HEAD with `folder` in the working tree.

    Args:
        base: the base ref (``origin/main``); may be None when ``CI_MERGE_REQUEST_DIFF_BASE_SHA``
            is set, which wins anyway.
        folder: the rendered folder, relative to `cwd` or absolute.
        cwd: a folder inside the repository (default: the current directory).
        options: noise control and context size.
        env: environment (default ``os.environ``).
        charts_dir: the chart locks (``charts/``): the working tree's for the new side, the
            same folder at the base commit for the old; changed HelmReleases locked on both
            sides also show the objects their chart renders.

    Raises:
        UsageError: not a repository, unknown ref, no merge-base (shallow clone hint),
            missing working-tree folder, or invalid YAML on either side.
    """
    cwd = cwd or Path.cwd()
    sha, how = resolve_base(base, cwd, env)
    working = folder if folder.is_absolute() else cwd / folder
    new = load_dir(working, side="new")
    new.label = f"working tree:{folder.as_posix()}"
    old = load_git_tree(sha, folder, cwd, label=f"{base or sha[:12]}:{folder.as_posix()}")
    old.notes.insert(0, f"old side: {folder.as_posix()} at the {how}")
    charts = None
    if charts_dir is not None:
        working_charts = charts_dir if charts_dir.is_absolute() else cwd / charts_dir
        charts = (git_archives(sha, charts_dir, cwd), folder_archives(working_charts))
    return compare_sides(old, new, options, charts)
