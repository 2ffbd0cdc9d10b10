"""``dlaas-gen init`` asks the questions that decide a site; each answer is also a flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen import yamlio
from dlaas_gen.cli import app
from dlaas_gen.commands import init as scaffold

KEYCLOAK = "https://sso.example.org/realms/lab"


def run(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def _site(tmp_path: Path, name: str) -> dict:
    return yamlio.load_fast((tmp_path / "sites" / f"{name}.yaml").read_text())


@pytest.mark.parametrize(
    ("flags", "expect"),
    [
        (
            [
                "--idp",
                "keycloak",
                "--issuer",
                KEYCLOAK,
                "--storage",
                "static",
                "--eos",
                "csi",
                "--no-xcache",
                "--git-url",
                "https://git.example.org/lab/deploy.git",
            ],
            {
                "provider": "keycloak",
                "storage": "static",
                "eos": "csi",
                "xcache": False,
                "git": "https",
            },
        ),
        (
            [
                "--idp",
                "indigo-iam",
                "--issuer",
                "https://iam.example.org/",
                "--storage",
                "dynamic",
                "--eos",
                "daemonset",
                "--xcache",
                "--git-url",
                "ssh://git@git.example.org/lab/deploy.git",
            ],
            {
                "provider": "indigo-iam",
                "storage": "dynamic",
                "eos": "daemonset",
                "xcache": True,
                "git": "ssh",
            },
        ),
        (
            ["--no-interactive"],
            {"provider": None, "storage": "dynamic", "eos": None, "xcache": False, "git": None},
        ),
    ],
)
def test_flags_write_a_site_that_renders(
    runner: CliRunner, tmp_path: Path, monkeypatch, flags, expect
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "init", "lab", *flags)
    assert result.exit_code == 0, result.output
    assert "wrote sites/lab.yaml (from your answers)" in result.stdout
    data = _site(tmp_path, "lab")
    assert (data.get("auth") or {}).get("provider") == expect["provider"]
    assert data["storage"]["type"] == expect["storage"]
    assert (data.get("eos") or {}).get("mode") == expect["eos"]
    assert ("xcache" in data) is expect["xcache"]
    source = (data.get("gitops") or {}).get("source")
    assert (source["url"].split(":")[0] if source else None) == expect["git"]
    # The render lock is ignored by git, and the site renders, validates and stays up to date.
    assert (tmp_path / ".gitignore").read_text() == ".dlaas-gen.lock\n"
    assert "wrote .gitignore" in result.stdout
    assert run(runner, "render").exit_code == 0
    assert run(runner, "validate").exit_code == 0
    assert run(runner, "render", "--check").exit_code == 0


def test_questions_are_asked_when_interactive(
    runner: CliRunner, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    answers = "\n".join(["keycloak", KEYCLOAK, "static", "csi", "y", ""]) + "\n"
    result = run(runner, "init", "lab", "--interactive", input=answers)
    assert result.exit_code == 0, result.output
    for question in (
        "Login (IdP kind) (none/indigo-iam/keycloak)",
        "Issuer URL",
        "Home directories (dynamic/static)",
        "EOS mounts (none/daemonset/csi)",
        "XCache in front of an origin?",
        "Own Git repository URL",
    ):
        assert question in result.stdout
    data = _site(tmp_path, "lab")
    assert data["auth"]["issuer"] == KEYCLOAK and data["eos"]["mode"] == "csi"
    assert data["storage"]["type"] == "static" and "xcache" in data and "gitops" not in data
    assert data["xcache"]["site_name"] == "DLAAS-lab.example.org"  # unique to the deployment
    assert run(runner, "render").exit_code == 0


def test_flags_skip_their_questions(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(
        runner,
        "init",
        "lab",
        "--interactive",
        "--idp",
        "none",
        "--storage",
        "dynamic",
        "--eos",
        "none",
        "--no-xcache",
        input="\n",
    )
    assert result.exit_code == 0, result.output
    assert "Login" not in result.stdout and "Own Git repository URL" in result.stdout


def test_existing_gitignore_is_extended_once(
    runner: CliRunner, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("*.pyc")
    assert run(runner, "init", "a", "--no-interactive").exit_code == 0
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.dlaas-gen.lock\n"
    result = run(runner, "init", "b", "--from", "demo")
    assert result.exit_code == 0 and "gitignore" not in result.stdout
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.dlaas-gen.lock\n"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--eos", "csi"], "EOS mounts need a login"),
        (["--idp", "keycloak"], "--idp keycloak needs --issuer"),
        (["--storage", "nfs"], "--storage 'nfs': choose one of dynamic, static"),
    ],
)
def test_impossible_answers_are_usage_errors(
    runner: CliRunner, tmp_path: Path, monkeypatch, flags, message
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "init", "lab", "--no-interactive", *flags)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "sites").exists()


def test_keycloak_issuer_without_realm_is_refused(
    runner: CliRunner, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(
        runner,
        "init",
        "lab",
        "--idp",
        "keycloak",
        "--issuer",
        "https://sso.example.org/",
        "--no-interactive",
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "dlaas-gen: --issuer https://sso.example.org/: a Keycloak issuer ends "
        "with /realms/<realm>\n"
    )
    assert not (tmp_path / "sites/lab.yaml").exists()


def test_a_site_that_does_not_validate_names_the_target(tmp_path: Path, monkeypatch) -> None:
    from dlaas_gen.errors import ProblemsError

    text = "singleuser: {image: {name: x}}\n"
    monkeypatch.setattr(scaffold, "site_text_from_answers", lambda *_args, **_kwargs: text)
    with pytest.raises(ProblemsError) as info:
        scaffold.init_site_from_answers("lab", tmp_path / "sites", scaffold.Answers())
    assert {p.path for p in info.value.problems} == {str(tmp_path / "sites/lab.yaml")}
    assert not (tmp_path / "sites/lab.yaml").exists()
