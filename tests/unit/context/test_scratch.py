"""Scratch: the postStart hook creates $SCRATCH after the token files, the cleanup has an identity.

Rules are asserted at the file, line and column they report: site rules in the site file; the
rendered-tree rule at the site-file line that produced the hook, with the rendered HelmRelease's
line and column named in the message.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from dlaas_gen import yamlio
from dlaas_gen.context import SiteInput, build_context
from dlaas_gen.context.scratch import CLEANUP_UID, cleanup_command
from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from dlaas_gen.validate.tree_rules.scratch import hook_problems, simple_commands
from tests.conftest import REPO

ESCAPE = (REPO / "sites" / "escape.yaml").read_text()
ENDORSEMENT = (
    "  cleanup:                     # EOS maps this sss endorsement to an account that may delete\n"
    "    endorsement:\n      name: scratch-cleanup-eos\n      key: endorsement\n"
)
HOOK_RULE = "poststart-scratch-after-tokens"


def site_with(tmp_path: Path, old: str, new: str) -> Path:
    assert old in ESCAPE, old
    path = tmp_path / "s.yaml"
    path.write_text(ESCAPE.replace(old, new, 1))
    return path


def position(path: Path, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the first character of `needle` in `path`."""
    text = path.read_text()
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def errors(path: Path) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load_site(path)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def escape_values() -> dict:
    built = build_site(REPO / "sites" / "escape.yaml")
    hr = next(m for m in built.manifests if m.kind == "HelmRelease")
    return yamlio.plain(hr.doc)["spec"]["values"]["singleuser"]


# -- postStart -------------------------------------------------------------------------------


