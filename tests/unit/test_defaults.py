"""`dlaas_gen.defaults` holds each shared default once and imports nothing of the package."""

from __future__ import annotations

import subprocess
import sys

from dlaas_gen import defaults


def test_defaults_import_no_package_module() -> None:
    """`--help` reads its defaults here; importing the module must not pull in the pipeline."""
    code = ("import sys, dlaas_gen.defaults; "
            "print(sorted(m for m in sys.modules if m.startswith('dlaas_gen')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['dlaas_gen', 'dlaas_gen.defaults']"


def test_default_example_is_shipped() -> None:
    from dlaas_gen.commands.init import example_names

    assert defaults.DEFAULT_EXAMPLE in example_names()


def test_schema_line_names_the_schema_file() -> None:
    assert defaults.SCHEMA_LINE == f"# yaml-language-server: $schema={defaults.SCHEMA_FILE_NAME}"
