"""What the policy is told about a site: hostPath roots, the FUSE DaemonSet, the exceptions.

Why: the policy checks rendered objects only; whoever validates a tree (the pipeline, from the
site it renders or the site file of a rendered folder) builds these settings and passes them
in, so the policy never reads a site file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PolicySettings:
    """What the policy needs to know about the site.

    Attributes:
        host_roots: folders hostPath volumes may use (and anything below them).
        fuse_daemonset: ``(namespace, name)`` of the EOS FUSE DaemonSet, if the site has one.
        exceptions: ``{(rule, kind, namespace, name): justification}``.
        charts_dir: the repository's chart locks (``charts/``), for the chart defaults.
    """

    host_roots: tuple[str, ...] = ()
    fuse_daemonset: tuple[str, str] | None = None
    exceptions: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    charts_dir: Path | None = None