def test_hook_lets_the_renewer_create_scratch_after_the_tokens() -> None:
    values = escape_values()
    command = values["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    [step] = simple_commands(command)
    assert step == [
        "python3",
        "/opt/dlaas/token_renewer.py",
        "--config",
        "/opt/dlaas/token-renewer.json",
        "--detach",
        "--mkdir",
        "$SCRATCH",
    ]
    assert "|| true" not in command[2]  # nothing hides a failure any more
    assert values["extraEnv"]["DLAAS_TOKEN_RENEWER_CONFIG"] == "/opt/dlaas/token-renewer.json"
    assert list(hook_problems(values)) == []


def test_simple_commands_split_like_the_shell() -> None:
    script = 'mkdir -p "$SCRATCH" || true; a && b "x;y"\nc | d &'
    assert simple_commands(["/bin/sh", "-c", script]) == [
        ["mkdir", "-p", "$SCRATCH"],
        ["true"],
        ["a"],
        ["b", "x;y"],
        ["c"],
        ["d"],
    ]
    assert simple_commands(["python3", "x.py"]) == [["python3", "x.py"]]


@pytest.mark.parametrize(
    "script, expected",
    [
        (
            'mkdir -p "$SCRATCH" || true; {renewer} --detach --mkdir "$SCRATCH"',
            "the postStart hook uses $SCRATCH outside the token renewer (`mkdir -p $SCRATCH`)",
        ),
        (
            '{renewer} --detach --mkdir "$SCRATCH"; touch "${{SCRATCH}}/x"',
            "the postStart hook uses $SCRATCH outside the token renewer (`touch ${SCRATCH}/x`)",
        ),
        ("{renewer} --detach", "the postStart hook never creates $SCRATCH"),
        (
            '{renewer} --once --mkdir "$SCRATCH"',
            "the postStart hook uses $SCRATCH outside the token renewer",
        ),
    ],
)
def test_rule_refuses_scratch_outside_the_renewer(script: str, expected: str) -> None:
    values = escape_values()
    renewer = "python3 /opt/dlaas/token_renewer.py --config /opt/dlaas/token-renewer.json"
    values["lifecycleHooks"]["postStart"]["exec"]["command"][2] = script.format(renewer=renewer)
    [(var, message)] = hook_problems(values)
    assert var == "SCRATCH" and message.startswith(expected)
    assert "/var/run/dlaas-tokens/eos.token" in message


def test_rule_needs_no_hook_without_oauth2() -> None:
    values = escape_values()
    del values["extraEnv"]["OAUTH2_TOKEN"]
    values["lifecycleHooks"]["postStart"]["exec"]["command"][2] = 'mkdir -p "$SCRATCH"'
    assert list(hook_problems(values)) == []


def test_a_site_bringing_back_the_old_hook_is_refused_at_the_rendered_line(tmp_path: Path) -> None:
    """``extra_values`` replaces the hook list (helm-controller merge): the rule still sees it."""
    old_hook = (
        "python3 /opt/dlaas/token_renewer.py --config /opt/dlaas/token-renewer.json "
        '--detach || true; mkdir -p "$SCRATCH" || true'
    )
    extra = (
        "extra_values:\n  singleuser:\n    lifecycleHooks:\n      postStart:\n        exec:\n"
        f"          command: [/bin/sh, -c, {shlex.quote(old_hook)}]\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(ESCAPE + "\n" + extra)
    (tmp_path / "s.origins.yaml").write_text((REPO / "sites" / "escape.origins.yaml").read_text())
    built = build_site(path)
    found = [p for p in built.problems if p.rule == HOOK_RULE]
    assert len(found) == 1 and found[0].is_error
    [problem] = found
    # Reported at the site-file line that sets the hook (the command item in extra_values) ...
    assert (problem.path, problem.line, problem.col) == (
        str(path),
        *position(path, shlex.quote(old_hook)),
    )
    # ... naming the rendered HelmRelease and the hook's line and column there.
    hr = next(m for m in built.manifests if m.kind == "HelmRelease")
    match = re.search(
        rf"\(rendered HelmRelease jhub/jhub, {re.escape(hr.path)}:(\d+):(\d+)\)$", problem.message
    )
    assert match, problem.message
    lines = hr.text.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "mkdir -p" in text)
    assert (int(match[1]), int(match[2])) == (line, lines[line - 1].index("- ") + 3)
    assert "outside the token renewer (`mkdir -p $SCRATCH`)" in problem.message


# -- cleanup identity ------------------------------------------------------------------------


def test_cleanup_without_identity_is_refused_at_scratch(tmp_path: Path) -> None:
    path = site_with(tmp_path, ENDORSEMENT, "")
    [(line, col, message)] = errors(path)
    assert (line, col) == (position(path, "\nscratch:\n")[0] + 1, 1)
    assert message.startswith(
        "the scratch cleanup needs an EOS identity that may delete: set scratch.cleanup.endorsement"
    )


def test_cleanup_block_without_endorsement_is_refused_at_cleanup(tmp_path: Path) -> None:
    path = site_with(tmp_path, ENDORSEMENT, '  cleanup:\n    schedule: "5 * * * *"\n')
    [(line, col, message)] = errors(path)
    assert (line, col) == position(path, "cleanup:\n    schedule")
    assert "scratch.cleanup.endorsement" in message


def test_endorsement_needs_sss_on_the_scratch_instance(tmp_path: Path) -> None:
    path = site_with(
        tmp_path,
        "      remote_mount_dir: /eos/eulake/\n",
        "      remote_mount_dir: /eos/eulake/\n      sss: false\n",
    )
    found = errors(path)
    line, col = position(path, "endorsement:\n      name: scratch-cleanup-eos")
    assert (
        line,
        col,
        "the endorsement rides on sss, but EOS instance 'eulake' has sss: false",
    ) in found


def test_endorsement_needs_eosxd_in_the_host_pid_namespace(tmp_path: Path) -> None:
    path = site_with(
        tmp_path, "  token_service: eos\n", "  token_service: eos\n  host_pid: false\n"
    )
    found = [f for f in errors(path) if "endorsement" in f[2]]
    assert [(line, col) for line, col, _ in found] == [
        position(path, "endorsement:\n      name: scratch-cleanup-eos")
    ]
    assert "eos.host_pid: true" in found[0][2]


def test_cleanup_cronjob_runs_with_the_endorsement_as_nobody() -> None:
    built = build_site(REPO / "sites" / "escape.yaml")
    cron = yamlio.plain(next(m for m in built.manifests if m.kind == "CronJob").doc)
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == CLEANUP_UID == 65534
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["env"] == [
        {
            "name": "XrdSecsssENDORSEMENT",
            "valueFrom": {"secretKeyRef": {"name": "scratch-cleanup-eos", "key": "endorsement"}},
        }
    ]
    assert container["command"] == cleanup_command("/scratch", 48)
    assert container["volumeMounts"][0]["mountPath"] == "/scratch"
    ctx = build_context(SiteInput(built.site.name, built.site.config))
    [row] = [s for s in ctx.secrets if s.name == "scratch-cleanup-eos"]
    assert row.namespace == "jhub" and row.key == "endorsement"
    assert row.target == "CronJob scratch-cleanup env XrdSecsssENDORSEMENT"


def test_cleanup_command_fails_visibly() -> None:
    script = cleanup_command("/scratch", 48)[2]
    assert "-mmin +2880" in script and "-mindepth 2" in script and "-xdev" in script
    assert "exit 0" not in script and "-delete" not in script and "-mtime" not in script
    assert script.startswith("set -o pipefail;") and script.endswith('exit "$rc"')
    assert "xargs -0 -r -t rm -f || rc=1" in script and "xargs -0 -r -t rmdir || rc=1" in script
