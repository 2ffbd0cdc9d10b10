"""Check image build contexts (``images/<name>/``) with the real Dockerfile parser.

Why: a context that does not build is only noticed by CI, after the manifests naming its tag
may already be merged. The parser is BuildKit's own (``moby/buildkit`` ``frontend/dockerfile/
parser``, wrapped by the ``dockerfile`` package, which Docker, Buildah and Podman builds read
alike); it reports syntax errors (an unterminated heredoc, ``ENV`` without a value) but, like
BuildKit's parse stage, accepts any instruction name and does not check the order of
instructions, so those rules are checked here on its parse tree, never on the text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlaas_gen.problem import Problem

if TYPE_CHECKING:
    import dockerfile

RULE = "image-dockerfile"
DOCKERFILE = "Dockerfile"
IMAGES_FOLDER = "images"
#: The instructions of the Dockerfile reference (docs.docker.com/reference/dockerfile).
INSTRUCTIONS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
})
#: The command every context ends with: the installed Python packages are consistent.
FINAL_COMMAND = "pip check"


@dataclass(frozen=True)
class DockerfileFinding:
    """One problem of a Dockerfile, at a 1-based line and column."""

    line: int
    col: int
    message: str


def _col(text: str, line: int) -> int:
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return 1
    content = lines[line - 1]
    return len(content) - len(content.lstrip()) + 1


def _error_line(text: str, message: str) -> int:
    """The line where the parser first fails with `message`: the shortest failing prefix.

    Why: the parser's errors carry no position; the first prefix of whole lines that fails in
    the same way ends at the offending instruction (for a heredoc, at its opening line).
    """
    import dockerfile

    lines = text.splitlines(keepends=True)
    for count in range(1, len(lines) + 1):
        try:
            dockerfile.parse_string("".join(lines[:count]))
        except dockerfile.GoParseError as exc:
            if str(exc) == message:
                return count
    return 1


#: Findings by digest of (Dockerfile text, context file names): a fleet shares a few Dockerfiles.
_CHECKED: dict[str, tuple[DockerfileFinding, ...]] = {}
_CHECKED_MAX = 1024


def check_dockerfile(text: str, context: Collection[str] = ()) -> list[DockerfileFinding]:
    """Problems of one Dockerfile; `context` names the files beside it (for COPY/ADD sources).

    Why: memoised by content (the key is a digest of the text and the sorted file names, so a
    changed Dockerfile is checked again); the ``dockerfile`` package is imported here, not at
    module import, so a process that forks workers has not started the Go runtime
    (``dlaas_gen.pipeline.build_sites``).
    """
    key = json.dumps([text, sorted(context)], ensure_ascii=True)  # unambiguous, any text
    digest = hashlib.sha256(key.encode("ascii")).hexdigest()
    known = _CHECKED.get(digest)
    if known is None:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        known = _CHECKED[digest] = tuple(_check_dockerfile(text, context))
    return list(known)


def _check_dockerfile(text: str, context: Collection[str]) -> list[DockerfileFinding]:
    import dockerfile

    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        line = _error_line(text, str(exc))
        return [DockerfileFinding(line, _col(text, line), f"does not parse: {exc}")]
    found: list[DockerfileFinding] = []
    seen_from = False
    for command in commands:
        line, name = command.start_line, (command.cmd or "").upper()
        at = (line, _col(text, line))
        if name not in INSTRUCTIONS:
            what = command.original or name
            found.append(DockerfileFinding(*at, f"unknown instruction {what!r}"))
            continue
        if not seen_from and name not in ("ARG", "FROM"):
            found.append(DockerfileFinding(*at, f"{name} before FROM (only ARG may come first)"))
        seen_from = seen_from or name == "FROM"
        found.extend(DockerfileFinding(*at, message)
                     for message in _instruction_problems(name, command, context))
    if not seen_from:
        found.append(DockerfileFinding(1, 1, "no FROM instruction"))
    last = commands[-1]
    if (last.cmd or "").upper() != "RUN" or last.value != (FINAL_COMMAND,):
        found.append(DockerfileFinding(last.start_line, _col(text, last.start_line),
                                       f"the last instruction must be `RUN {FINAL_COMMAND}`"))
    return found


def _instruction_problems(
    name: str, command: dockerfile.Command, context: Collection[str]
) -> Iterator[str]:
    """What is wrong with one FROM, COPY or ADD instruction (nothing for the others)."""
    value = command.value
    if name == "FROM" and not (len(value) == 1 or (len(value) == 3 and value[1].upper() == "AS")):
        yield "FROM takes one image (optionally `AS <name>`)"
    if name in ("COPY", "ADD") and not any(f.startswith("--from") for f in command.flags):
        for source in value[:-1]:
            if source not in context:
                yield f"{name} source {source!r} is not in the context"


def check_context_folders(root: Path) -> list[Problem]:
    """Check every ``images/<name>/`` under a rendered site folder (paths relative to `root`)."""
    problems: list[Problem] = []
    folder = root / IMAGES_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return problems
    for context in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        rel = f"{IMAGES_FOLDER}/{context.name}/{DOCKERFILE}"
        path = context / DOCKERFILE
        if not path.is_file():
            problems.append(Problem(rel, 0, 0, rule=RULE,
                                    message="build context without a Dockerfile"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(rel, 0, 0, rule=RULE, message="Dockerfile is not UTF-8"))
            continue
        files = [p.name for p in context.iterdir() if p.is_file()]
        problems.extend(Problem(rel, f.line, f.col, rule=RULE, message=f"Dockerfile {f.message}")
                        for f in check_dockerfile(text, files))
    return problems
