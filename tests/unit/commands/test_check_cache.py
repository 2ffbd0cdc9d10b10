"""``render --check`` from the cache: a stale cache never gives a stale result.

Each input is changed one at a time after a check that passed and was stored; the check that
follows must not come from the cache and must equal a check without the cache. A damaged or
forged entry is a miss, a hand edit under rendered/ is still found, and the inputs the key
covers are every file a full render opens (an audit of the ``open`` events).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlaas_gen
from dlaas_gen import resources, templating
from dlaas_gen.cli import app
from dlaas_gen.commands import check_cache
from dlaas_gen.commands.check_cache import cache_dir, render_check
from dlaas_gen.errors import ProblemsError
from dlaas_gen.resources import user_cache_dir
from tests.conftest import REPO

SITES, OUT = Path("sites"), Path("rendered")

Result = tuple[str, list[str], list[str]]


def check(names: tuple[str, ...] = (), out: Path = OUT, *,
          use_cache: bool = True) -> tuple[Result, bool]:
    """(outcome, came from the cache) of one ``render --check``."""
    try:
        done = render_check(SITES, names, out, use_cache=use_cache)
    except ProblemsError as exc:
        return ("problems", [], [p.format() for p in exc.problems]), False
    return ("ok", done.sites, [p.format() for p in done.problems]), done.cached


def warm(names: tuple[str, ...] = (), out: Path = OUT) -> Result:
    """A passing check, stored, then answered from the cache."""
    first, cached = check(names, out)
    assert first[0] == "ok" and not cached, first
    again, cached = check(names, out)
    assert cached and again == first
    return first


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for folder in ("sites", "rendered"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    templating.make_environment.cache_clear()  # change_template's environment must not stay


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def change_site(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    edit(repo / "sites/demo.yaml", "demo-hub.example.org", "demo-hub2.example.org")


def change_origins(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    edit(repo / "sites/escape.origins.yaml", "xrootd.pic.es:1094", "xrootd2.pic.es:1094")


def add_chart_lock(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    lock = repo / "charts/jupyterhub-4.4.0"  # a lock of the vendored version takes precedence
    shutil.copytree(REPO / "dlaas_gen/data/schemas/z2jh", lock)
    (lock / "values.schema.json").write_text("[]\n")  # not a schema: the sites fail


def change_template(repo: Path, mp: pytest.MonkeyPatch) -> None:
    copy = repo / "templates-copy"
    shutil.copytree(resources.templates_dir(), copy)
    edit(copy / "core/namespace.yaml.j2", "metadata:", "metadata:  # changed")
    for module in (templating, check_cache):
        mp.setattr(module, "templates_dir", lambda: copy)
    templating.make_environment.cache_clear()


def change_package_file(repo: Path, mp: pytest.MonkeyPatch) -> None:
    copy = repo / "package-copy"
    shutil.copytree(Path(dlaas_gen.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    mp.setattr(dlaas_gen, "__file__", str(copy / "__init__.py"))
    warm()  # stored for the copy
    (copy / "pipeline.py").write_text((copy / "pipeline.py").read_text() + "\n# changed\n")


def change_dependency(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    (repo / "deps/somelib-1.0.dist-info").rename(repo / "deps/somelib-1.1.dist-info")


def share_ingress_host(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    (repo / "sites/other.yaml").write_text((repo / "sites/escape.yaml").read_text())


def hand_edit_rendered(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    path = repo / "rendered/escape/apps/namespace-jhub.yaml"
    path.write_bytes(path.read_bytes() + b"# hand edit\n")


def extra_rendered_file(repo: Path, _mp: pytest.MonkeyPatch) -> None:
    (repo / "rendered/escape/apps/extra.yaml").write_text("a: 1\n")


MUTATIONS: list[Callable[[Path, pytest.MonkeyPatch], None]] = [
    change_site, change_origins, add_chart_lock, change_template, change_package_file,
    change_dependency, share_ingress_host, hand_edit_rendered, extra_rendered_file,
]
#: Mutations whose full check has another outcome than before (the test has teeth).
CHANGES_OUTCOME = {"change_site", "change_origins", "add_chart_lock", "change_template",
                   "share_ingress_host", "hand_edit_rendered", "extra_rendered_file"}


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda f: f.__name__)
def test_each_changed_input_gives_the_uncached_result(
        repo: Path, monkeypatch: pytest.MonkeyPatch,
        mutate: Callable[[Path, pytest.MonkeyPatch], None]) -> None:
    (repo / "deps/somelib-1.0.dist-info").mkdir(parents=True)
    search_path = check_cache._search_path()
    monkeypatch.setattr(check_cache, "_search_path", lambda: [str(repo / "deps"), *search_path])
    names = ("escape",) if mutate is share_ingress_host else ()
    before = warm(names)
    mutate(repo, monkeypatch)
    cached_result, cached = check(names)
    assert not cached
    assert cached_result == check(names, use_cache=False)[0]
    if mutate.__name__ in CHANGES_OUTCOME:
        assert cached_result != before
    if cached_result[0] == "ok":  # stored again: the next check is a hit with the same result
        assert check(names) == (cached_result, True)


def test_warnings_are_printed_again_on_a_hit(repo: Path) -> None:
    share_ingress_host(repo, pytest.MonkeyPatch())
    result = warm(("escape",))
    assert any("[shared-host]" in p and "warning" in p for p in result[2]), result


def test_out_and_selection_are_part_of_the_key(repo: Path) -> None:
    shutil.copytree(repo / "rendered", repo / "elsewhere")
    warm()
    assert check(out=Path("elsewhere")) == (check(out=Path("elsewhere"), use_cache=False)[0],
                                           False)
    assert check(("demo",))[1] is False
    assert check(("demo",))[0] == check(("demo",), use_cache=False)[0]


def entry_file() -> Path:
    [entry] = list(cache_dir().glob("*.json"))
    return entry


@pytest.mark.parametrize("damage", ["truncate", "garbage", "forged-output", "forged-sum",
                                    "other-key", "errors"])
def test_a_damaged_or_forged_entry_is_a_miss(repo: Path, damage: str) -> None:
    warm()
    hand_edit_rendered(repo, pytest.MonkeyPatch())  # the entry must not hide this drift
    path = entry_file()
    entry = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\xff\x00not json")
    elif damage == "forged-output":  # claims the hand-edited tree, without a valid sum
        entry["output"] = check_cache.output_digest(OUT)
        path.write_text(json.dumps(entry))
    elif damage == "forged-sum":
        entry["output"] = check_cache.output_digest(OUT)
        entry["sum"] = "0" * 64
        path.write_text(json.dumps(entry))
    elif damage == "other-key":  # a valid entry under another key's file name
        path.rename(path.with_name("0" * 64 + ".json"))
        entry["key"] = "0" * 64
    elif damage == "errors":
        entry["problems"] = [{"path": "x", "line": 1, "col": 1, "level": "error", "rule": "r",
                              "message": "m"}]
        entry["output"] = check_cache.output_digest(OUT)
        del entry["sum"]
        entry["sum"] = check_cache._checksum(entry)
        path.write_text(json.dumps(entry))
    result, cached = check()
    assert not cached
    assert result[0] == "problems" and any("stale" in p for p in result[2]), result


def test_a_symlinked_folder_is_never_cached(repo: Path) -> None:
    shutil.move(repo / "rendered/escape", repo / "escape-real")
    (repo / "rendered/escape").symlink_to(repo / "escape-real", target_is_directory=True)
    assert check() == (check(use_cache=False)[0], False)
    assert check()[1] is False
    assert not list(cache_dir().glob("*.json"))


@pytest.mark.usefixtures("repo")
def test_no_cache_option_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["render", "--check", "--no-cache"])
    assert result.exit_code == 0 and "up to date: demo, escape" in result.stdout
    assert not cache_dir().exists()
    monkeypatch.setenv(check_cache.NO_CACHE_ENV, "1")
    assert runner.invoke(app, ["render", "--check"]).exit_code == 0
    assert not cache_dir().exists()
    monkeypatch.setenv(check_cache.NO_CACHE_ENV, "0")
    for _ in range(2):
        result = runner.invoke(app, ["render", "--check", "--format", "json"])
        assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert len(list(cache_dir().glob("*.json"))) == 1


def test_the_cache_lives_in_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "dlaas-gen/check"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert cache_dir() == Path.home() / ".cache/dlaas-gen/check"


AUDIT = """
import json, os, sys
from pathlib import Path
opened = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.add(os.path.abspath(os.fsdecode(args[0])))
from dlaas_gen.commands.check_cache import render_check
sys.addaudithook(hook)
render_check(Path("sites"), (), Path("rendered"), use_cache=False)
print(json.dumps(sorted(opened)))
"""


def test_every_file_a_render_opens_is_covered_by_the_key(repo: Path) -> None:
    """An input the key does not cover fails this test (add it to `check_cache.input_key`)."""
    (repo / "charts").mkdir()
    done = subprocess.run([sys.executable, "-c", AUDIT], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    opened = [Path(p) for p in json.loads(done.stdout.strip().splitlines()[-1])]
    covered = [Path(dlaas_gen.__file__).resolve().parent, resources.templates_dir().resolve(),
               (repo / "sites").resolve(), (repo / "charts").resolve(),
               (repo / "rendered").resolve(),
               # compiled templates: Jinja checks each against its template's source (in the key)
               (user_cache_dir() / "jinja").resolve()]
    stdlib = Path(sys.base_prefix).resolve()
    dists = [Path(p).resolve() for p in site.getsitepackages()]

    def is_covered(path: Path) -> bool:
        real = path.resolve()
        if "__pycache__" in real.parts or real.is_relative_to(stdlib):
            return True
        if any(real.is_relative_to(c) for c in covered):
            return True
        # installed distributions and their metadata: versions are in the key (the names of
        # the *.dist-info / *.egg-info folders on sys.path)
        if any(part.endswith((".dist-info", ".egg-info")) for part in real.parts):
            return True
        return any(real.is_relative_to(d) for d in dists)

    assert [str(p) for p in opened if p.exists() and not is_covered(p)] == []
    assert any(p.name == "escape.origins.yaml" for p in opened)  # the audit sees the inputs
