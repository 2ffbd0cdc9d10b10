"""The site reference: every field of a site file, documented from the model.

Why: descriptions live once, in the pydantic model; this package walks the model
(`fields`), finds which rendered objects each field changes by rendering the shipped examples
(`affects`), and writes Markdown (`markdown`). A test fails when the committed
``docs/site-reference.md`` differs from a fresh generation.
"""

from dlaas_gen.commands.docs.fields import FieldDoc, walk_fields
from dlaas_gen.commands.docs.markdown import site_reference_markdown

__all__ = ["FieldDoc", "site_reference_markdown", "walk_fields"]
