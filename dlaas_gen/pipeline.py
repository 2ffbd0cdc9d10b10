"""The render pipeline: load → context → render → validate → write (or check).

Why: one function per stage, composed here once, so ``render``, ``render --check``, the tests
and the benchmark all run exactly the same code. ``validate`` of rendered folders
(`validate_folders`) is assembled here too: read a tree, validate it with its site's settings.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dlaas_gen import origin, schemacode, yamlio
from dlaas_gen.chart_lock import charts_dir_for
from dlaas_gen.config import SiteConfig
from dlaas_gen.context import SiteContext, SiteInput, build_context
from dlaas_gen.defaults import DEFAULT_KUBE_VERSION, DEFAULT_OUT_DIR, DEFAULT_SITES_DIR, SITE_SUFFIX
from dlaas_gen.errors import ConfigError, DlaasGenError, ProblemsError, UsageError
from dlaas_gen.loader import LoadedSite, discover_sites, load_site, select_sites, site_name
from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import WARNING, Problem, reprefix
from dlaas_gen.render import render_site
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import validate_tree
from dlaas_gen.validate.dockerfiles import DOCKERFILE, check_context_folders, check_dockerfile
from dlaas_gen.validate.dockerfiles import RULE as DOCKERFILE_RULE
from dlaas_gen.validate.policy import PolicySettings
from dlaas_gen.writer import (
    INDEX_FILE,
    Plan,
    check_sites,
    discard_staged,
    finalize_plan,
    publish,
    stage_site,
    writing,
)


@dataclass
class BuiltSite:
    """One site taken through render and validate (nothing written yet)."""

    site: LoadedSite
    manifests: list[Manifest]
    plan: Plan
    problems: list[Problem]
    #: With `build_sites(stage=True)`: whether the plan was staged (False: the site folder
    #: already holds it); None when not staged by the build.
    staged: bool | None = None


@dataclass(frozen=True)
class ImageCheck:
    """A Dockerfile still to check: one image build context of a site (see `build_sites`)."""

    name: str
    folder: str
    text: str
    files: tuple[str, ...]


@dataclass
class RenderReport:
    """Outcome of `render_sites`."""

    sites: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """True when any problem is an error (warnings do not fail a run)."""
        return any(p.is_error for p in self.problems)


def flux_path_prefix(site: LoadedSite, out_dir: Path) -> str:
    """The repository path Flux reads `out_dir` at, for ``render --out DIR``.

    Why: the Kustomizations name the folder Flux applies (``spec.path``, relative to the root
    of the GitRepository); writing to ``ops/rendered`` while they say ``./rendered/<site>``
    makes Flux apply a stale or missing folder. The repository root is the folder that holds
    ``sites/``. A ``gitops.path_prefix`` the site sets must agree with `out_dir` (inside the
    repository); the default follows `out_dir`.

    Raises:
        ConfigError: at ``gitops.path_prefix`` when it disagrees with `out_dir`, or when
            `out_dir` is outside the repository and the site does not set it.
    """
    gitops = site.config.gitops
    explicit = "gitops" in site.config.model_fields_set and "path_prefix" in gitops.model_fields_set
    root = site.path.parent.resolve().parent
    try:
        relative = out_dir.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = None
    derived = None if relative is None else "./" + ("" if relative == "." else relative)
    same = (derived is not None
            and posixpath.normpath(derived) == posixpath.normpath(gitops.path_prefix))
    if same or (explicit and derived is None):
        return gitops.path_prefix
    if not explicit and derived is not None:
        return derived
    if explicit:
        loc: tuple[str, ...] = ("gitops", "path_prefix")
    else:
        loc = ("gitops",) if "gitops" in site.config.model_fields_set else ()
    raw = yamlio.load_roundtrip(site.path.read_text(encoding="utf-8"))
    line, col = yamlio.position_of(raw, loc, value=explicit)
    if derived is None:
        message = (f"--out {out_dir} is outside the repository ({root.name}/, the folder of "
                   "sites/): set gitops.path_prefix to the path Flux reads the rendered folder at")
    else:
        message = (f"gitops.path_prefix is {gitops.path_prefix!r} but --out {out_dir} is "
                   f"{derived!r} in the repository: Flux would read another folder; render to "
                   "the folder path_prefix names, or change path_prefix")
    raise ConfigError([Problem(str(site.path), line, col, rule="flux-path", message=message)])


def build_site(path: Path, out_dir: Path = DEFAULT_OUT_DIR, *,
               follow_out: bool = False) -> BuiltSite:
    """Load, render and validate one site file.

    With `follow_out` (``render --out``), the Flux Kustomizations name `out_dir` as Flux sees
    it (`flux_path_prefix`).

    The chart defaults and schema come from ``charts/jupyterhub-<version>/`` beside the sites
    folder (written by ``dlaas-gen chart pull``), or from the package for the vendored version.

    Raises:
        ConfigError: the site file is invalid, or its chart version is not locked.
    """
    built, images = _build_unchecked(path, out_dir, follow_out=follow_out)
    built.problems.extend(image_context_problems(built.site, images, out_dir / built.site.name))
    return built


def _build_unchecked(path: Path, out_dir: Path, *,
                     follow_out: bool) -> tuple[BuiltSite, list[ImageCheck]]:
    """`build_site` without the Dockerfile checks, which are returned to run later.

    Why: the Dockerfile parser is a Go library; the Go runtime does not survive ``fork``, so
    a forked worker that calls it hangs (`build_sites` runs the checks in the parent).
    """
    site = load_site(path, beside=True)  # with its chart lock and XCache origins file
    charts_dir = charts_dir_for(path.parent)
    config = site.config
    if follow_out:
        path_prefix = flux_path_prefix(site, out_dir)
        if path_prefix != config.gitops.path_prefix:
            config = config.model_copy(
                update={"gitops": config.gitops.model_copy(update={"path_prefix": path_prefix})})
    ctx = build_context(SiteInput(site.name, config, cric_origins=site.cric_origins,
                                  chart_defaults=site.chart.defaults if site.chart else None))
    manifests = render_site(ctx)
    problems = list(site.warnings)
    prefix = out_dir / site.name
    for m in manifests:
        m.shown = str(prefix / m.path)
    raw = validate_tree(manifests, site.config.kubernetes_version,
                        policy=policy_settings(site.config, ctx, charts_dir))
    problems.extend(_at_site_lines(site, manifests, raw, prefix))
    images = image_checks(ctx.images)
    plan = finalize_plan({**{m.path: m.text for m in manifests}, **ctx.context_files()})
    return BuiltSite(site=site, manifests=manifests, plan=plan, problems=problems), images


def image_checks(images: dict[str, Any]) -> list[ImageCheck]:
    """The Dockerfiles of a context's built images (`SiteContext.images`), to check."""
    return [ImageCheck(name, image.folder, image.files[DOCKERFILE], tuple(image.files))
            for name, image in images.items()]


