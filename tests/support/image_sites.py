"""A small site with built images and the data-lake sections that need them (shared by tests)."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen.defaults import SCHEMA_LINE

DIGEST_1 = "1" * 64
DIGEST_2 = "2" * 64

SITE = f"""{SCHEMA_LINE}
ingress: {{host: hub.example.org, tls_secret: tls}}
auth:
  issuer: https://iam.example.org/
  client_id: {{name: c, key: id}}
  client_secret: {{name: c, key: secret}}
  allow: {{mode: all}}
rucio:
  instances:
    - name: rucio.example.org
      display_name: Rucio
      base_url: https://rucio.example.org
      ca_cert: /etc/ssl/certs/ca.pem
      mode: download
images:
  lab:
    base: quay.io/jupyter/docker-stacks-foundation:python-3.12@sha256:{DIGEST_1}
    pip: [jupyterhub==5.5.4, rucio-jupyterlab==41.0.0, rucio-clients==41.5.1]
    registry: registry.example.org/lab
  root:
    from: lab
    conda: [root=6.32.8]
  alma:
    base: docker.io/library/almalinux:9@sha256:{DIGEST_2}
    family: alma9
    pip: [jupyterhub==5.5.4, rucio-jupyterlab==41.0.0]
    registry: registry.example.org/alma
singleuser:
  image: {{build: alma}}
profiles:
  - slug: lab
    display_name: Lab
    image: {{build: lab}}
  - slug: root
    display_name: ROOT
    image: {{build: root}}
  - slug: default
    display_name: Default
"""


def write(tmp_path: Path, text: str = SITE, name: str = "s") -> Path:
    folder = tmp_path / "sites"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str, after: str | None = None) -> int:
    """1-based line of the first line containing `needle` (after the line containing `after`)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines, 1) if i > start and needle in line)
