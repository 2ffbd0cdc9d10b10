"""Load the two sides of a diff: a folder on disk, or a folder at a git commit.

Why: in a merge-request pipeline the base version of ``rendered/`` is only in git. Reading it
with ``git ls-tree`` and ``git cat-file --batch`` needs no checkout and no second worktree, so
the working tree (what the MR proposes) is never touched.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dlaas_gen import tree, yamlio
from dlaas_gen.commands.diff.model import Side
from dlaas_gen.commands.diff.normalize import sanitize_yaml_message
from dlaas_gen.errors import ProblemsError, UsageError
from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem

#: GitLab's merge-base of a merge-request pipeline; preferred over computing one.
BASE_SHA_ENV = "CI_MERGE_REQUEST_DIFF_BASE_SHA"
_SHALLOW_HINT = (
    "this is a shallow clone: run `git fetch --unshallow` (or fetch the base branch with "
    "enough depth), or set GIT_DEPTH: 0 in GitLab CI / fetch-depth: 0 in GitHub Actions"
)


def _invalid_yaml(side: str, problems: list[Problem]) -> UsageError:
    first = problems[0]
    clean = Problem(first.path, first.line, first.col, first.level, first.rule,
                    sanitize_yaml_message(first.message))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return UsageError(f"invalid YAML in the {side} side: {clean.format()}{more}")


def load_dir(path: Path, *, side: str = "new") -> Side:
    """Load every object under the folder `path`.

    Args:
        path: the folder.
        side: ``old`` or ``new``, for messages.

    Raises:
        UsageError: the folder does not exist or a file is not valid UTF-8 YAML.
    """
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise UsageError(f"{side} tree {path} {what}")
    try:
        manifests = tree.load_tree(path, label=str(path))
    except ProblemsError as exc:
        raise _invalid_yaml(side, exc.problems) from None
    return Side(label=str(path), manifests=manifests)


# --- git ------------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise UsageError("git is not installed; compare two folders instead") from None


def _git_out(args: list[str], cwd: Path) -> str | None:
    proc = _git(args, cwd)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def repo_root(cwd: Path) -> Path:
    """Return the top of the git work tree containing `cwd`.

    Raises:
        UsageError: `cwd` is not inside a git work tree.
    """
    top = _git_out(["rev-parse", "--show-toplevel"], cwd)
    if not top:
        raise UsageError(f"{cwd} is not inside a git repository (--base needs one)")
    return Path(top)


def _is_shallow(cwd: Path) -> bool:
    return _git_out(["rev-parse", "--is-shallow-repository"], cwd) == "true"


def _commit(ref: str, cwd: Path) -> str | None:
    return _git_out(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)


def resolve_base(
    ref: str | None, cwd: Path, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Find the commit to compare against.

    ``CI_MERGE_REQUEST_DIFF_BASE_SHA`` wins when set (GitLab computed the merge-base);
    otherwise the merge-base of `ref` and ``HEAD``.

    Args:
        ref: the base ref (``origin/main``); may be None when the variable is set.
        cwd: a folder inside the repository.
        env: environment (defaults to ``os.environ``).

    Returns:
        ``(sha, description)``, e.g. ``("1a2b…", "merge-base of origin/main and HEAD")``.

    Raises:
        UsageError: no ref, unknown ref, or no merge-base (with a hint for shallow clones).
    """
    env = os.environ if env is None else env
    repo_root(cwd)
    shallow = _is_shallow(cwd)
    hint = f"; {_SHALLOW_HINT}" if shallow else ""
    from_env = env.get(BASE_SHA_ENV, "").strip()
    if from_env:
        sha = _commit(from_env, cwd)
        if not sha:
            raise UsageError(f"{BASE_SHA_ENV}={from_env} is not a commit in this clone{hint}")
        return sha, f"{BASE_SHA_ENV} {sha[:12]}"
    if not ref:
        raise UsageError(f"give --base REF (or set {BASE_SHA_ENV}), or OLD_DIR and NEW_DIR")
    base = _commit(ref, cwd)
    if not base:
        fetch = f"; fetch it first, e.g. `git fetch origin {ref.split('/', 1)[-1]}`"
        raise UsageError(f"base ref {ref!r} is not a commit in this repository{hint or fetch}")
    if not _commit("HEAD", cwd):
        raise UsageError("HEAD does not point to a commit (empty repository?)")
    merge_base = _git_out(["merge-base", base, "HEAD"], cwd)
    if not merge_base:
        if shallow:
            raise UsageError(f"no merge-base of {ref} and HEAD in this clone{hint}")
        raise UsageError(f"{ref} and HEAD have no common history (no merge-base)")
    return merge_base, f"merge-base of {ref} and HEAD, {merge_base[:12]}"


