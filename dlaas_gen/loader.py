"""Load ``sites/<site>.yaml`` into a `SiteConfig`, every error mapped to ``file:line:col``.

Why: users edit YAML, not Python; an error must point at the line to change, and all errors of
a file are reported at once (rendercv's pydantic error handling). For a render the loader also
reads the files kept beside the site (the chart lock and the XCache origins file), so that the
later stages read no file and raise no load error.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from dlaas_gen import secretlike, yamlio
from dlaas_gen.chart_lock import CHART, ChartFiles, ChartLockError, charts_dir_for, load_chart
from dlaas_gen.chart_lock import RULE as CHART_RULE
from dlaas_gen.config import SiteConfig
from dlaas_gen.config.checks import run_checks
from dlaas_gen.defaults import ORIGINS_SUFFIX, SITE_SUFFIX
from dlaas_gen.errors import ConfigError, UsageError
from dlaas_gen.names import is_dns1123_label
from dlaas_gen.origins_file import RULE as ORIGINS_RULE
from dlaas_gen.origins_file import origins_path, read_origins_file
from dlaas_gen.problem import ERROR, Problem
from dlaas_gen.yamlio import safety as yamlsafety

#: ``.yaml`` files in sites/ that are not sites: the origins files ``cric sync`` writes.
NON_SITE_SUFFIXES = (ORIGINS_SUFFIX,)
MAX_SITE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LoadedSite:
    """A validated site with its source, its non-fatal findings and the files read beside it.

    Attributes:
        name: the site's name (its file name without ``.yaml``).
        path: the site file.
        config: the validated site.
        warnings: non-fatal findings, in the order the checks ran.
        chart: the pinned z2jh chart version's defaults and schema (``load_site(beside=True)``).
        cric_origins: the XCache origins of the site's origins file by protocol, checked against
            ``xcache.origins.cric`` (``load_site(beside=True)``); None when the site's XCache
            takes no origins from CRIC.
    """

    name: str
    path: Path
    config: SiteConfig
    warnings: tuple[Problem, ...] = ()
    chart: ChartFiles | None = None
    cric_origins: Mapping[str, list[str]] | None = field(default=None, compare=False)


def is_site_file(path: Path) -> bool:
    """True for ``<name>.yaml`` files that are sites (not origins files, not hidden, not `_x`)."""
    name = path.name
    return (
        name.endswith(SITE_SUFFIX)
        and not name.startswith((".", "_"))
        and not any(name.endswith(s) for s in NON_SITE_SUFFIXES)
    )


def discover_sites(sites_dir: Path) -> list[Path]:
    """Return the site files of `sites_dir`, sorted by name."""
    if not sites_dir.is_dir():
        raise UsageError(f"sites folder {sites_dir} does not exist")
    return sorted(p for p in sites_dir.iterdir() if p.is_file() and is_site_file(p))


def select_sites(sites_dir: Path, names: Iterable[str]) -> list[Path]:
    """Return the files of the named sites, or all sites when `names` is empty."""
    wanted = list(names)
    available = discover_sites(sites_dir)
    if not wanted:
        return available
    by_name = {p.name[: -len(SITE_SUFFIX)]: p for p in available}
    selected = []
    for name in wanted:
        if name not in by_name:
            hint = difflib.get_close_matches(name, list(by_name), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UsageError(f"no site {name!r} in {sites_dir}{extra}")
        selected.append(by_name[name])
    return selected


def site_name(path: Path) -> str:
    """The site's name: its file name without ``.yaml``."""
    return path.name[: -len(SITE_SUFFIX)] if path.name.endswith(SITE_SUFFIX) else path.stem


def load_site(path: Path, *, shown: str | None = None, beside: bool = False) -> LoadedSite:
    """Read, parse and validate one site file (and, for a render, the files beside it).

    Args:
        path: the site file.
        shown: how to name the file in messages (default: `path` as given).
        beside: also read the chart lock of the pinned chart version (``charts/`` beside the
            sites folder, else the vendored copy) and the XCache origins file, into
            `LoadedSite.chart` and `LoadedSite.cric_origins`.

    Returns:
        The validated site.

    Raises:
        ConfigError: with one problem per error found, each with line and column; with
            `beside`, one problem when the chart version is not locked (at ``chart.version``)
            or the origins file is missing, broken or out of date (at the file).
        UsageError: the file cannot be read.
    """
    label = shown or str(path)
    name = site_name(path)
    problems: list[Problem] = []
    if not is_dns1123_label(name):
        problems.append(
            Problem(label, 1, 1, rule="site-name", message=f"site name {name!r} (the file name) "
                    "is not a DNS-1123 label: use lower-case letters, digits and '-'")
        )
    source = _Source(_read_text(path, label), label)
    config, warnings = _validate(source, problems)
    site = LoadedSite(name=name, path=path, config=config, warnings=tuple(warnings))
    if not beside:
        return site
    chart = _read_chart(site, source)
    return replace(site, chart=chart, cric_origins=read_cric_origins(site))


