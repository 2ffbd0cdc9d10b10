"""``dlaas-gen schema``: the JSON Schema of site files, or the Markdown site reference."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_OK, app, handle_errors
from dlaas_gen.defaults import DEFAULT_REFERENCE_PATH, DEFAULT_SITES_DIR, SCHEMA_FILE_NAME
from dlaas_gen.errors import UsageError


class SchemaFormat(str, enum.Enum):
    """Outputs of ``dlaas-gen schema``."""

    json = "json"
    markdown = "markdown"


DEFAULT_OUT = {
    SchemaFormat.json: DEFAULT_SITES_DIR / SCHEMA_FILE_NAME,
    SchemaFormat.markdown: DEFAULT_REFERENCE_PATH,
}


@app.command("schema")
@handle_errors
def schema_command(
    fmt: SchemaFormat = typer.Option(
        SchemaFormat.json, "--format", help="json: the schema for editors; markdown: the reference."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Output file (default sites/site.schema.json or docs/site-reference.md)."
    ),
) -> int:
    """Write the JSON Schema of site files, or the Markdown site reference."""
    target = out or DEFAULT_OUT[fmt]
    if fmt is SchemaFormat.markdown:
        from dlaas_gen.commands.docs import (
            site_reference_markdown,  # renders the examples: load late
        )

        text = site_reference_markdown()
    else:
        from dlaas_gen.commands.docs.schema import site_schema_text  # lazy: keeps `--help` fast

        text = site_schema_text()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    typer.echo(f"wrote {target}")
    return EXIT_OK
