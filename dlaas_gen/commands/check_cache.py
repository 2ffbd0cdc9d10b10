"""``render --check`` without work for unchanged sites: a cache keyed by every input.

Why: pre-commit runs ``render --check`` on every commit; building the sites costs ~0.5 s
(issue 16: at most 0.3 s). A check whose inputs and output tree are unchanged since a check
that passed has the same outcome, so the outcome is stored and reused:

- the *key* is a digest of every input the render reads: this package's own files (code,
  templates, vendored data), the installed distributions (name and version of every
  ``*.dist-info`` on ``sys.path``), the Python version, every file of the sites folder (site
  files, origins files, and the other sites the shared-host warning reads), every file of the
  chart locks (``charts/`` beside ``sites/``, `dlaas_gen.chart_lock.charts_dir_for`), the
  ``--sites-dir`` and ``--out`` arguments as given and resolved, the working directory, and
  the selected site names. The inputs were found by recording every file a full render opens
  (tests/unit/commands/test_check_cache.py repeats that audit);
- the *entry* stores the digest of the output tree (every file, folder and symlink under
  ``--out``) as it was when the check passed, and the warnings that check printed.

A hit needs both: the key names an entry, and the output tree on disk has the stored digest
now. Anything else (no entry, a corrupt or foreign entry, a changed byte anywhere under
``--out``, a symlinked folder among the inputs) runs the full check. Only a check that passed
is stored, and only if no input and no output file changed while it ran. Entries live in the
user cache folder (``$XDG_CACHE_HOME/dlaas-gen/check``, else ``~/.cache/dlaas-gen/check``),
never in the repository; ``--no-cache`` or ``DLAAS_GEN_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dlaas_gen
from dlaas_gen.atomicfile import store_entry
from dlaas_gen.problem import Problem
from dlaas_gen.resources import NO_CACHE_ENV, caches_enabled, templates_dir, user_cache_dir

#: Changes whenever the entry format or the meaning of the key changes.
FORMAT = "dlaas-gen-check-cache-1"
#: The chart locks' folder beside ``sites/`` (`dlaas_gen.chart_lock.CHARTS_FOLDER`; not
#: imported: that module loads ruamel.yaml, which the cached path avoids).
CHARTS_FOLDER = "charts"


class Uncacheable(Exception):
    """An input or output the digests cannot describe safely (a symlinked folder)."""


@dataclass
class CheckOutcome:
    """A ``render --check`` that passed: the sites checked and the warnings found."""

    sites: list[str]
    problems: list[Problem]
    cached: bool


def cache_enabled(no_cache: bool = False) -> bool:
    """False with ``--no-cache`` or when `NO_CACHE_ENV` is set (to anything but ``0``)."""
    return not no_cache and caches_enabled()


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dlaas-gen/check``; ``~/.cache`` when unset or relative (XDG spec)."""
    return user_cache_dir() / "check"


def _tree(folder: Path, digest: hashlib._Hash, *, skip_pycache: bool = False) -> None:
    """Feed every folder, file (name and content) and symlink under `folder` into `digest`.

    Raises:
        Uncacheable: a symlink to a folder (its content would not be described).
    """
    digest.update(f"tree\0{folder}\0".encode("utf-8", "surrogateescape"))
    if not folder.is_dir():
        digest.update(b"not-a-folder\0" if folder.is_symlink() or folder.exists() else b"absent\0")
        return
    for root, dirs, files in os.walk(folder, followlinks=False):
        if skip_pycache:
            dirs[:] = [d for d in dirs if d != "__pycache__"]
        dirs.sort()
        here = Path(root)
        rel_root = here.relative_to(folder).as_posix()
        for name in dirs:
            if (here / name).is_symlink():
                raise Uncacheable(str(here / name))
            digest.update(f"d\0{rel_root}/{name}\0".encode("utf-8", "surrogateescape"))
        for name in sorted(files):
            path = here / name
            rel = f"{rel_root}/{name}".encode("utf-8", "surrogateescape")
            if path.is_symlink():
                target = str(path.readlink()).encode("utf-8", "surrogateescape")
                digest.update(b"l\0" + rel + b"\0" + target + b"\0")
                if path.is_dir():
                    raise Uncacheable(str(path))
                continue
            if not path.is_file():  # a fifo or socket: never read it
                digest.update(b"o\0" + rel + b"\0")
                continue
            content = hashlib.sha256(path.read_bytes()).hexdigest()
            digest.update(b"f\0" + rel + b"\0" + content.encode() + b"\0")


def _search_path() -> list[str]:
    """The module search path, where the installed distributions are found."""
    return sys.path