class _Source:
    """A site file's text, parsed with positions only when a position is needed.

    Why: the round-trip parser (positions, exact messages) is pure Python and was most of the
    time of a render; a valid file needs no positions.
    """

    def __init__(self, text: str, label: str) -> None:
        """Hold `text`, named `label` in messages."""
        self.text = text
        self.label = label
        self._raw: Any = None
        self._parsed = False

    def located(self) -> Any:
        """The round-trip parse (raises `ConfigError` at the first YAML problem)."""
        if not self._parsed:
            self._raw = _read_yaml(self.text, self.label)
            self._parsed = True
        return self._raw


def _validate(source: _Source, problems: list[Problem]) -> tuple[SiteConfig, list[Problem]]:
    """The validated model and its warnings; every error (with `problems`) as a `ConfigError`."""
    label = source.label
    data = _parse_fast(source.text)
    if data is _FAILED:
        data = yamlio.plain(source.located())  # the careful path raises the precise error
    if data is None:
        raise ConfigError([*problems, Problem(label, 1, 1, rule="yaml", message="file is empty")])
    if not isinstance(data, dict):
        raise ConfigError(
            [*problems, Problem(label, 1, 1, rule="yaml", message="a site file must be a mapping")]
        )
    if next(secretlike.walk(data), None) is not None:
        problems.extend(_credential_problems(source.located(), label))
    try:
        config = SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems_from_validation(exc, source.located(), label, source.text))
        raise ConfigError(sorted(problems)) from None
    warnings: list[Problem] = []
    for loc, level, message in run_checks(config):
        line, col = yamlio.position_of(source.located(), loc)
        problem = Problem(label, line, col, level=level, rule="site-rule", message=message)
        (problems if level == ERROR else warnings).append(problem)
    if problems:
        raise ConfigError(sorted(problems))
    return config, warnings


def _read_chart(site: LoadedSite, source: _Source) -> ChartFiles:
    """The defaults and schema of the site's pinned z2jh chart version.

    Raises:
        ConfigError: one problem, at ``chart.version`` in the site file when the version is not
            locked (naming ``dlaas-gen chart pull <site>``), at the lock file when it is broken.
    """
    try:
        return load_chart(CHART, site.config.chart.version, charts_dir_for(site.path.parent),
                          site=site.name)
    except ChartLockError as exc:
        if not exc.missing:
            raise ConfigError([exc.problem]) from None
        try:
            line, col = yamlio.position_of(source.located(), ("chart", "version"), value=True)
        except ConfigError:  # the file was validated a moment ago; a position is a bonus
            line, col = 1, 1
        raise ConfigError([Problem(source.label, line, col, rule=CHART_RULE,
                                   message=exc.problem.message)]) from None


def read_cric_origins(site: LoadedSite) -> dict[str, list[str]] | None:
    """The origins of the site's XCache origins file, checked against its settings.

    Returns:
        The origins by protocol; None when the site has no forwarding XCache with CRIC origins.

    Raises:
        ConfigError: the origins file is missing, malformed, or was made with other settings.
    """
    xc = site.config.xcache
    if xc is None or xc.mode != "forwarding" or xc.origins is None or xc.origins.cric is None:
        return None
    cric = xc.origins.cric
    path = origins_path(site.path)
    origins = read_origins_file(path)
    if (sorted(set(origins.schemes)) != sorted(set(cric.schemes))
            or sorted(set(origins.exclude_rses)) != sorted(set(cric.exclude_rses))):
        raise ConfigError([Problem(str(path), 1, 1, rule=ORIGINS_RULE, message=(
            "out of date with xcache.origins.cric (schemes or exclude_rses changed): run "
            f"`dlaas-gen cric sync {site.name}`"))])
    return origins.origins


