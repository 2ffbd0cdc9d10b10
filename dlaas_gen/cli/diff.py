"""``dlaas-gen diff``: review rendered changes by resource (see `dlaas_gen.commands.diff`)."""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_OK, EXIT_PROBLEMS, app, handle_errors, use_color
from dlaas_gen.errors import UsageError


class DiffFormat(str, enum.Enum):
    """Report formats of ``dlaas-gen diff``."""

    text = "text"
    markdown = "markdown"
    json = "json"


def _patterns(values: list[str]) -> tuple[str, ...]:
    """Split repeated and comma-separated pattern options."""
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


@app.command("diff")
@handle_errors
def diff_command(
    old_dir: Path | None = typer.Argument(None, help="Old folder (with NEW_DIR)."),
    new_dir: Path | None = typer.Argument(None, help="New folder (with OLD_DIR)."),
    base: str | None = typer.Option(
        None,
        "--base",
        help="Compare --rendered-dir at the merge-base of REF and HEAD with the working tree "
        "(CI_MERGE_REQUEST_DIFF_BASE_SHA wins when set).",
        metavar="REF",
    ),
    rendered_dir: Path = typer.Option(
        Path("rendered"), "--rendered-dir", help="Rendered folder for --base mode."
    ),
    output_format: DiffFormat = typer.Option(
        DiffFormat.text, "--format", "-f", help="Report format.", case_sensitive=False
    ),
    ignore_labels: list[str] = typer.Option(
        [], "--ignore-labels", help="Label key glob to ignore (repeat or comma-separate)."
    ),
    ignore_annotations: list[str] = typer.Option(
        [], "--ignore-annotations", help="Annotation key glob to ignore (repeat or comma-separate)."
    ),
    no_default_ignores: bool = typer.Option(
        False,
        "--no-default-ignores",
        help="Do not ignore Helm chart label churn (helm.sh/chart, chart, "
        "app.kubernetes.io/version, checksum/* annotations).",
    ),
    context: int = typer.Option(3, "--context", "-U", min=0, help="Lines of diff context."),
    limit_bytes: int | None = typer.Option(
        None, "--limit-bytes", min=1, help="Keep text/markdown output within N bytes."
    ),
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when there are differences (like git diff)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to a file instead of standard output."
    ),
    charts_dir: Path = typer.Option(
        Path("charts"), "--charts-dir",
        help="Chart locks (`dlaas-gen chart pull`): a changed HelmRelease whose chart archive is "
        "locked on both sides also shows the objects the chart renders (Helm SDK, offline).",
    ),
) -> int:
    """Compare rendered trees by resource: git mode (--base) or two folders."""
    if (old_dir is None) != (new_dir is None):
        raise UsageError("give both OLD_DIR and NEW_DIR, or neither (and --base)")
    if limit_bytes is not None and output_format is DiffFormat.json:
        raise UsageError("--limit-bytes applies to text and markdown, not json")
    from dlaas_gen.commands import diff as difflib_  # lazy: keeps `--help` fast

    defaults_l = () if no_default_ignores else difflib_.DEFAULT_IGNORE_LABELS
    defaults_a = () if no_default_ignores else difflib_.DEFAULT_IGNORE_ANNOTATIONS
    options = difflib_.DiffOptions(
        ignore_labels=defaults_l + _patterns(ignore_labels),
        ignore_annotations=defaults_a + _patterns(ignore_annotations),
        context=context,
    )
    if old_dir is not None and new_dir is not None:
        if base is not None:
            raise UsageError("--base compares with the working tree; do not also give folders")
        result = difflib_.diff_dirs(old_dir, new_dir, options, charts_dir=charts_dir)
    else:
        if base is None and not os.environ.get(difflib_.BASE_SHA_ENV):
            raise UsageError(
                f"give --base REF (or set {difflib_.BASE_SHA_ENV}), or OLD_DIR and NEW_DIR"
            )
        result = difflib_.diff_git(base, rendered_dir, options=options, charts_dir=charts_dir)
    if output_format is DiffFormat.json:
        report = difflib_.render_json(result)
    elif output_format is DiffFormat.markdown:
        report = difflib_.render_markdown(result, limit_bytes=limit_bytes)
    else:
        color = output is None and use_color(sys.stdout)
        report = difflib_.render_text(result, color=color, limit_bytes=limit_bytes)
    if output is not None:
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    else:
        sys.stdout.write(report)
        sys.stdout.flush()
    return EXIT_PROBLEMS if exit_code and result.has_differences else EXIT_OK
