"""dlaas-gen: typed site configuration to Flux v2 GitOps manifests for a Data Lake as a Service.

Why the ``sys.modules`` line: jsonschema imports the optional ``rfc3987_syntax`` package when it
is installed (jupyter_server pulls it into the test environment), and that package compiles a
grammar at import time, ~1.2 s on every start. dlaas-gen never validates JSON Schema
``format``, so the package is hidden from jsonschema unless something imported it already;
jsonschema then simply has no checker for that one format.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