_FAILED = object()


def _parse_fast(text: str) -> Any:
    """Parse plain YAML with the C parser; `_FAILED` on anything else or any error.

    Why: the round-trip parser (positions, exact messages) is pure Python and was most of the
    time of a render; a valid file needs no positions, so the careful parse runs only when the
    fast one fails or a problem has to be located.
    """
    if yamlsafety.tab_hazard(text) is not None:
        return _FAILED
    try:
        # Plain YAML only (no aliases, merge keys, duplicate keys, second document, deep
        # nesting): anything `yamlsafety.scan` could object to goes to the careful path.
        return yamlio.load_simple(text)
    except Exception:  # noqa: BLE001 - any failure: redo it carefully for the exact message
        return _FAILED


def _read_text(path: Path, label: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {label}: {exc.strerror or exc}") from None
    if len(data) > MAX_SITE_BYTES:
        raise ConfigError(
            [Problem(label, 1, 1, rule="yaml",
                     message=f"file is larger than {MAX_SITE_BYTES} bytes")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [Problem(label, line, 1, rule="yaml", message="file is not valid UTF-8")]
        ) from None
    return text


def _read_yaml(text: str, label: str) -> Any:
    """Parse with positions (round-trip), turning every YAML problem into a `ConfigError`."""
    try:
        hazard = yamlsafety.scan(text)
        if hazard is not None:
            raise ConfigError([Problem(label, hazard.line, hazard.col, rule="yaml",
                                       message=hazard.message)])
        docs = yamlio.load_roundtrip_all(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            [Problem(label, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0,
                     rule="yaml", message=yamlio.error_message(exc))]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise ConfigError(
            [Problem(label, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0,
                     rule="yaml", message=f"invalid YAML: {message}")]
        ) from None
    except ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ConfigError([Problem(label, line, col, rule="yaml", message=(
            f"invalid YAML: character {exc.character!r} is not allowed"))]) from None
    except YAMLError as exc:
        raise ConfigError(
            [Problem(label, 1, 1, rule="yaml", message=f"invalid YAML: {str(exc).splitlines()[0]}")]
        ) from None
    except (ValueError, RecursionError, IndexError) as exc:
        # Why: ruamel turns scalars into ints/floats while composing; an integer of 5,000
        # digits raises ValueError (Python's int-size limit) and `+_` or `0x_` IndexError (a
        # ruamel bug found by fuzzing): bad input, not a bug of ours.
        reason = {ValueError: "a number is too large", RecursionError: "nested too deeply"}.get(
            type(exc), "a value looks like a number but is not one (e.g. '0x_', '+_')")
        long_number = re.search(r"[0-9]{4000,}", text) if isinstance(exc, ValueError) else None
        offset = long_number.start() if long_number else 0
        line = text[:offset].count("\n") + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise ConfigError([Problem(label, line, col, rule="yaml",
                                   message=f"invalid YAML: {reason}")]) from None
    docs = [d for d in docs if d is not None] or [None]
    if len(docs) > 1:
        raise ConfigError(
            [Problem(label, 1, 1, rule="yaml", message="a site file holds one YAML document, "
                     f"found {len(docs)}")]
        )
    return docs[0]


def _credential_problems(raw: Any, label: str) -> list[Problem]:
    """Credential-looking literals anywhere in the file (the value is never quoted).

    Why: a field that takes a secret takes a `SecretRef`; a literal key, token or password that
    slips in through ``extra_values`` or a free-text field would end up in git.
    """
    found = []
    for loc, reason in secretlike.walk(raw):
        line, col = yamlio.position_of(raw, loc, value=True)
        found.append(Problem(label, line, col, rule="site-secret", message=(
            f"{'.'.join(map(str, loc))}: looks like {reason}; site files hold no secret values: "
            "put it in a Kubernetes Secret and reference it (name + key)")))
    return found


def _problems_from_validation(exc: ValidationError, raw: Any, label: str,
                              text: str = "") -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _clean_loc(raw, tuple(error["loc"]))
        at_value = error["type"] not in ("missing", "extra_forbidden")
        line, col = yamlio.position_of(raw, loc, value=at_value)
        dotted = ".".join(_show(p) for p in loc) or "(top level)"
        message = _message(error, loc, raw) + _hint(error, loc, raw, _token(text, line, col))
        problems.append(Problem(label, line, col, rule="site-schema",
                                message=f"{dotted}: {message}"))
    return problems


def _show(part: Any) -> str:
    """A path element for a one-line message: odd keys (line breaks, blanks) are quoted."""
    text = str(part)
    return text if text.isprintable() and text.strip() == text and text else repr(text)


def _clean_loc(raw: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the union-member tags pydantic inserts into error paths.

    Why: for ``storage: {type: static, ...}`` pydantic reports ``storage.static.pvc_name``;
    the user's file has no ``static`` key. A path element that does not exist in the data
    (and is not the last one, which may be a missing key) is such a tag.
    """
    out: list[Any] = []
    node = raw
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif last:
            out.append(part)
        else:
            continue
    return tuple(out)


def _message(error: ErrorDetails, loc: tuple[Any, ...], raw: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1], raw)
        known = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(known)}"
        return f"unknown key{extra}"
    if kind == "missing":
        return "required field is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def _token(text: str, line: int, col: int) -> str:
    """The plain scalar written at `line`:`col` (up to a comment or the end of the line)."""
    lines = text.splitlines()
    if not (0 < line <= len(lines)) or col < 1:
        return ""
    rest = lines[line - 1][col - 1:]
    return rest.split(" #", 1)[0].strip().rstrip(",}]").strip()


def _hint(error: ErrorDetails, loc: tuple[Any, ...], raw: Any, written: str) -> str:
    """A hint for mistakes YAML makes easy: numbers where text is meant, ``repo:tag`` names.

    Why: ``version: 4.4`` and ``kubernetes_version: 1.30`` are floats to YAML (1.30 even
    becomes 1.3); the bare "Input should be a valid string" does not say to quote them.
    """
    kind = error["type"]
    if kind == "string_type" and isinstance(error.get("input"), (int, float)) and not isinstance(
            error.get("input"), bool):
        shown = written or str(error["input"])
        return f"; YAML reads {shown} as a number: quote it (\"{shown}\")"
    if kind == "missing" and loc and loc[-1] == "tag":
        parent = raw
        for part in loc[:-1]:
            parent = parent[part] if isinstance(parent, (dict, list)) else None
        name = parent.get("name") if isinstance(parent, dict) else None
        if isinstance(name, str) and ":" in name.rsplit("/", 1)[-1]:
            repo, tag = name.rsplit(":", 1)
            return f"; name {name!r} holds the tag: write name: {repo} and tag: \"{tag}\""
    return ""


def _model_at(loc: tuple[Any, ...], raw: Any) -> type[BaseModel] | None:
    """Find the model that owns the mapping at `loc` (to suggest known keys)."""
    model: Any = SiteConfig
    node = raw
    in_map = False
    for part in loc:
        node = node[part] if isinstance(node, (dict, list)) else None
        if isinstance(part, int) or in_map:  # a list item, or an entry of a map of models
            model, in_map = _pick_model(model, node), False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        field = fields.get(str(part))
        if field is None:
            return None
        in_map = typing.get_origin(_unwrap(field.annotation)) is dict
        model = field.annotation if in_map else _pick_model(field.annotation, node)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _pick_model(annotation: Any, node: Any) -> Any:
    """Return the model in `annotation` that matches `node` (by its ``type`` tag if any)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    candidates = []
    stack = [annotation]
    while stack:
        current = stack.pop(0)
        if isinstance(current, type) and issubclass(current, BaseModel):
            candidates.append(current)
        else:
            stack.extend(typing.get_args(current))
    tag = node.get("type") if isinstance(node, dict) else None
    for candidate in candidates:
        field = candidate.model_fields.get("type")
        if field is not None and field.default == tag:
            return candidate
    if isinstance(node, dict) and candidates:  # untagged union: the model sharing most keys
        def shared(candidate: type[BaseModel]) -> int:
            return len(set(node) & {f.alias or n for n, f in candidate.model_fields.items()})
        return max(candidates, key=shared)
    return candidates[0] if candidates else None


def _unwrap(annotation: Any) -> Any:
    """`annotation` without Optional and Annotated wrappers."""
    while True:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated or (
                origin in (typing.Union, types.UnionType) and len(args) == 1):
            annotation = args[0]
            continue
        return annotation
