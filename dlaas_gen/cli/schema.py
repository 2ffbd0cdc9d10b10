"""``dlaas-gen schema``: the JSON Schema of site files, or the Markdown site reference."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, handle_errors
from dlaas_gen.defaults import DEFAULT_REFERENCE_PATH, DEFAULT_SITES_DIR, SCHEMA_FILE_NAME


class SchemaFormat(enum.StrEnum):
    """Outputs of ``dlaas-gen schema``."""

    json = "json"
    markdown = "markdown"


DEFAULT_OUT = {
    SchemaFormat.json: DEFAULT_SITES_DIR / SCHEMA_FILE_NAME,
    SchemaFormat.markdown: DEFAULT_REFERENCE_PATH,
}

FormatOption = Annotated[SchemaFormat, typer.Option(
    "--format", help="json: the schema for editors; markdown: the reference.")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", help="Output file (default sites/site.schema.json or docs/site-reference.md).")]


@handle_errors
def schema_command(fmt: FormatOption = SchemaFormat.json, out: OutOption = None) -> int:
    """Write the JSON Schema of site files, or the Markdown site reference."""
    from dlaas_gen.errors import UsageError

    target = out or DEFAULT_OUT[fmt]
    if fmt is SchemaFormat.markdown:
        from dlaas_gen.commands.docs import site_reference_markdown

        text = site_reference_markdown()
    else:
        from dlaas_gen.commands.docs.schema import site_schema_text

        text = site_schema_text()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    typer.echo(f"wrote {target}")
    return EXIT_OK
