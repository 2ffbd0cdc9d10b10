"""Write rendered sites to disk atomically, or check them without writing.

Why: Flux pulls whatever is committed, so a half-written ``rendered/<site>/`` must never exist.
Each site folder is built in a staging folder beside it and swapped in with renames; a run
killed between the two renames is finished or undone by the next run. The render lock
(`dlaas_gen.render_lock`) keeps two runs from interleaving. Files a person added are never
deleted silently.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlaas_gen.errors import ProblemsError, UsageError
from dlaas_gen.problem import Problem
from dlaas_gen.render_lock import render_lock, render_lock_path

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
    with writing(out_dir, plans) as recovered:
        staged = {site: stage_site(out_dir, site, plan) for site, plan in plans.items()}
        result = publish(out_dir, plans, staged, force=force, remove=remove)
    result.recovered = recovered
    return result


@contextlib.contextmanager
def writing(out_dir: Path, sites: Iterable[str]) -> Iterator[list[str]]:
    """Hold the render lock of `out_dir` with `sites` recovered; yields the repaired sites.

    Why: ``render`` stages each site as soon as it is built (`stage_site`, in the worker that
    built it), so the lock is held from before the first site is staged until `publish`.
    """
    made = _first_missing(out_dir)
    try:
        with render_lock(out_dir):
            yield [site for site in sites if recover(out_dir, site)]
    except BaseException:
        if made is not None:
            _remove_if_only(made, render_lock_path(out_dir))  # a failed first render: no trace
        raise


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of `path` (itself included) that does not exist yet, if any."""
    missing = None
    for candidate in (path.resolve(), *path.resolve().parents):
        if candidate.exists():
            break
        missing = candidate
    return missing


def _remove_if_only(top: Path, lock: Path) -> None:
    """Delete `top` when it holds nothing but folders and the `lock` file."""
    if not top.is_dir():
        return
    for root, _dirs, files in os.walk(top):
        if any(Path(root) / name != lock for name in files):
            return
    shutil.rmtree(top)


def stage_site(out_dir: Path, site: str, plan: Plan) -> bool:
    """Write `plan` into the site's staging folder, unless the site folder already holds it.

    The caller holds the render lock (`writing`); any process may stage (files are not
    flushed here: `publish` flushes them all at once).

    Returns:
        False when the site folder is unchanged (nothing staged).
    """
    final = out_dir / site
    if not final.is_symlink() and read_existing(final) == plan:
        return False
    staging = _staging_path(out_dir, site)
    _remove_tree(staging)
    for rel, data in sorted(plan.items()):
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return True


def discard_staged(out_dir: Path, sites: Iterable[str]) -> None:
    """Delete the staging folders of `sites` (a run that will not publish them)."""
    for site in sites:
        _remove_tree(_staging_path(out_dir, site))


def publish(out_dir: Path, plans: Mapping[str, Plan], staged: Mapping[str, bool], *,
            force: bool = False, remove: Sequence[str] = ()) -> WriteResult:
    """Swap the staged sites in, after the foreign-file check; the caller holds `writing`.

    `staged` says for each site of `plans` whether `stage_site` staged it (False: unchanged).

    Raises:
        ProblemsError: a site folder holds foreign files and `force` is false; the staging
            folders are deleted and nothing is written.
    """
    problems = [Problem(str(out_dir / site / rel), 0, 0, rule="foreign-file",
                        message="not written by dlaas-gen; move it out of the rendered folder "
                        "or re-run with --force to delete it")
                for site, plan in plans.items() for rel in foreign_files(out_dir, site, plan)]
    if problems and not force:
        discard_staged(out_dir, [site for site in plans if staged.get(site)])
        raise ProblemsError(problems)
    result = WriteResult()
    changed = {site: plan for site, plan in plans.items() if staged.get(site)}
    result.unchanged = [site for site in plans if site not in changed]
    _swap_in(out_dir, changed)
    result.written = list(changed)
    for site in remove:
        recover(out_dir, site)
        if not foreign_files(out_dir, site, {}) or force:
            _remove_tree(out_dir / site)
            result.removed.append(site)
    return result


def _staging_path(out_dir: Path, site: str) -> Path:
    return out_dir / f".{site}.staging-{_STAGING_TAG}"


#: The staging folder's suffix; `recover` deletes every ``.<site>.staging-*`` left over.
_STAGING_TAG = "new"


def _swap_in(out_dir: Path, plans: Mapping[str, Plan]) -> None:
    """Replace each site folder of `plans` by its staged tree: flush once, then rename.

    Why: the renames must not reach the disk before the files they publish, or a power cut
    could leave an empty file in ``rendered/``. One flush of the file system after every
    staging tree is written gives that order for the whole fleet; an ``fsync`` per file
    (3,400 for 100 sites) cost more than rendering them. Where ``syncfs`` is missing, each
    file is flushed on its own.
    """
    if not plans:
        return
    _flush(out_dir, plans)
    for site in plans:
        _staging_path(out_dir, site).replace(_site_paths(out_dir, site)[1])  # complete from here
    _fsync_dir(out_dir)
    for site in plans:
        final, new, old = _site_paths(out_dir, site)
        if final.is_symlink():
            final.unlink()
        elif final.exists():
            final.replace(old)
        new.replace(final)
    _fsync_dir(out_dir)
    for site in plans:
        _remove_tree(_site_paths(out_dir, site)[2])


def _flush(out_dir: Path, plans: Mapping[str, Plan]) -> None:
    """Make the staged files durable: one ``syncfs`` on Linux, else an fsync of each."""
    if _syncfs(out_dir):
        return
    for path in (_staging_path(out_dir, site) / rel for site, plan in plans.items()
                 for rel in plan):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs(folder: Path) -> bool:
    """``syncfs(2)`` of the file system holding `folder`; False where it is not available.

    Why: Python has no binding; since Linux 5.8 ``syncfs`` reports write-back errors of the
    file system, so a failed write is not taken for a durable one.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # noqa: PLC0415 - only a write needs it (start-up cost)

    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if call(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), str(folder))
    finally:
        os.close(fd)
    return True


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
