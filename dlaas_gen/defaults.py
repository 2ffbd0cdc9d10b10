"""Defaults and fixed names shared by the CLI and the library, each defined once.

Why: ``dlaas-gen --help`` must start fast, so the CLI layer may not import the pipeline
(pydantic, jsonschema, Jinja) just to show a default. This module imports nothing but
`pathlib`; the CLI reads its option defaults here and the library uses the same names, so no
copy can drift and no test has to keep copies equal.
"""

from __future__ import annotations

from pathlib import Path

#: Folder of the site files, relative to the repository root.
DEFAULT_SITES_DIR = Path("sites")
#: Parent of the rendered site folders, relative to the repository root.
DEFAULT_OUT_DIR = Path("rendered")
#: The documentation folder, relative to the repository root.
DEFAULT_DOCS_DIR = Path("docs")
#: The generated site reference page.
DEFAULT_REFERENCE_PATH = DEFAULT_DOCS_DIR / "site-reference.md"

#: Kubernetes ``X.Y`` a site targets when it sets no ``kubernetes_version`` (and the version
#: ``validate`` checks a folder against when it finds no site file for it).
DEFAULT_KUBE_VERSION = "1.33"

#: A site file is ``<sites dir>/<name>.yaml``.
SITE_SUFFIX = ".yaml"
#: The XCache origins file of a site, beside it: ``<name>.origins.yaml`` (written by
#: ``cric sync``, read by the loader).
ORIGINS_SUFFIX = ".origins.yaml"
#: The JSON Schema of site files, in the sites folder (for editors).
SCHEMA_FILE_NAME = "site.schema.json"
#: First line of a site file: points yaml-language-server at the schema beside it.
SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE_NAME}"

#: The example ``dlaas-gen init --from`` copies when none is named.
DEFAULT_EXAMPLE = "demo"
#: Answers ``dlaas-gen init`` accepts for the login (IdP kind), home storage and EOS mounts.
IDP_KINDS = ("none", "indigo-iam", "keycloak")
STORAGE_TYPES = ("dynamic", "static")
EOS_MODES = ("none", "daemonset", "csi")
