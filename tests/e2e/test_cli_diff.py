"""``dlaas-gen diff`` end to end: a real process, real files, a real git repository."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app
from tests.support import diff_fixtures as fx

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items()
            if k not in ("NO_COLOR", "CI_MERGE_REQUEST_DIFF_BASE_SHA")}
    return subprocess.run(
        [sys.executable, "-m", "dlaas_gen", "diff", *args],
        cwd=cwd, capture_output=True, text=True, env={**base, **(env or {})}, check=False,
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return fx.write_pair(tmp_path_factory.mktemp("pair"))


def test_text_default_exit_zero(pair):
    proc = run(str(pair[0]), str(pair[1]))
    assert proc.returncode == 0, proc.stderr
    assert "11 changed, 2 added, 2 removed, 1 moved, 2 unchanged" in proc.stdout
    assert "\033[" not in proc.stdout  # not a TTY
    for value in fx.SECRET_VALUES:
        assert value not in proc.stdout


def test_exit_code_flag(pair):
    assert run(str(pair[0]), str(pair[1]), "--exit-code").returncode == 1
    assert run(str(pair[0]), str(pair[0]), "--exit-code").returncode == 0


@pytest.mark.parametrize("fmt", ["json", "markdown", "text"])
def test_formats(pair, fmt):
    proc = run(str(pair[0]), str(pair[1]), "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    if fmt == "json":
        assert json.loads(proc.stdout)["version"] == 1
    elif fmt == "markdown":
        assert proc.stdout.startswith("### dlaas-gen diff")


def test_limit_bytes_and_output_file(pair, tmp_path):
    out = tmp_path / "comment.md"
    proc = run(str(pair[0]), str(pair[1]), "-f", "markdown", "--limit-bytes", "4096",
               "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert len(out.read_bytes()) <= 4096
    assert "Truncated to 4096 bytes" in out.read_text()


def test_ignore_options_and_context(tmp_path):
    old = fx.write_tree(tmp_path / "o", {"a/c.yaml": [fx.cm("c", "n", {"x": "1"}, labels={
        "helm.sh/chart": "a-1", "team": "x"})]})
    new = fx.write_tree(tmp_path / "n", {"a/c.yaml": [fx.cm("c", "n", {"x": "1"}, labels={
        "helm.sh/chart": "a-2", "team": "y"})]})
    assert "team" in run(str(old), str(new)).stdout
    quiet = run(str(old), str(new), "--ignore-labels", "team,other", "--exit-code")
    assert quiet.returncode == 0 and "No differences." in quiet.stdout
    loud = run(str(old), str(new), "--ignore-labels", "team", "--no-default-ignores", "-U", "0")
    assert "+    helm.sh/chart: a-2" in loud.stdout and "@@ -5 +5 @@" in loud.stdout


def test_color_on_tty_respects_no_color(pair):
    def on_tty(env):
        master, slave = pty.openpty()
        base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        proc = subprocess.run([sys.executable, "-m", "dlaas_gen", "diff", str(pair[0]),
                               str(pair[1])], stdout=slave, stderr=subprocess.PIPE,
                              env={**base, **env}, check=False)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        assert proc.returncode == 0
        return b"".join(chunks).decode()

    assert "\033[32m" in on_tty({})
    assert "\033[" not in on_tty({"NO_COLOR": "1"})


@pytest.mark.parametrize(("args", "message"), [
    (["only-one"], "give both OLD_DIR and NEW_DIR"),
    (["missing-old", "."], "old tree missing-old does not exist"),
    (["-f", "json", "--limit-bytes", "10", "a", "b"], "--limit-bytes applies to text"),
])
def test_usage_errors(args, message, tmp_path):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"dlaas-gen: {proc.stderr.strip()[len('dlaas-gen: '):]}"
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_no_base_outside_ci(tmp_path):
    proc = run(cwd=tmp_path)
    assert proc.returncode == 2 and "give --base REF" in proc.stderr


def test_bad_option_is_usage(pair):
    assert run(str(pair[0]), str(pair[1]), "--format", "xml").returncode == 2
    assert run(str(pair[0]), str(pair[1]), "--context", "-1").returncode == 2


def test_invalid_yaml_is_exit_2_without_secret(tmp_path, pair):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "s.yaml").write_text("kind: Secret\nstringData:\n  a: topsecret1\n  a: topsecret2\n")
    proc = run(str(pair[0]), str(bad))
    assert proc.returncode == 2
    assert "invalid YAML in the new side" in proc.stderr and "topsecret" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_internal_error_exit_3(monkeypatch, pair):
    import dlaas_gen.commands.diff as lib

    def boom(*_args, **_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(lib, "diff_dirs", boom)
    result = CliRunner().invoke(app, ["diff", str(pair[0]), str(pair[1])])
    assert result.exit_code == 3


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
class TestGitMode:
    @pytest.fixture()
    def repo(self, tmp_path):
        root = tmp_path / "repo"
        root.mkdir()

        def git(*args):
            _git(root, *args)

        git("init", "-q", "-b", "main")
        fx.write_tree(root / "rendered" / "site-a", fx.old_tree())
        git("add", "-A")
        git("commit", "-q", "-m", "base")
        git("checkout", "-q", "-b", "mr")
        shutil.rmtree(root / "rendered")
        fx.write_tree(root / "rendered" / "site-a", fx.new_tree())
        return root

    def test_base_ref(self, repo):
        proc = run("--base", "main", "--format", "json", "--exit-code", cwd=repo)
        assert proc.returncode == 1, proc.stderr
        data = json.loads(proc.stdout)
        assert data["old"] == "main:rendered" and data["new"] == "working tree:rendered"
        assert data["summary"]["changed"] == 11
        assert {r["site"] for r in data["resources"]} == {"site-a"}

    def test_ci_variable(self, repo):
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "mr")
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                              text=True, check=True).stdout.strip()
        proc = run("--exit-code", cwd=repo, env={"CI_MERGE_REQUEST_DIFF_BASE_SHA": head})
        assert proc.returncode == 0, proc.stderr
        assert "No differences." in proc.stdout

    def test_missing_base(self, repo):
        proc = run("--base", "origin/main", cwd=repo)
        assert proc.returncode == 2
        assert "base ref 'origin/main' is not a commit" in proc.stderr

    def test_shallow_clone(self, repo, tmp_path):
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "mr")
        clone = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", "--branch",
                        "mr", repo.as_uri(), str(clone)], check=True, capture_output=True,
                       env={**os.environ, **GIT_ENV})
        proc = run("--base", "origin/main", cwd=clone)
        assert proc.returncode == 2
        assert "git fetch --unshallow" in proc.stderr and "GIT_DEPTH" in proc.stderr
