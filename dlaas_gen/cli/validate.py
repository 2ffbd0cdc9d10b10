"""``dlaas-gen validate``: check rendered folders offline, with the policy (`pipeline`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlaas_gen.cli._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    FormatOption,
    OutputFormat,
    emit_problems,
    err,
    handle_errors,
)
from dlaas_gen.cli._progress import progress_line
from dlaas_gen.defaults import DEFAULT_KUBE_VERSION, DEFAULT_OUT_DIR, DEFAULT_SITES_DIR


@handle_errors
def validate_command(
    dirs: Annotated[list[Path] | None, typer.Argument(
        help="Trees to validate (default: every rendered site).")] = None,
    kube_version: Annotated[str | None, typer.Option(
        "--kube-version",
        help="Kubernetes X.Y (default: the site's kubernetes_version, else "
        f"{DEFAULT_KUBE_VERSION}).")] = None,
    sites_dir: Annotated[Path, typer.Option(
        "--sites-dir",
        help="Where the site file of each tree (its policy exceptions) is.")] = DEFAULT_SITES_DIR,
    fmt: FormatOption = OutputFormat.text,
) -> int:
    """Validate rendered trees (or any folder of manifests) offline, with the security policy."""
    from dlaas_gen.kube_versions import newer_than_bundled
    from dlaas_gen.pipeline import rendered_folders, validate_folders

    if kube_version is not None:
        newer = newer_than_bundled(kube_version)  # a bad version: one line, exit 1
        if newer:
            err(f"dlaas-gen: warning: {newer}")
    folders = list(dirs or []) or rendered_folders(DEFAULT_OUT_DIR)
    with progress_line() as progress:
        problems = validate_folders(folders, sites_dir, kube_version, progress)
    emit_problems(problems, fmt)
    failed = any(p.is_error for p in problems)
    if fmt is OutputFormat.text and not failed:
        typer.echo(f"valid: {', '.join(str(f) for f in folders)}")
    return EXIT_PROBLEMS if failed else EXIT_OK