def _repo_relative(path: Path, root: Path) -> str:
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise UsageError(f"{path} is not inside the git repository {root}") from None
    return rel.as_posix() if rel.parts else ""


def load_git_tree(commit: str, folder: Path, cwd: Path, *, label: str | None = None) -> Side:
    """Load the objects of `folder` as they are at `commit`, without a checkout.

    A folder that did not exist at `commit` is an empty side (everything shows as added), with a
    note saying so.

    Args:
        commit: the commit sha.
        folder: the folder on disk (relative to `cwd` or absolute), mapped into the repository.
        cwd: a folder inside the repository.
        label: description of the side for headers.

    Raises:
        UsageError: a file at `commit` is not valid UTF-8 YAML.
    """
    root = repo_root(cwd)
    absolute = folder if folder.is_absolute() else cwd / folder
    prefix = _repo_relative(absolute, root)
    shown = label or f"{commit[:12]}:{prefix or '.'}"
    blobs = _yaml_blobs(commit, prefix, root)
    side = Side(label=shown, manifests=[])
    if not blobs:
        exists = _git(["cat-file", "-e", f"{commit}:{prefix}"], root).returncode == 0
        if prefix and not exists:
            side.notes.append(
                f"{prefix} does not exist at {commit[:12]}: every object is reported as added"
            )
        return side
    contents = _cat_blobs([sha for _, sha in blobs], root)
    problems: list[Problem] = []
    for (rel, _sha), data in zip(blobs, contents, strict=True):
        where = f"{shown}/{rel}"
        try:
            docs = _parse_blob(data, where)
        except _BlobProblem as exc:
            problems.append(exc.problem)
            continue
        side.manifests.extend(
            Manifest(doc=doc, text="", path=rel, shown=where)
            for doc in docs
            if doc is not None
        )
    if problems:
        raise _invalid_yaml("old", problems)
    return side


def _yaml_blobs(commit: str, prefix: str, root: Path) -> list[tuple[str, str]]:
    """(path below `prefix`, blob sha) of each YAML file under `prefix` at `commit`.

    Hidden files and folders, symlinks and submodules are skipped, as `tree.load_tree` does.
    """
    args = ["ls-tree", "-r", "-z", "--full-tree", commit]
    if prefix:
        args += ["--", prefix]
    proc = _git(args, root)
    if proc.returncode != 0:
        raise UsageError(f"cannot list {prefix or '.'} at {commit[:12]}: {_first_line(proc)}")
    blobs: list[tuple[str, str]] = []
    for record in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, sha = meta.split()
        if prefix and not path.startswith(prefix + "/"):
            continue
        rel = path[len(prefix) + 1 :] if prefix else path
        parts = PurePosixPath(rel).parts
        if kind != "blob" or mode == "120000" or any(p.startswith(".") for p in parts):
            continue
        if PurePosixPath(rel).suffix in tree.YAML_SUFFIXES:
            blobs.append((rel, sha))
    return blobs


class _BlobProblem(Exception):
    """A blob that is not UTF-8 YAML; `problem` says where and why."""

    def __init__(self, problem: Problem):
        """Wrap `problem`."""
        super().__init__(problem.message)
        self.problem = problem


def _parse_blob(data: bytes, where: str) -> list[Any]:
    """The documents of one blob (round-trip, for positions).

    Raises:
        _BlobProblem: the blob is not UTF-8, or not YAML (with the line and column when known).
    """
    try:
        return yamlio.load_roundtrip_all(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _BlobProblem(Problem(where, rule="yaml", message="file is not UTF-8")) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _BlobProblem(Problem(
            where,
            mark.line + 1 if mark else 0,
            mark.column + 1 if mark else 0,
            rule="yaml",
            message=str(exc.problem or exc).splitlines()[0],
        )) from None
    except YAMLError as exc:
        raise _BlobProblem(Problem(where, rule="yaml", message=str(exc).splitlines()[0])) from None


def _cat_blobs(shas: list[str], root: Path) -> list[bytes]:
    """Read blobs with one ``git cat-file --batch`` process."""
    proc = _git(["cat-file", "--batch"], root, stdin="".join(f"{s}\n" for s in shas).encode())
    if proc.returncode != 0:
        raise UsageError(f"git cat-file failed: {_first_line(proc)}")
    out = proc.stdout
    contents: list[bytes] = []
    pos = 0
    for sha in shas:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        if len(header) != 3 or header[1] != "blob":
            raise UsageError(f"git cat-file could not read blob {sha}")
        size = int(header[2])
        start = end + 1
        contents.append(out[start : start + size])
        pos = start + size + 1
    return contents


def _first_line(proc: subprocess.CompletedProcess) -> str:
    text = proc.stderr.decode(errors="replace").strip()
    return text.splitlines()[0] if text else f"exit status {proc.returncode}"
