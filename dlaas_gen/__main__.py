"""Allow ``python -m dlaas_gen``."""

from dlaas_gen.cli import main

main()
