"""``dlaas-gen diff``: review rendered changes by resource (see `dlaas_gen.commands.diff`)."""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, EXIT_PROBLEMS, handle_errors, use_color
from dlaas_gen.defaults import DEFAULT_OUT_DIR

if TYPE_CHECKING:
    from dlaas_gen.commands.diff import DiffOptions, DiffResult


class DiffFormat(enum.StrEnum):
    """Report formats of ``dlaas-gen diff``."""

    text = "text"
    markdown = "markdown"
    json = "json"


OldDirArgument = Annotated[Path | None, typer.Argument(help="Old folder (with NEW_DIR).")]
NewDirArgument = Annotated[Path | None, typer.Argument(help="New folder (with OLD_DIR).")]
BaseOption = Annotated[str | None, typer.Option(
    "--base",
    help="Compare --rendered-dir at the merge-base of REF and HEAD with the working tree "
    "(CI_MERGE_REQUEST_DIFF_BASE_SHA wins when set).",
    metavar="REF",
)]
RenderedDirOption = Annotated[Path, typer.Option(
    "--rendered-dir", help="Rendered folder for --base mode.")]
FormatOption = Annotated[DiffFormat, typer.Option(
    "--format", "-f", help="Report format.", case_sensitive=False)]
IgnoreLabelsOption = Annotated[list[str] | None, typer.Option(
    "--ignore-labels", help="Label key glob to ignore (repeat or comma-separate).")]
IgnoreAnnotationsOption = Annotated[list[str] | None, typer.Option(
    "--ignore-annotations", help="Annotation key glob to ignore (repeat or comma-separate).")]
NoDefaultIgnoresOption = Annotated[bool, typer.Option(
    "--no-default-ignores",
    help="Do not ignore Helm chart label churn (helm.sh/chart, chart, "
    "app.kubernetes.io/version, checksum/* annotations).",
)]
ContextOption = Annotated[int, typer.Option(
    "--context", "-U", min=0, help="Lines of diff context.")]
LimitBytesOption = Annotated[int | None, typer.Option(
    "--limit-bytes", min=1, help="Keep text/markdown output within N bytes.")]
ExitCodeOption = Annotated[bool, typer.Option(
    "--exit-code", help="Exit 1 when there are differences (like git diff).")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the report to a file instead of standard output.")]
ChartsDirOption = Annotated[Path, typer.Option(
    "--charts-dir",
    help="Chart locks (`dlaas-gen chart pull`): a changed HelmRelease whose chart archive is "
    "locked on both sides also shows the objects the chart renders (Helm SDK, offline).",
)]


def _patterns(values: list[str] | None) -> tuple[str, ...]:
    """Split repeated and comma-separated pattern options."""
    return tuple(p.strip() for v in values or () for p in v.split(",") if p.strip())


@handle_errors
def diff_command(
    old_dir: OldDirArgument = None,
    new_dir: NewDirArgument = None,
    base: BaseOption = None,
    rendered_dir: RenderedDirOption = DEFAULT_OUT_DIR,
    output_format: FormatOption = DiffFormat.text,
    ignore_labels: IgnoreLabelsOption = None,
    ignore_annotations: IgnoreAnnotationsOption = None,
    no_default_ignores: NoDefaultIgnoresOption = False,
    context: ContextOption = 3,
    limit_bytes: LimitBytesOption = None,
    exit_code: ExitCodeOption = False,
    output: OutputOption = None,
    charts_dir: ChartsDirOption = Path("charts"),
) -> int:
    """Compare rendered trees by resource: git mode (--base) or two folders."""
    from dlaas_gen.commands import diff as difflib_
    from dlaas_gen.errors import UsageError

    if (old_dir is None) != (new_dir is None):
        raise UsageError("give both OLD_DIR and NEW_DIR, or neither (and --base)")
    if limit_bytes is not None and output_format is DiffFormat.json:
        raise UsageError("--limit-bytes applies to text and markdown, not json")
    defaults_l = () if no_default_ignores else difflib_.DEFAULT_IGNORE_LABELS
    defaults_a = () if no_default_ignores else difflib_.DEFAULT_IGNORE_ANNOTATIONS
    options = difflib_.DiffOptions(
        ignore_labels=defaults_l + _patterns(ignore_labels),
        ignore_annotations=defaults_a + _patterns(ignore_annotations),
        context=context,
    )
    result = _compare(old_dir, new_dir, base, rendered_dir, options, charts_dir)
    if output_format is DiffFormat.json:
        report = difflib_.render_json(result)
    elif output_format is DiffFormat.markdown:
        report = difflib_.render_markdown(result, limit_bytes=limit_bytes)
    else:
        color = output is None and use_color(sys.stdout)
        report = difflib_.render_text(result, color=color, limit_bytes=limit_bytes)
    _write(report, output)
    return EXIT_PROBLEMS if exit_code and result.has_differences else EXIT_OK


def _compare(old_dir: Path | None, new_dir: Path | None, base: str | None, rendered_dir: Path,
             options: DiffOptions, charts_dir: Path) -> DiffResult:
    """Two folders, or the rendered folder at the merge-base against the working tree."""
    from dlaas_gen.commands import diff as difflib_
    from dlaas_gen.errors import UsageError

    if old_dir is not None and new_dir is not None:
        if base is not None:
            raise UsageError("--base compares with the working tree; do not also give folders")
        return difflib_.diff_dirs(old_dir, new_dir, options, charts_dir=charts_dir)
    if base is None and not os.environ.get(difflib_.BASE_SHA_ENV):
        raise UsageError(
            f"give --base REF (or set {difflib_.BASE_SHA_ENV}), or OLD_DIR and NEW_DIR")
    return difflib_.diff_git(base, rendered_dir, options=options, charts_dir=charts_dir)


def _write(report: str, output: Path | None) -> None:
    """The report to `output`, or to standard output."""
    from dlaas_gen.errors import UsageError

    if output is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return
    try:
        output.write_text(report, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
