"""A Helm chart repository for tests: small charts built here, an ``index.yaml`` with digests.

The charts default to the vendored z2jh 4.4.0 ``values.yaml`` and ``values.schema.json`` under
another version number, so a site pinning them renders like a real z2jh site.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from typing import Any

from dlaas_gen import yamlio
from dlaas_gen.resources import schemas_dir

VERSION = "4.3.9"


def z2jh_values_text() -> str:
    return (schemas_dir() / "z2jh" / "values.yaml").read_text(encoding="utf-8")


def z2jh_schema() -> dict[str, Any]:
    return json.loads((schemas_dir() / "z2jh" / "values.schema.json").read_text(encoding="utf-8"))


def build_chart(
    version: str = VERSION,
    *,
    name: str = "jupyterhub",
    values_text: str | None = None,
    schema: dict[str, Any] | None = None,
    templates: dict[str, str] | None = None,
    chart_yaml_version: str | None = None,
    with_schema: bool = True,
) -> bytes:
    """A packaged chart (``<name>/Chart.yaml``, ``values.yaml``, ``values.schema.json``...)."""
    files = {
        f"{name}/Chart.yaml": (f"apiVersion: v2\nname: {name}\n"
                               f"version: {chart_yaml_version or version}\n"),
        f"{name}/values.yaml": z2jh_values_text() if values_text is None else values_text,
    }
    if with_schema:
        files[f"{name}/values.schema.json"] = json.dumps(
            z2jh_schema() if schema is None else schema
        )
    for path, text in (templates or {}).items():
        files[f"{name}/templates/{path}"] = text
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in sorted(files.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def index_yaml(
    charts: dict[str, bytes], *, name: str = "jupyterhub", digests: dict[str, str] | None = None
) -> str:
    """An index listing each ``version → archive`` under ``<name>-<version>.tgz`` (relative)."""
    entries = [
        {
            "apiVersion": "v2",
            "name": name,
            "version": version,
            "digest": (digests or {}).get(version, digest(data)),
            "urls": [f"{name}-{version}.tgz"],
        }
        for version, data in charts.items()
    ]
    return yamlio.dump_doc({"apiVersion": "v1", "entries": {name: entries}})


def serve(
    httpserver,
    charts: dict[str, bytes],
    *,
    prefix: str = "/helm/",
    digests: dict[str, str] | None = None,
) -> str:
    """Serve an index and the archives under `prefix`; return the repository URL."""
    httpserver.expect_request(f"{prefix}index.yaml").respond_with_data(
        index_yaml(charts, digests=digests), content_type="application/x-yaml"
    )
    for version, data in charts.items():
        httpserver.expect_request(f"{prefix}jupyterhub-{version}.tgz").respond_with_data(
            data, content_type="application/gzip"
        )
    return httpserver.url_for(prefix)
