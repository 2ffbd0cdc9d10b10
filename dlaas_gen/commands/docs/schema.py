"""Export the JSON Schema of site files for editors (yaml-language-server).

Why: field descriptions live once, in the pydantic model; the schema file in ``sites/`` is
generated from it and a test fails when it is stale.
"""

from __future__ import annotations

import json

from dlaas_gen.config import SiteConfig


def site_schema() -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of a site file."""
    schema = SiteConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dlaas-gen site"
    schema["description"] = (
        "A Data-Lake-as-a-Service site for dlaas-gen; the site's name is the file name."
    )
    return schema


def site_schema_text() -> str:
    """The schema as deterministic JSON text with a trailing newline."""
    return json.dumps(site_schema(), indent=2, sort_keys=True) + "\n"