def image_context_problems(site: LoadedSite, images: dict[str, Any] | list[ImageCheck],
                           prefix: Path) -> list[Problem]:
    """Dockerfile problems of the site's build contexts, at the site file's ``images.<name>``.

    `images` is `SiteContext.images`, or what `image_checks` took from it.

    Why: the context is generated, so the line to change is the image's entry in the site file;
    the message names the rendered Dockerfile line the parser stopped at.
    """
    if isinstance(images, dict):
        images = image_checks(images)
    problems: list[Problem] = []
    raw: Any = None
    for image in images:
        findings = check_dockerfile(image.text, image.files)
        if not findings:
            continue
        if raw is None:
            raw = yamlio.load_roundtrip(site.path.read_text(encoding="utf-8"))
        name = image.name
        line, col = yamlio.position_of(raw, ("images", name))
        shown = prefix / image.folder / DOCKERFILE
        problems.extend(Problem(str(site.path), line, col, rule=DOCKERFILE_RULE,
                                message=f"images.{name}: {shown}:{f.line}: Dockerfile {f.message}")
                        for f in findings)
    return problems


def _at_site_lines(site: LoadedSite, manifests: list[Manifest], raw: list[Problem],
                   prefix: Path) -> list[Problem]:
    """Problems found in rendered objects, moved to the site-file line that produced them.

    Why: the rendered file may not be written yet (a render with errors writes nothing), or
    be written elsewhere; the user edits the site file. The message names the rendered object
    and its place, so the finding can still be traced (`dlaas_gen.origin`).
    """
    if not raw:
        return []
    by_path = {m.path: m for m in manifests}
    parsed: list[Any] = []

    def site_doc() -> Any:
        if not parsed:
            try:
                parsed.append(yamlio.load_roundtrip(site.path.read_text(encoding="utf-8")))
            except Exception:  # noqa: BLE001 - loaded a moment ago; a position is a bonus
                parsed.append(None)
        return parsed[0]

    moved = []
    for p in raw:
        m = by_path.get(p.path)
        if m is None or not p.line:
            moved.append(reprefix(p, prefix))
            continue
        doc = site_doc()
        loc = origin.site_loc_for(m, origin.object_loc_at(m, p.line), doc)
        line, col = yamlio.position_of(doc, loc) if doc is not None else (1, 1)
        if not loc:
            line, col = 1, 1
        where = f"{p.path}:{p.line}:{p.col}"  # inside the site folder, wherever it is written
        name = origin.describe(m)
        said = f" (in {where})" if p.message.startswith(name) else f" (rendered {name}, {where})"
        moved.append(Problem(str(site.path), line, col, p.level, p.rule, p.message + said))
    return moved


