"""Read a rendered tree (any folder of Kubernetes YAML) back into `Manifest`s.

Why: ``validate`` and ``diff`` work on trees on disk, including ones written by hand, so they
share one reader that keeps positions for error messages.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dlaas_gen import yamlio
from dlaas_gen.errors import ProblemsError
from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem

YAML_SUFFIXES = (".yaml", ".yml")


def iter_yaml_files(root: Path) -> list[Path]:
    """Return the YAML files under `root`, sorted, skipping hidden files and folders.

    Symlinks are not followed.
    """
    files: list[Path] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        if path.suffix in YAML_SUFFIXES:
            files.append(path)
    return files


def load_tree(root: Path, *, label: str | None = None) -> list[Manifest]:
    """Load every object of every YAML file under `root`.

    Args:
        root: the folder to read.
        label: prefix used in `Manifest.path` instead of `root` (for messages).

    Returns:
        The objects in file order; ``Manifest.path`` is relative to `root`.

    Raises:
        ProblemsError: a file is not valid YAML or not UTF-8 (every such file is listed).
    """
    manifests: list[Manifest] = []
    problems: list[Problem] = []
    for path in iter_yaml_files(root):
        rel = path.relative_to(root).as_posix()
        shown = f"{label}/{rel}" if label else str(path)
        try:
            text = path.read_text(encoding="utf-8")
            docs = yamlio.load_fast_all(text)
        except UnicodeDecodeError:
            problems.append(Problem(shown, 0, 0, rule="yaml", message="file is not UTF-8"))
            continue
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            col = mark.column + 1 if mark else 0
            problems.append(Problem(shown, line, col, rule="yaml",
                                    message=yamlio.error_message(exc)))
            continue
        except YAMLError as exc:
            problems.append(Problem(shown, 0, 0, rule="yaml", message=yamlio.error_message(exc)))
            continue
        except (ValueError, RecursionError):
            problems.append(Problem(shown, 0, 0, rule="yaml",
                                    message="number too large or nesting too deep"))
            continue
        for index, doc in enumerate(d for d in docs if d is not None):
            manifests.append(Manifest(doc=doc, text="", path=rel, shown=shown, source_text=text,
                                      doc_index=index))
    if problems:
        raise ProblemsError(problems)
    return manifests
