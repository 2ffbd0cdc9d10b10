"""validate's view of valuesFrom: the shared resolution's notes become located problems."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen.helmvalues import secret_placeholder
from dlaas_gen.tree import load_tree
from dlaas_gen.validate.values import release_values

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hub
  namespace: jhub
spec:
  interval: 5m
  chart:
    spec:
      chart: jupyterhub
      version: 4.4.0
      sourceRef: {kind: HelmRepository, name: jupyterhub}
  valuesFrom:
    - kind: ConfigMap
      name: gone
    - kind: ConfigMap
      name: profiles
      valuesKey: nope
    - kind: ConfigMap
      name: profiles
      valuesKey: nope
      optional: true
    - kind: ConfigMap
      name: broken
    - kind: Secret
      name: oauth
      valuesKey: client_id
      targetPath: hub.config.GenericOAuthenticator.client_id
    - kind: ConfigMap
      name: profiles
  values:
    singleuser: {defaultUrl: /lab}
"""

CONFIGMAPS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: profiles, namespace: jhub}
data:
  values.yaml: "singleuser: {cmd: start}"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken, namespace: jhub}
data:
  values.yaml: "a: ["
"""


def test_values_from_notes_become_problems_at_their_entries(tmp_path: Path) -> None:
    (tmp_path / "hr.yaml").write_text(RELEASE)
    (tmp_path / "cm.yaml").write_text(CONFIGMAPS)
    tree = load_tree(tmp_path)
    [release] = [m for m in tree if m.kind == "HelmRelease"]
    values, problems = release_values(release, tree)
    found = [(p.path, p.line, p.col, p.level, p.rule, p.message) for p in problems]
    assert found == [
        ("hr.yaml", 14, 7, "warning", "values-from",
         "ConfigMap jhub/gone is not in this tree; its values are not checked"),
        ("hr.yaml", 16, 7, "error", "values-from", "ConfigMap jhub/profiles has no key 'nope'"),
        ("cm.yaml", 0, 0, "error", "values-from",
         "values.yaml is not valid YAML: while parsing a flow node"),
    ]
    assert values == {
        "singleuser": {"cmd": "start", "defaultUrl": "/lab"},
        "hub": {"config": {"GenericOAuthenticator": {
            "client_id": secret_placeholder("oauth", "client_id")}}},
    }
