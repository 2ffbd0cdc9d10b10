"""Write rendered sites to disk atomically, or check them without writing.

Why: Flux pulls whatever is committed, so a half-written ``rendered/<site>/`` must never exist.
Each site folder is built in a staging folder beside it and swapped in with renames; a run
killed between the two renames is finished or undone by the next run. The render lock
(`dlaas_gen.render_lock`) keeps two runs from interleaving. Files a person added are never
deleted silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlaas_gen.errors import ProblemsError, UsageError
from dlaas_gen.problem import Problem
from dlaas_gen.render_lock import render_lock

INDEX_FILE = ".dlaas-gen-files"
Plan = dict[str, bytes]


@dataclass
class WriteResult:
    """What a write changed."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _index_bytes(plan: Mapping[str, bytes]) -> bytes:
    lines = "".join(f"{p}\n" for p in sorted(plan))
    header = "# Files written by dlaas-gen render; do not edit this folder by hand.\n"
    return (header + lines).encode()


def finalize_plan(files: Mapping[str, str]) -> Plan:
    """Turn ``{relative path: text}`` into the bytes to write, with the ownership index."""
    plan: Plan = {}
    for rel, text in files.items():
        _check_rel(rel)
        plan[rel] = text.encode("utf-8")
    plan[INDEX_FILE] = _index_bytes(plan)
    return plan


def _check_rel(rel: str) -> None:
    parts = Path(rel).parts
    hidden = any(p.startswith(".") for p in parts)  # also catches ".."
    if not parts or Path(rel).is_absolute() or hidden:
        raise UsageError(f"refusing to write outside the site folder: {rel!r}")


def _site_paths(out_dir: Path, site: str) -> tuple[Path, Path, Path]:
    return out_dir / site, out_dir / f".{site}.new", out_dir / f".{site}.old"


def recover(out_dir: Path, site: str) -> bool:
    """Finish or undo an interrupted swap of `site` and drop staging leftovers.

    Returns:
        True when something was repaired.
    """
    final, new, old = _site_paths(out_dir, site)
    repaired = False
    for stale in out_dir.glob(f".{site}.staging-*"):
        _remove_tree(stale)
        repaired = True
    if new.exists():
        if final.exists() and not old.exists():
            _remove_tree(new)  # swap never started: the old tree is intact
        elif not final.exists():
            new.replace(final)  # died between the two renames: finish the swap
            _fsync_dir(out_dir)
        repaired = True
    if old.exists():
        if final.exists():
            _remove_tree(old)
        else:
            old.replace(final)
            _fsync_dir(out_dir)
        repaired = True
    return repaired


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_existing(folder: Path) -> dict[str, bytes | None]:
    """Every entry under `folder` as ``{relative path: bytes}``; symlinks map to None.

    Symlinks are never followed.
    """
    found: dict[str, bytes | None] = {}
    if not folder.exists():
        return found
    for root, dirs, files in os.walk(folder, followlinks=False):
        root_path = Path(root)
        for name in files + [d for d in dirs if (root_path / d).is_symlink()]:
            path = root_path / name
            rel = path.relative_to(folder).as_posix()
            found[rel] = None if path.is_symlink() else path.read_bytes()
    return found


def owned_files(existing: Mapping[str, bytes | None]) -> set[str]:
    """Files listed in the folder's ownership index (what an earlier render wrote)."""
    index = existing.get(INDEX_FILE)
    if not index:
        return set()
    lines = index.decode("utf-8", "replace").splitlines()
    return {line for line in lines if line and not line.startswith("#")} | {INDEX_FILE}


def foreign_files(out_dir: Path, site: str, plan: Plan) -> list[str]:
    """Files in ``out/<site>/`` that dlaas-gen did not write and will not write."""
    folder = out_dir / site
    if folder.is_symlink():
        return ["."]
    existing = read_existing(folder)
    owned = owned_files(existing)
    return sorted(rel for rel, data in existing.items()
                  if data is None or (rel not in owned and rel not in plan))


def write_sites(
    out_dir: Path, plans: Mapping[str, Plan], *, force: bool = False, remove: Sequence[str] = ()
) -> WriteResult:
    """Write every site's plan, each site folder replaced as a whole.

    Args:
        out_dir: the parent of the site folders (``rendered``).
        plans: ``{site: {relative path: bytes}}`` from `finalize_plan`.
        force: delete files in a site folder that dlaas-gen did not write.
        remove: site folders to delete (their site file is gone); only whole folders that
            dlaas-gen owns are passed here.

    Raises:
        ProblemsError: a site folder holds foreign files and `force` is false (nothing written).
        LockedError: another run holds the render lock.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    result = WriteResult()
    with render_lock(out_dir):
        for site in plans:
            if recover(out_dir, site):
                result.recovered.append(site)
        problems = []
        for site, plan in plans.items():
            for rel in foreign_files(out_dir, site, plan):
                problems.append(Problem(
                    str(out_dir / site / rel), 0, 0, rule="foreign-file",
                    message="not written by dlaas-gen; move it out of the rendered folder "
                    "or re-run with --force to delete it"))
        if problems and not force:
            raise ProblemsError(problems)
        for site, plan in plans.items():
            if read_existing(out_dir / site) == plan and not (out_dir / site).is_symlink():
                result.unchanged.append(site)
                continue
            _swap_in(out_dir, site, plan)
            result.written.append(site)
        for site in remove:
            recover(out_dir, site)
            if not foreign_files(out_dir, site, {}) or force:
                _remove_tree(out_dir / site)
                result.removed.append(site)
    return result


def _swap_in(out_dir: Path, site: str, plan: Plan) -> None:
    final, new, old = _site_paths(out_dir, site)
    staging = out_dir / f".{site}.staging-{os.getpid()}"
    _remove_tree(staging)
    for rel, data in sorted(plan.items()):
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    staging.replace(new)  # the new tree is complete from here on
    _fsync_dir(out_dir)
    if final.is_symlink():
        final.unlink()
    elif final.exists():
        final.replace(old)
    new.replace(final)
    _fsync_dir(out_dir)
    _remove_tree(old)


def check_sites(out_dir: Path, plans: Mapping[str, Plan]) -> list[Problem]:
    """Compare the plans with the disk without writing: stale, missing and extra files."""
    problems: list[Problem] = []
    for site, plan in plans.items():
        folder = out_dir / site
        existing = read_existing(folder)
        for rel in sorted(set(plan) | set(existing)):
            shown = str(folder / rel)
            if rel not in existing:
                message = "missing: run `dlaas-gen render`"
            elif rel not in plan:
                message = "extra file: not produced by the site file"
            elif existing[rel] != plan[rel]:
                message = ("stale: differs from a fresh render (edited by hand, or the site "
                           "changed without `dlaas-gen render`)")
            else:
                continue
            problems.append(Problem(shown, rule="drift", message=message))
    return problems
