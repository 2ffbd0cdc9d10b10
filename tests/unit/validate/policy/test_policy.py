"""Security policy lint: every rule has a fixture that fails it; exceptions need justification."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from dlaas_gen.policy_catalog import BY_ID, RULES
from dlaas_gen.tree import load_tree
from dlaas_gen.validate.policy import PolicySettings, check_policy
from tests.conftest import FIXTURES, REPO, write_site

POLICY = FIXTURES / "policy"
SETTINGS = PolicySettings(host_roots=("/var/eos",), fuse_daemonset=("eos", "eosxd"))


#: ``# <- RULE: token`` ends the line where RULE must be reported, at the column of `token`.
MARK = re.compile(r"[ \t]+# <- (?P<rule>[A-Z]+[0-9]+): (?P<token>\S+)$", re.MULTILINE)


def findings(name: str, tmp_path: Path, settings: PolicySettings = SETTINGS) -> list[str]:
    shutil.copy(POLICY / f"{name}.yaml", tmp_path / "tree.yaml")
    return [p.rule for p in check_policy(load_tree(tmp_path), settings)]


def marked(path: Path) -> list[tuple[str, str, int, int]]:
    """(rule, level, line, column) of each ``# <- RULE: token`` mark in a fixture."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if match := MARK.search(line):
            col = line.index(match["token"]) + 1
            found.append((match["rule"], BY_ID[match["rule"]].severity, number, col))
    return found


def test_every_rule_has_a_failing_fixture() -> None:
    assert sorted(p.stem for p in POLICY.glob("*.yaml")) == sorted(r.id for r in RULES)


@pytest.mark.parametrize("rule", [r.id for r in RULES])
def test_fixture_fails_its_rule_alone_at_the_marked_position(rule: str, tmp_path: Path) -> None:
    """Each fixture breaks one rule once: that rule fires at its mark, and no other rule fires."""
    expected = marked(POLICY / f"{rule}.yaml")
    assert [r for r, *_ in expected] == [rule], "one mark per fixture, naming its rule"
    shutil.copy(POLICY / f"{rule}.yaml", tmp_path / "tree.yaml")
    found = [(p.rule, p.level, p.line, p.col) for p in check_policy(load_tree(tmp_path), SETTINGS)]
    assert found == expected
    [problem] = check_policy(load_tree(tmp_path), SETTINGS)
    assert problem.path.endswith("tree.yaml")


def test_unpinned_profile_image_is_reported_at_the_override(tmp_path: Path) -> None:
    text = (POLICY / "IMG001.yaml").read_text()
    text = MARK.sub("", text).replace(
        "      image: {name: example.org/nb, tag: latest}\n",
        "      image: {name: example.org/nb, tag: '1.0'}\n"
        "      profileList:\n"
        "        - display_name: A\n"
        "          kubespawner_override: {image: 'example.org/nb:latest'}\n")
    (tmp_path / "tree.yaml").write_text(text)
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "kubespawner_override" in t)
    col = lines[line - 1].index("image") + 1
    found = [(p.rule, p.line, p.col) for p in check_policy(load_tree(tmp_path), SETTINGS)]
    assert found == [("IMG001", line, col)]


def test_rules_have_id_severity_reason() -> None:
    for r in RULES:
        assert r.severity in ("error", "warning") and r.reason and "\n" not in r.reason


def test_exception_silences_one_object_and_rule(tmp_path: Path) -> None:
    settings = PolicySettings(exceptions={("CAP001", "Deployment", "apps", "app"): "because"})
    assert findings("CAP001", tmp_path, settings) == []
    other = PolicySettings(exceptions={("CAP001", "Deployment", "apps", "other"): "because"})
    assert findings("CAP001", tmp_path, other) == ["CAP001"]
    wrong_rule = PolicySettings(exceptions={("ESC001", "Deployment", "apps", "app"): "because"})
    assert findings("CAP001", tmp_path, wrong_rule) == ["CAP001"]


def test_privileged_exception_only_for_the_fuse_daemonset(tmp_path: Path) -> None:
    settings = PolicySettings(exceptions={("PRIV001", "Deployment", "apps", "app"): "because"})
    assert findings("PRIV001", tmp_path, settings) == ["PRIV001"]
    fuse = PolicySettings(fuse_daemonset=("apps", "app"),
                          exceptions={("PRIV001", "Deployment", "apps", "app"): "because"})
    assert findings("PRIV001", tmp_path, fuse) == []


@pytest.mark.parametrize("rule", ["PRIV004", "PRIV005"])
def test_host_namespaces_excepted_only_for_the_fuse_daemonset(rule: str, tmp_path: Path) -> None:
    excepted = {(rule, "Deployment", "apps", "app"): "because"}
    assert findings(rule, tmp_path, PolicySettings(exceptions=excepted)) == [rule]
    fuse = PolicySettings(fuse_daemonset=("apps", "app"), exceptions=excepted)
    assert findings(rule, tmp_path, fuse) == []
    [message] = [p.message for p in check_policy(load_tree(tmp_path), SETTINGS) if p.rule == rule]
    assert (
        "add a security.exceptions entry" not in message
        and "only the EOS FUSE DaemonSet" in message
    )


def test_escape_passes_with_its_fuse_exception_justified() -> None:
    built = build_site(REPO / "sites" / "escape.yaml")
    assert [p.format() for p in built.problems] == []
    rules = {e.rule for e in built.site.config.security.exceptions}
    assert rules == {"PRIV001", "PRIV002", "PRIV004", "PRIV005"}


def test_escape_without_exceptions_fails(tmp_path: Path) -> None:
    text = (REPO / "sites" / "escape.yaml").read_text()
    text = text[: text.index("\nsecurity:")] + "\n"
    (tmp_path / "escape.origins.yaml").write_text(
        (REPO / "sites" / "escape.origins.yaml").read_text()
    )
    built = build_site(write_site(tmp_path, "escape", text))
    failed = {p.rule for p in built.problems if p.is_error}
    assert failed == {"PRIV001", "PRIV002", "PRIV004", "PRIV005"}
    assert any(p.rule == "NET002" for p in built.problems)


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (
            "{rule: PRIV001, kind: DaemonSet, namespace: eos, name: eosxd, justification: because}",
            "at least 40 characters",
        ),
        (
            "{rule: NOPE001, kind: DaemonSet, name: eosxd, justification: "
            "'a long enough text that says nothing useful at all here'}",
            "unknown policy rule",
        ),
        (
            "{rule: PRIV001, kind: DaemonSet, name: eosxd, justification: "
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}",
            "at least 5 different words",
        ),
    ],
)
def test_exception_requires_a_justification(tmp_path: Path, exception: str, expected: str) -> None:
    text = (
        "singleuser:\n  image: {name: quay.io/jupyter/minimal-notebook, tag: '1'}\n"
        f"security:\n  exceptions:\n    - {exception}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_site(write_site(tmp_path, "s", text))
    [problem] = info.value.problems
    assert problem.line == 5 and expected in problem.message


def test_egress_rejects_any_address(tmp_path: Path) -> None:
    text = (
        "singleuser:\n  image: {name: quay.io/jupyter/minimal-notebook, tag: '1'}\n"
        "security:\n  egress:\n    iam: {cidrs: [0.0.0.0/0]}\n"
    )
    with pytest.raises(ConfigError, match="allows every address"):
        load_site(write_site(tmp_path, "s", text))
