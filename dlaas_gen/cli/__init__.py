"""The ``dlaas-gen`` command line: a thin typer layer over the library.

One module per command (``cli/render.py`` is ``dlaas-gen render``, ``cli/cric.py`` is
``dlaas-gen cric ...``); each parses its options, calls the library (`dlaas_gen.pipeline`, or
``dlaas_gen.commands.<name>``), prints, and returns an exit code; `dlaas_gen.cli._common` maps
library errors to exit codes. No YAML, Jinja or validation logic lives here.

The commands are registered below, in the order ``--help`` lists them. Importing this package
loads only typer and `dlaas_gen.defaults` (the library is imported by the command that runs),
so ``dlaas-gen --help`` starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from dlaas_gen.cli import (
    chart,
    cric,
    diff,
    eos,
    graph,
    images,
    init,
    migrate,
    render,
    schema,
    secrets,
    validate,
    xcache,
)
from dlaas_gen.cli._common import app, main

#: ``dlaas-gen <name>``: one function each, in the order of ``--help``.
COMMANDS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("render", render.render_command),
    ("validate", validate.validate_command),
    ("secrets", secrets.secrets_command),
    ("diff", diff.diff_command),
    ("migrate", migrate.migrate_command),
    ("init", init.init_command),
    ("schema", schema.schema_command),
    ("graph", graph.graph_command),
    ("images", images.images_command),
)
#: ``dlaas-gen <name> <sub-command>``: a typer app each, listed after the commands.
GROUPS: tuple[tuple[str, typer.Typer], ...] = (
    ("cric", cric.cric_app),
    ("xcache", xcache.xcache_app),
    ("chart", chart.chart_app),
    ("eos", eos.eos_app),
)

for _name, _command in COMMANDS:
    app.command(_name)(_command)
for _name, _group in GROUPS:
    app.add_typer(_group, name=_name)

__all__ = ["COMMANDS", "GROUPS", "app", "main"]