def _distributions() -> list[str]:
    """Every ``*.dist-info`` / ``*.egg-info`` on ``sys.path`` (names carry the versions)."""
    found = []
    for entry in _search_path():
        try:
            names = [p.name for p in Path(entry or ".").iterdir()]
        except OSError:
            continue
        found += [f"{entry}\0{n}" for n in names if n.endswith((".dist-info", ".egg-info"))]
    return sorted(found)


def input_key(sites_dir: Path, names: Sequence[str], out_dir: Path) -> str:
    """The digest of every input of ``render --check`` (see the module docstring).

    Raises:
        Uncacheable: an input folder holds a symlinked folder.
    """
    digest = hashlib.sha256()
    parts = [FORMAT, sys.version, sys.implementation.cache_tag, sys.executable, str(Path.cwd()),
             str(sites_dir), str(sites_dir.resolve()), str(out_dir), str(out_dir.resolve()),
             *["site:" + n for n in names], *_distributions()]
    digest.update("\0".join(parts).encode("utf-8", "surrogateescape"))
    _tree(Path(dlaas_gen.__file__).resolve().parent, digest, skip_pycache=True)
    _tree(templates_dir().resolve(), digest, skip_pycache=True)
    _tree(sites_dir, digest)
    _tree(sites_dir.parent / CHARTS_FOLDER, digest)
    return digest.hexdigest()


def output_digest(out_dir: Path) -> str:
    """The digest of everything under `out_dir` (what ``--check`` compares with).

    Raises:
        Uncacheable: `out_dir` holds a symlinked folder.
    """
    digest = hashlib.sha256()
    _tree(out_dir, digest)
    return digest.hexdigest()


def _checksum(entry: dict[str, Any]) -> str:
    """A digest of an entry's fields: a torn or damaged entry is a miss, never a wrong hit."""
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()


def _entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def _load(key: str, out_tree: str) -> CheckOutcome | None:
    """The stored outcome for `key` if the output tree's digest is `out_tree`, as stored."""
    try:
        entry = json.loads(_entry_path(key).read_text(encoding="utf-8"))
        if entry.pop("sum") != _checksum(entry) or entry["format"] != FORMAT or entry["key"] != key:
            return None
        sites = [str(s) for s in entry["sites"]]
        problems = [Problem(str(p["path"]), int(p["line"]), int(p["col"]), str(p["level"]),
                            str(p["rule"]), str(p["message"])) for p in entry["problems"]]
        stored_tree = str(entry["output"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable, torn or foreign: a miss
    if any(p.is_error for p in problems) or stored_tree != out_tree:
        return None
    return CheckOutcome(sites, problems, cached=True)


def _store(key: str, out_tree: str, outcome: CheckOutcome) -> None:
    """Write the entry atomically (a temporary file renamed into place); errors are ignored."""
    entry: dict[str, Any] = {"format": FORMAT, "key": key, "output": out_tree,
                             "sites": outcome.sites,
                             "problems": [asdict(p) for p in outcome.problems]}
    entry["sum"] = _checksum(entry)
    # A read-only or full cache folder only costs speed.
    store_entry(_entry_path(key), json.dumps(entry).encode("utf-8"))


#: Called before each site is built with (1-based index, number of sites, site name).
Progress = Callable[[int, int, str], None]


def render_check(sites_dir: Path, names: Sequence[str], out_dir: Path, *,
                 progress: Progress | None = None, use_cache: bool = True) -> CheckOutcome:
    """``render --check``: from the cache when nothing changed, else the full check.

    Raises:
        ProblemsError: errors in a site, or drift (as `dlaas_gen.pipeline.render_sites`).
    """
    key = out_tree = None
    if use_cache:
        try:
            key = input_key(sites_dir, names, out_dir)
            out_tree = output_digest(out_dir)
        except (Uncacheable, OSError):
            key = None
        if key is not None and out_tree is not None:
            hit = _load(key, out_tree)
            if hit is not None:
                return hit
    from dlaas_gen.pipeline import render_sites

    report = render_sites(sites_dir, names, out_dir, check=True, progress=progress)
    outcome = CheckOutcome(report.sites, report.problems, cached=False)
    if key is not None and out_tree is not None:
        try:
            unchanged = (input_key(sites_dir, names, out_dir) == key
                         and output_digest(out_dir) == out_tree)
        except (Uncacheable, OSError):
            unchanged = False
        if unchanged and not any(p.is_error for p in outcome.problems):
            _store(key, out_tree, outcome)
    return outcome


__all__ = ["NO_CACHE_ENV", "CheckOutcome", "cache_dir", "cache_enabled", "input_key",
           "output_digest", "render_check"]
