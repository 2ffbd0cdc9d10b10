"""Compiled templates cached in the user cache folder: never a stale or broken render."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlaas_gen import templating
from dlaas_gen.resources import user_cache_dir
from dlaas_gen.templating import AtomicBytecodeCache, make_environment, render_text


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.j2").write_text("a {{ x }}\n")
    make_environment.cache_clear()
    yield templates
    make_environment.cache_clear()


def fresh(folder: Path) -> str:
    """Render as a new process would: a new environment, compiled code from the cache."""
    make_environment.cache_clear()
    return render_text("t.j2", {"x": 1}, make_environment(folder))


def entries() -> list[Path]:
    return sorted((user_cache_dir() / "jinja").glob("*/*.cache"))


def test_compiled_templates_are_stored_and_reused(folder: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert fresh(folder) == "a 1\n"
    [entry] = entries()
    stored = entry.read_bytes()
    loads: list[bool] = []
    original = AtomicBytecodeCache.load_bytecode

    def spy(self: AtomicBytecodeCache, bucket: object) -> None:
        original(self, bucket)  # type: ignore[arg-type]
        loads.append(bucket.code is not None)  # type: ignore[attr-defined]

    monkeypatch.setattr(AtomicBytecodeCache, "load_bytecode", spy)
    assert fresh(folder) == "a 1\n"
    assert loads == [True] and entry.read_bytes() == stored  # used, not compiled again


def test_an_edited_template_is_compiled_again(folder: Path) -> None:
    assert fresh(folder) == "a 1\n"
    (folder / "t.j2").write_text("b {{ x }}\n")
    assert fresh(folder) == "b 1\n"


@pytest.mark.parametrize("damage", [b"", b"j2garbage", None])
def test_a_damaged_entry_is_compiled_again(folder: Path, damage: bytes | None) -> None:
    assert fresh(folder) == "a 1\n"
    [entry] = entries()
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2] if damage is None else damage)
    assert fresh(folder) == "a 1\n"
    assert entry.read_bytes() == good  # rewritten whole


def test_the_environment_variable_turns_it_off(folder: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(templating.NO_CACHE_ENV, "1")
    assert templating.bytecode_cache() is None
    assert fresh(folder) == "a 1\n" and entries() == []
