"""The ``dlaas-gen`` command line: a thin typer layer over the library.

Each command lives in its own module of this package and registers itself on `app`; a command
parses options, calls one library function, prints through `dlaas_gen.report`, and returns an
exit code. No YAML, Jinja or validation logic lives here.
"""

from __future__ import annotations

from dlaas_gen.cli._common import app, main

# Command modules register themselves on import (one line per command module).
from dlaas_gen.cli import render as _render  # noqa: F401,E402
from dlaas_gen.cli import diff as _diff  # noqa: F401,E402
from dlaas_gen.cli import migrate as _migrate  # noqa: F401,E402
from dlaas_gen.cli import xcache as _xcache  # noqa: F401,E402
from dlaas_gen.cli import init as _init  # noqa: F401,E402
from dlaas_gen.cli import schema as _schema  # noqa: F401,E402
from dlaas_gen.cli import graph as _graph  # noqa: F401,E402
from dlaas_gen.cli import images as _images  # noqa: F401,E402
from dlaas_gen.cli import chart as _chart  # noqa: F401,E402
from dlaas_gen.cli import eos as _eos  # noqa: F401,E402

__all__ = ["app", "main"]