#: Called before each site is built with (1-based index, number of sites, site name).
Progress = Callable[[int, int, str], None]


#: Below this many sites, building in worker processes costs more than it saves.
PARALLEL_MIN_SITES = 8


#: One built site (None when it has errors), its problems, and its Dockerfiles still to check.
Outcome = tuple[BuiltSite | None, list[Problem], list[ImageCheck]]


def _build_one(job: tuple[Path, Path, bool]) -> Outcome:
    """Build one site; a site error is returned as data (it must cross a process boundary).

    With staging (`build_sites`), a site without errors is staged here, in the process that
    built it, and only what `render_sites` needs goes back: not the objects, not the chart.
    """
    path, out_dir, stage = job
    try:
        result, images = _build_unchecked(path, out_dir, follow_out=True)
    except ConfigError as exc:
        return None, exc.problems, []
    if stage:
        if not any(p.is_error for p in result.problems):
            result.staged = stage_site(out_dir, result.site.name, result.plan)
        result.manifests = []
        result.site = replace(result.site, chart=None)
    return result, result.problems, images


def _workers(count: int) -> int:
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:
        cpus = os.cpu_count() or 1
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if count < PARALLEL_MIN_SITES or cpus < 2 or not can_fork:
        return 1
    return min(cpus, 8)


def build_sites(
    sites_dir: Path, names: Sequence[str], out_dir: Path, progress: Progress | None = None,
    *, stage: bool = False,
) -> tuple[list[BuiltSite], list[Problem]]:
    """Build every selected site; collect every problem of every site, in site order.

    With `stage` (the caller holds `writer.writing`), each site without errors is staged for
    `writer.publish` by the process that built it, and the results carry no objects
    (`BuiltSite.manifests` is empty) and no chart files.

    Why: `progress` lets a terminal show how far a long run is without the library printing.
    Many sites are built in forked worker processes (one per CPU): each site is independent
    and the work is CPU-bound Python, so a fleet renders in a fraction of the time; forked
    workers inherit the loaded modules and compiled validators. The Dockerfile checks run here
    after the workers are gone (the Go parser does not survive ``fork``; a worker that calls it
    can hang), each distinct Dockerfile once (`check_dockerfile` is memoised by content).
    A fleet compiles the schema checks it lacks (`schemacode.compiling`) while the first site
    is built, before the workers are forked.
    """
    return _build_paths(select_sites(sites_dir, names), sites_dir, out_dir, progress, stage)


def _build_paths(paths: list[Path], sites_dir: Path, out_dir: Path, progress: Progress | None,
                 stage: bool) -> tuple[list[BuiltSite], list[Problem]]:
    with schemacode.compiling(len(paths) >= PARALLEL_MIN_SITES):
        return _build_each(paths, sites_dir, out_dir, progress, stage)


