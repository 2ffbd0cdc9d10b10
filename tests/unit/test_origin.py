"""Problems in rendered objects are reported at the site-file line that produced them."""

from __future__ import annotations

import shutil
from pathlib import Path

from dlaas_gen.pipeline import build_site
from tests.conftest import REPO


def _escape(tmp_path: Path, edit) -> Path:
    sites = tmp_path / "sites"
    sites.mkdir()
    shutil.copy(REPO / "sites/escape.origins.yaml", sites)
    text = edit((REPO / "sites/escape.yaml").read_text())
    (sites / "escape.yaml").write_text(text)
    return sites / "escape.yaml"


def _line_of(path: Path, prefix: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and line.startswith(prefix))


def test_extra_values_problem_points_at_its_line(tmp_path: Path) -> None:
    path = _escape(
        tmp_path, lambda t: t + "extra_values:\n  hub:\n    networkPolicy:\n      enabled: false\n"
    )
    built = build_site(path, tmp_path / "rendered")
    (net,) = [p for p in built.problems if p.rule == "NET001"]
    policy = _line_of(path, "    networkPolicy:")
    assert (net.path, net.line, net.col) == (str(path), policy, 5)
    assert net.message.startswith(
        "HelmRelease jhub/jhub: hub.networkPolicy is disabled (in apps/helmrelease-jhub.yaml:"
    )


def test_section_problem_points_at_the_section(tmp_path: Path) -> None:
    def drop_exceptions(text: str) -> str:
        return text[: text.index("  exceptions:\n")] + text[text.index("  egress:\n") :]

    path = _escape(tmp_path, drop_exceptions)
    built = build_site(path, tmp_path / "rendered")
    found = sorted((p.rule, p.path, p.line, p.col) for p in built.problems if p.is_error)
    eos = _line_of(path, "eos:")
    # privileged, Bidirectional, hostPID and hostNetwork: every exception of the eosxd DaemonSet
    rules = ("PRIV001", "PRIV002", "PRIV004", "PRIV005")
    assert found == [(rule, str(path), eos, 1) for rule in rules]
    priv = next(p for p in built.problems if p.rule == "PRIV001")
    assert "(in infrastructure/daemonset-eosxd.yaml:" in priv.message
    assert priv.message.startswith("DaemonSet eos/eosxd: container 'eosxd' is privileged")
    # Nothing points at a rendered file that was never written.
    assert not (tmp_path / "rendered").exists()
    assert all(p.path == str(path) for p in built.problems)