def _build_each(paths: list[Path], sites_dir: Path, out_dir: Path, progress: Progress | None,
                stage: bool) -> tuple[list[BuiltSite], list[Problem]]:
    built: list[BuiltSite] = []
    problems: list[Problem] = []
    jobs = [(path, out_dir, stage) for path in paths]
    workers = _workers(len(jobs))
    if workers > 1:
        # The first site is built here, so the forked workers inherit its compiled validators,
        # parsed chart defaults and loaded templates instead of each building them again.
        first = _build_one(jobs[0])
        # Objects made so far live as long as the workers: kept out of the collector, the
        # workers neither scan them nor copy the memory pages the scans would touch.
        gc.freeze()
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                # Small chunks: the last chunk of one worker is not left to run alone.
                chunk = max(1, len(jobs) // (workers * 16))
                rest = pool.imap(_build_one, jobs[1:], chunksize=chunk)
                outcomes = _collect(itertools.chain([first], rest), paths, progress)
        finally:
            gc.unfreeze()
    else:
        outcomes = _collect(map(_build_one, jobs), paths, progress)
    for result, found, images in outcomes:
        if result is not None:
            result.problems.extend(image_context_problems(result.site, images,
                                                          out_dir / result.site.name))
            built.append(result)
            found = result.problems
        problems.extend(found)
    problems.extend(shared_ingress_hosts(built, sites_dir))
    return built, problems


def shared_ingress_hosts(built: list[BuiltSite], sites_dir: Path) -> list[Problem]:
    """A warning at ``ingress.host`` of each built site whose host another site also uses.

    Why: two sites made from the same example keep its host; both hubs' Ingresses then claim
    one address and the ingress controller sends users to either. Namespaces may repeat (sites
    usually target different clusters), a public host name may not. Sites not being rendered
    (``render <site>``) are read too, so the warning does not depend on the selection.
    """
    sites = {b.site.name: b.site for b in built}
    for path in discover_sites(sites_dir):
        if site_name(path) not in sites:
            try:
                sites[site_name(path)] = load_site(path)
            except DlaasGenError:
                continue
    users: dict[str, list[str]] = {}
    for name, loaded in sorted(sites.items()):
        if loaded.config.ingress is not None:
            users.setdefault(loaded.config.ingress.host.lower(), []).append(name)
    problems = []
    for b in built:
        ingress = b.site.config.ingress
        if ingress is None:
            continue
        others = [o for o in users.get(ingress.host.lower(), []) if o != b.site.name]
        if not others:
            continue
        raw = yamlio.load_roundtrip(b.site.path.read_text(encoding="utf-8"))
        line, col = yamlio.position_of(raw, ("ingress", "host"), value=True)
        message = (f"ingress host {ingress.host} is also the host of site {', '.join(others)}: "
                   "both hubs would answer at one address; give each site its own host")
        problems.append(Problem(str(b.site.path), line, col, level=WARNING, rule="shared-host",
                                message=message))
    return problems


def _collect(results: Iterator[Outcome], paths: list[Path],
             progress: Progress | None) -> list[Outcome]:
    outcomes = []
    for index, path in enumerate(paths, 1):
        if progress is not None:
            progress(index, len(paths), site_name(path))
        outcomes.append(next(results))
    return outcomes


def orphaned_sites(out_dir: Path, keep: set[str]) -> list[str]:
    """Site folders in `out_dir` that dlaas-gen wrote but whose site file is gone."""
    if not out_dir.is_dir():
        return []
    return sorted(
        p.name for p in out_dir.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        and p.name not in keep and (p / INDEX_FILE).is_file()
    )


def render_sites(
    sites_dir: Path = DEFAULT_SITES_DIR,
    names: Sequence[str] = (),
    out_dir: Path = DEFAULT_OUT_DIR,
    *,
    check: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> RenderReport:
    """Render sites into `out_dir` (or, with `check`, compare without writing).

    If any site has an error, nothing is written and `ProblemsError` lists every problem.

    Raises:
        ProblemsError: errors in a site, foreign files, or drift under `check`.
    """
    paths = select_sites(sites_dir, names)
    if check:
        built, problems = _build_paths(paths, sites_dir, out_dir, progress, stage=False)
        if any(p.is_error for p in problems):
            raise ProblemsError(problems)
        plans = {b.site.name: b.plan for b in built}
        orphans = [] if names else orphaned_sites(out_dir, set(plans))
        drift = check_sites(out_dir, plans)
        drift += [Problem(str(out_dir / o), rule="drift",
                          message="site folder without a site file: run `dlaas-gen render`")
                  for o in orphans]
        if drift:
            raise ProblemsError(problems + drift)
        return RenderReport(sites=list(plans), problems=problems)
    with writing(out_dir, [site_name(path) for path in paths]) as recovered:
        built, problems = _build_paths(paths, sites_dir, out_dir, progress, stage=True)
        staged = {b.site.name: bool(b.staged) for b in built}
        if any(p.is_error for p in problems):
            discard_staged(out_dir, [site for site, done in staged.items() if done])
            raise ProblemsError(problems)
        plans = {b.site.name: b.plan for b in built}
        orphans = [] if names else orphaned_sites(out_dir, set(plans))
        outcome = publish(out_dir, plans, staged, force=force, remove=orphans)
    report = RenderReport(sites=list(plans), problems=problems)
    report.written, report.unchanged = outcome.written, outcome.unchanged
    report.recovered, report.removed = recovered, outcome.removed
    return report


def rendered_folders(out_dir: Path = DEFAULT_OUT_DIR) -> list[Path]:
    """The site folders in `out_dir` (what ``validate`` checks when given no folder).

    Raises:
        UsageError: `out_dir` does not exist.
    """
    if not out_dir.is_dir():
        raise UsageError(f"{out_dir} does not exist; pass the folders to validate")
    return sorted(p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def validate_folders(
    folders: Sequence[Path],
    sites_dir: Path = DEFAULT_SITES_DIR,
    kube_version: str | None = None,
    progress: Progress | None = None,
) -> list[Problem]:
    """Validate rendered folders (or any folders of manifests) offline, with the policy.

    Each folder is checked against its site file ``<sites_dir>/<folder name>.yaml`` when that
    loads (policy exceptions, ``kubernetes_version``), else with the strictest settings. Every
    problem is named from the folder as given.

    Args:
        folders: the folders to check.
        sites_dir: where the site file of each folder is.
        kube_version: Kubernetes ``X.Y`` to check against; default: the site's, else
            `DEFAULT_KUBE_VERSION`.
        progress: called before each folder with (1-based index, number of folders, folder).

    Raises:
        UsageError: a path is not a folder.
    """
    problems: list[Problem] = []
    for index, folder in enumerate(folders, 1):
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
        if progress is not None:
            progress(index, len(folders), str(folder))
        problems.extend(reprefix(p, folder) for p in check_context_folders(folder))
        try:
            tree = load_tree(folder)
        except ProblemsError as exc:
            problems.extend(exc.problems)
            continue
        site, site_problems = folder_site(folder, sites_dir)
        problems.extend(site_problems)
        charts_dir = charts_dir_for(sites_dir)
        if site is None:  # no site file (a tree written by hand): the strictest settings
            policy = PolicySettings(charts_dir=charts_dir)
        else:
            declared = build_context(SiteInput(folder.resolve().name, site))
            policy = policy_settings(site, declared, charts_dir)
        version = kube_version or (site.kubernetes_version if site else DEFAULT_KUBE_VERSION)
        found = validate_tree(tree, version, policy=policy)
        problems.extend(reprefix(p, folder) for p in found)
    return problems


def policy_settings(config: SiteConfig, declared: SiteContext,
                    charts_dir: Path | None = None) -> PolicySettings:
    """The policy settings of a site: hostPath roots, the FUSE DaemonSet, the exceptions.

    Why here: the policy checks rendered objects and reads no site file; the pipeline, which
    loaded the site, tells it what the site allows. The hostPath roots and the FUSE DaemonSet
    are what the site's components declare in its context (`SiteContext.host_roots`,
    `SiteContext.fuse_daemonset`), the exceptions are the site file's. `charts_dir` is the
    repository's chart lock folder (the chart defaults of the pinned version).
    """
    exceptions = {(e.rule, e.kind, e.namespace or "", e.name): e.justification
                  for e in config.security.exceptions}
    return PolicySettings(host_roots=declared.host_roots, fuse_daemonset=declared.fuse_daemonset,
                          exceptions=exceptions, charts_dir=charts_dir)


def folder_site(folder: Path, sites_dir: Path) -> tuple[SiteConfig | None, list[Problem]]:
    """The site of a rendered folder (``<sites_dir>/<folder name>.yaml``) and what went wrong.

    Why: ``validate`` checks a rendered tree against what its site says (policy exceptions,
    ``kubernetes_version``). A folder without a site file (a tree written by hand) has no site
    and gets the strictest settings. A site file that does not load gets them too, but not
    silently: a warning at the file says the folder was validated without it.

    Returns:
        The site's config (None without a usable site file), and that warning if any.
    """
    path = sites_dir / f"{folder.resolve().name}{SITE_SUFFIX}"
    if not path.is_file():
        return None, []
    try:
        return load_site(path).config, []
    except ProblemsError as exc:
        first = exc.problems[0] if exc.problems else None
        same_file = first is not None and Path(first.path) == path
        line, col = (first.line, first.col) if first is not None and same_file else (0, 0)
        why = first.message if first is not None else str(exc)
    except DlaasGenError as exc:
        line, col, why = 0, 0, str(exc)
    return None, [Problem(str(path), line, col, level=WARNING, rule="site-file", message=(
        f"the site file does not load ({why}); {folder} is validated without it: no policy "
        "exceptions, hostPath roots or kubernetes_version (run `dlaas-gen render` for its "
        "problems)"))]
