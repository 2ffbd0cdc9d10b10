"""``make bench``: the speed targets of dlaas-gen, each beside a baseline taken in the same run.

Not part of ``make test`` (timings are noisy on shared machines). Everything is measured through
the real command line, in new processes ("cold": a fresh interpreter, warm disk and bytecode
caches, as a user or a pre-commit hook sees it). The script uses only the ``dlaas-gen`` program
and files, never dlaas_gen's modules, so it keeps working when modules move.

Targets, each printed with PASS or FAIL:

1. ``dlaas-gen --help``: at most 100 ms (baseline: ``python -c pass``).
2. ``dlaas-gen render --check`` of this repository's sites: at most 300 ms.
3. ``dlaas-gen render`` of a fleet of 100 sites generated from ``sites/escape.yaml`` and its
   origins lock (host names varied), rendered and validated: at most 2x the floor, which is one
   process on one core loading and dumping the same output documents with the C YAML loader and
   dumper (PyYAML's CSafeLoader/CSafeDumper on libyaml, else ruamel.yaml's C parser/emitter).
   The same fleet pinned to one core is printed beside it (information).
4. Cost per site flat from 10 to 1,000 sites: the per-site time at 1,000 sites at most 1.2x the
   per-site time at 10. The per-site time at N is the marginal cost ``(T(N) - T(1)) / (N - 1)``
   (the fixed cost of starting and importing is the 1-site run), so that a large fixed cost
   cannot hide a per-site cost that grows with the fleet; ``T(N) / N`` is printed beside it.
   The sizes are measured in rounds (three 1-site and three 10-site runs, one 100-site and one
   1,000-site run per round), so a change in the machine's load hits every size alike.

Information only: the ratio against the ``kubernetes-validate`` CLI validating the same files.

Each figure is the median of several runs (range and count printed), with the median CPU time
(user + system, the process and the workers it waited for) beside it: on a loaded machine wall
time grows, CPU time much less. A target and its baseline alternate run by run, so a change in
the machine's load hits both. A render that does not finish in time is killed with
its worker processes and reported as hung (a FAIL), and the per-site runs then use one core.
Options: ``--runs X`` multiplies the number of runs, ``--no-1000`` skips the 1,000-site fleet.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SOURCE_SITE = REPO / "sites" / "escape.yaml"
SOURCE_LOCK = REPO / "sites" / "escape.origins.yaml"

HELP_TARGET = 0.100
CHECK_TARGET = 0.300
FLOOR_RATIO_TARGET = 2.0
FLAT_RATIO_TARGET = 1.2
#: A render of up to 100 sites taking longer than this has hung (it takes seconds).
HANG_SECONDS = 60.0

# The floor: one process, one core, the C YAML loader and dumper on every rendered YAML document.
# Run as `python -c FLOOR_SCRIPT LISTFILE`; prints documents, seconds inside, bytes, library.
FLOOR_SCRIPT = r"""
import os, sys, time
start = time.perf_counter()
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
try:
    import yaml
    if not yaml.__with_libyaml__:
        raise ImportError("PyYAML without libyaml")
    def load_all(text):
        return list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    def dump_all(docs):
        return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False)
    which = "PyYAML CSafeLoader/CSafeDumper (libyaml)"
except ImportError:
    import io
    from ruamel.yaml import YAML
    y = YAML(typ="safe", pure=False)
    def load_all(text):
        return list(y.load_all(text))
    def dump_all(docs):
        buf = io.StringIO()
        y.dump_all(docs, buf)
        return buf.getvalue()
    which = "ruamel.yaml C parser/emitter"
documents = 0
size = 0
with open(sys.argv[1], encoding="utf-8") as listing:
    for name in listing.read().splitlines():
        with open(name, encoding="utf-8") as f:
            docs = [d for d in load_all(f.read()) if d is not None]
        documents += len(docs)
        size += len(dump_all(docs))
print(documents, time.perf_counter() - start, size, which, sep="\t")
"""


@dataclass
class Row:
    """One line of the results table."""

    what: str
    value: str
    baseline: str
    target: str
    verdict: str  # PASS, FAIL or "info"


@dataclass
class Results:
    """The table, and whether every judged target holds."""

    rows: list[Row] = field(default_factory=list)

    def add(self, what: str, value: str, baseline: str, target: str, ok: bool | None) -> None:
        verdict = "info" if ok is None else "PASS" if ok else "FAIL"
        self.rows.append(Row(what, value, baseline, target, verdict))
        print(f"  -> {what}: {value} | {baseline} | {target} | {verdict}", flush=True)

    @property
    def ok(self) -> bool:
        return all(r.verdict != "FAIL" for r in self.rows)


@dataclass
class Bench:
    """What the measurements share: the run count factor, a scratch folder, the results."""

    runs: float
    tmp: Path
    cpus: int
    results: Results = field(default_factory=Results)

    def n(self, base: int) -> int:
        """`base` runs, scaled by ``--runs``."""
        return max(1, round(base * self.runs))


@dataclass(frozen=True)
class Run:
    """One process run: wall time, CPU time (user + system, with its waited-for children)."""

    wall: float
    cpu: float
    stdout: str = ""


def wall(runs: list[Run]) -> float:
    """The median wall time of `runs`."""
    return statistics.median(r.wall for r in runs)


def cpu(runs: list[Run]) -> float:
    """The median CPU time of `runs`."""
    return statistics.median(r.cpu for r in runs)


class Hung(Exception):
    """A run did not finish within its time limit (it and its children were killed)."""


def dlaas_gen() -> list[str]:
    """The installed ``dlaas-gen`` program (the console script beside this interpreter)."""
    script = BIN / "dlaas-gen"
    if script.exists():
        return [str(script)]
    found = shutil.which("dlaas-gen")
    if found:
        return [found]
    sys.exit("make bench: no dlaas-gen program; run `make venv` first")


def run_once(cmd: list[str], cwd: Path, *, expect: tuple[int, ...] = (0,), one_core: bool = False,
             timeout: float | None = None) -> Run:
    """Time one new process running `cmd` (keeping its stdout). Exits on an unexpected status.

    `one_core` pins the process (and what it forks) to one CPU, as ``taskset -c`` does. A run
    longer than `timeout` is killed with its whole process group and raises `Hung`.
    """
    def pin() -> None:
        if one_core:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=pin)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise Hung(f"`dlaas-gen {' '.join(cmd[1:])}` did not finish in {timeout:.0f} s") from None
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in expect:
        sys.exit(f"make bench: `{' '.join(cmd)}` (in {cwd}) exited {proc.returncode}, expected "
                 f"{expect}:\n{stdout[-2000:]}{stderr[-4000:]}")
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(elapsed, used, stdout)


def alternate(runs: int, *jobs: Callable[[], Run]) -> list[list[Run]]:
    """Run each job `runs` times, alternating them; the runs of each job."""
    times: list[list[Run]] = [[] for _ in jobs]
    for _ in range(runs):
        for index, job in enumerate(jobs):
            times[index].append(job())
    return times


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def spread(runs: list[Run], unit: Callable[[float], str]) -> str:
    """Median wall time, the range of the runs, and the median CPU time."""
    low, high = unit(min(r.wall for r in runs)), unit(max(r.wall for r in runs))
    return f"{unit(wall(runs))} ({low} to {high}, n={len(runs)}; CPU {unit(cpu(runs))})"


def host_of(site_text: str) -> str:
    """The ingress host of a site file (read with whichever YAML library is installed)."""
    try:
        from ruamel.yaml import YAML

        data = YAML(typ="safe").load(site_text)
    except ImportError:
        import yaml

        data = yaml.safe_load(site_text)
    return str(data["ingress"]["host"])


def make_fleet(root: Path, count: int) -> Path:
    """A repository folder `root` with `count` escape-like sites in ``root/sites``.

    Each site is ``sites/escape.yaml`` with its ingress host replaced everywhere it appears (the
    XCache site_name contains it, as the rules require), plus a copy of its origins lock. The
    chart locks (``charts/``) are copied too, so the sites render exactly as the repository's.
    """
    text = SOURCE_SITE.read_text(encoding="utf-8")
    host = host_of(text)
    first, _, rest = host.partition(".")
    sites = root / "sites"
    sites.mkdir(parents=True)
    lock = SOURCE_LOCK.read_text(encoding="utf-8") if SOURCE_LOCK.exists() else None
    for index in range(count):
        name = f"site{index:04d}"
        site_text = text.replace(host, f"{first}-{index:04d}.{rest}")
        (sites / f"{name}.yaml").write_text(site_text, encoding="utf-8")
        if lock is not None:
            (sites / f"{name}.origins.yaml").write_text(lock, encoding="utf-8")
    if (REPO / "charts").is_dir():
        shutil.copytree(REPO / "charts", root / "charts")
    return root


def render_fleet(root: Path, count: int, *, one_core: bool = False, timeout: float) -> Run:
    """Time one ``dlaas-gen render`` of the fleet in `root` into a new, empty folder.

    Checks that every site rendered (exit 0 and one folder per site); the output is left in
    place (the floor and kubernetes-validate read the first one); the run's temporary folder
    is deleted only when the benchmark ends. Raises `Hung` after `timeout` seconds.

    Why not delete the previous output first: on ext4 without a journal (this project's
    2-core machines), a file created within a minute or more of many deletions costs up to
    1 ms of kernel time, as the inode allocator skips each recently deleted inode
    (``recently_deleted()`` in ``fs/ext4/ialloc.c``); 3,400 deletions before each run made
    the render of 100 sites measure the previous run's ``rm -rf`` (0.3 to 3 s of system time).
    """
    out = root / f"rendered-{len(list(root.glob('rendered-*'))) + 1}"  # the first: rendered-1
    cmd = [*dlaas_gen(), "render", "--sites-dir", "sites", "--out", out.name]
    run = run_once(cmd, root, one_core=one_core, timeout=timeout)
    folders = [p for p in out.iterdir() if p.is_dir()]
    if len(folders) != count:
        sys.exit(f"make bench: render of {count} sites wrote {len(folders)} site folders")
    return run


def bench_help(bench: Bench) -> None:
    """1. Cold ``--help`` beside ``python -c pass``."""
    print("1. cold `dlaas-gen --help` against `python -c pass`", flush=True)
    py_pass = [sys.executable, "-c", "pass"]
    help_cmd = [*dlaas_gen(), "--help"]
    run_once(help_cmd, REPO)  # bytecode and page cache warm, as for a user
    base, ours = alternate(bench.n(15), lambda: run_once(py_pass, REPO),
                           lambda: run_once(help_cmd, REPO))
    bench.results.add("cold `dlaas-gen --help`", spread(ours, ms),
                      f"`python -c pass` {spread(base, ms)}", f"<= {ms(HELP_TARGET)}",
                      wall(ours) <= HELP_TARGET)


def bench_check(bench: Bench) -> None:
    """2. Cold ``render --check`` of the repository's sites.

    In a copy of ``sites/`` and ``charts/``, rendered first: the repository's own ``rendered/``
    may be out of date while people work, and drift would measure another path.
    """
    print("2. cold `dlaas-gen render --check` of this repository's sites", flush=True)
    copy = bench.tmp / "repo"
    shutil.copytree(REPO / "sites", copy / "sites")
    if (REPO / "charts").is_dir():
        shutil.copytree(REPO / "charts", copy / "charts")
    run_once([*dlaas_gen(), "render"], copy)
    # The check's cache in a folder of this run (warm after the first check), never the user's.
    check_cmd = ["env", f"XDG_CACHE_HOME={bench.tmp / 'cache'}", *dlaas_gen(), "render", "--check"]
    run_once(check_cmd, copy)
    count = len([p for p in (copy / "rendered").iterdir() if p.is_dir()])
    py_pass = [sys.executable, "-c", "pass"]
    base, ours, uncached = alternate(bench.n(9), lambda: run_once(py_pass, REPO),
                                     lambda: run_once(check_cmd, copy),
                                     lambda: run_once([*check_cmd, "--no-cache"], copy))
    bench.results.add(f"cold `dlaas-gen render --check` ({count} sites), cache warm",
                      spread(ours, ms), f"`python -c pass` {spread(base, ms)}",
                      f"<= {ms(CHECK_TARGET)}", wall(ours) <= CHECK_TARGET)
    bench.results.add(f"cold `dlaas-gen render --check --no-cache` ({count} sites)",
                      spread(uncached, ms), f"`python -c pass` {spread(base, ms)}",
                      "(first run, CI without the cache)", None)


def floor_of(bench: Bench, files: list[Path]) -> tuple[Callable[[], Run], list[float], str]:
    """A job timing the floor on `files`, the in-process times it collects, and its description."""
    listing = bench.tmp / "files.txt"
    listing.write_text("".join(f"{f}\n" for f in files), encoding="utf-8")
    floor_cmd = [sys.executable, "-c", FLOOR_SCRIPT, str(listing)]
    documents, _, _, which = run_once(floor_cmd, REPO).stdout.strip().split("\t")
    inside: list[float] = []

    def job() -> Run:
        run = run_once(floor_cmd, REPO)
        inside.append(float(run.stdout.split("\t")[1]))
        return run

    note = f"{which}, one process on one core, {documents} documents in {len(files)} files"
    return job, inside, note


def bench_fleet(bench: Bench) -> bool:
    """3. 100 escape-like sites against the C YAML floor, and kubernetes-validate (information).

    Returns whether the all-CPU render hung.
    """
    print("3. render of 100 escape-like sites against the C YAML load+dump floor", flush=True)
    fleet = make_fleet(bench.tmp / "fleet100", 100)
    render_fleet(fleet, 100, one_core=True, timeout=HANG_SECONDS)  # warm-up; output for the floor
    output = fleet / "rendered-1"  # the warm-up's output: later runs write others
    files = sorted(output.rglob("*.yaml"))
    floor_job, inside, floor_note = floor_of(bench, files)
    floor_runs: list[Run] = []
    all_cpus: list[Run] = []
    hung = None
    for _ in range(bench.n(5)):
        floor_runs.append(floor_job())
        if hung is None:
            try:
                all_cpus.append(render_fleet(fleet, 100, timeout=HANG_SECONDS))
            except Hung as exc:
                hung = str(exc)
    floor_text = (f"floor {spread(floor_runs, seconds)}, "
                  f"{statistics.median(inside):.2f} s in-process")
    what = f"render of 100 escape-like sites, {bench.cpus} CPUs (render + validate + write)"
    if hung is None:
        ratio = wall(all_cpus) / wall(floor_runs)
        bench.results.add(what, spread(all_cpus, seconds), f"{floor_text}: {floor_note}",
                          f"<= {FLOOR_RATIO_TARGET:.0f}x floor: x{ratio:.2f}",
                          ratio <= FLOOR_RATIO_TARGET)
    else:
        good = f" (after {len(all_cpus)} good runs)" if all_cpus else ""
        bench.results.add(what, f"HUNG: {hung}{good}", f"{floor_text}: {floor_note}",
                          f"<= {FLOOR_RATIO_TARGET:.0f}x floor", False)
    floor_one, one_core = alternate(
        bench.n(3), floor_job,
        lambda: render_fleet(fleet, 100, one_core=True, timeout=HANG_SECONDS))
    bench.results.add("the same fleet pinned to one core (as the floor)", spread(one_core, seconds),
                      f"floor {spread(floor_one, seconds)}",
                      f"x{wall(one_core) / wall(floor_one):.2f} floor "
                      f"(CPU time: x{cpu(one_core) / cpu(floor_one):.2f})", None)
    ours = all_cpus if hung is None else one_core
    bench_kubernetes_validate(bench, files, wall(ours), "" if hung is None else " (one-core run)")
    return hung is not None


def bench_kubernetes_validate(bench: Bench, files: list[Path], ours: float, note: str) -> None:
    """Information only: the ``kubernetes-validate`` CLI on the same Kubernetes objects."""
    kv = BIN / "kubernetes-validate"
    what = "the same fleet vs the `kubernetes-validate` CLI on the same files"
    if not kv.exists():
        bench.results.add(what, "not measured", "kubernetes-validate is not installed "
                          "(pip install -e '.[test]')", "information only", None)
        return
    print("   (info) kubernetes-validate CLI on the same files", flush=True)
    objects = [str(f) for f in files if f.name != "kustomization.yaml"]  # kustomize's own files
    kv_cmd = [str(kv), "--strict", "--kubernetes-version", "1.33", "--quiet", *objects]
    kv_times = alternate(bench.n(1), lambda: run_once(kv_cmd, REPO, expect=(0, 1, 2)))[0]
    bench.results.add(f"{what} ({len(objects)} files, validation only){note}",
                      f"x{wall(kv_times) / ours:.1f} faster",
                      f"kubernetes-validate {spread(kv_times, seconds)}", "information only", None)


def bench_per_site(bench: Bench, one_core: bool, big: bool) -> None:
    """4. The marginal per-site time at 10, 100 and 1,000 sites.

    Rounds of three 1-site and three 10-site runs, one 100-site and one 1,000-site run, so
    that a change in the machine's load hits every size alike.
    """
    mode = "one core (the all-CPU render hung)" if one_core else f"{bench.cpus} CPUs"
    print(f"4. per-site time at 10, 100 and 1,000 sites, {mode}", flush=True)
    sizes = (1, 10, 100, 1000) if big else (1, 10, 100)
    fleets = {count: make_fleet(bench.tmp / f"sizes{count}", count) for count in sizes}
    runs: dict[int, list[Run]] = {count: [] for count in sizes}
    what = "per-site cost flat from 10 to 1,000 sites"

    def render(count: int) -> None:
        timeout = HANG_SECONDS * max(1, count // 100)
        runs[count].append(render_fleet(fleets[count], count, one_core=one_core, timeout=timeout))

    try:
        render(10)  # warm-up
        runs[10].clear()
        for _ in range(bench.n(3)):
            for _ in range(3):
                render(1)
                render(10)
            for count in sizes[2:]:
                render(count)
                print(f"   {count:,} sites: {seconds(runs[count][-1].wall)}", flush=True)
    except Hung as exc:
        bench.results.add(what, f"HUNG: {exc}", "", f"<= {FLAT_RATIO_TARGET}x", False)
        return
    one = runs.pop(1)
    per_site = {count: (wall(r) - wall(one)) / (count - 1) for count, r in runs.items()}
    per_cpu = {count: (cpu(r) - cpu(one)) / (count - 1) for count, r in runs.items()}
    for count in sorted(per_site):
        bench.results.add(f"per site at {count:,} sites, {mode}",
                          f"{ms(per_site[count])} marginal (CPU {ms(per_cpu[count])})",
                          f"total {spread(runs[count], seconds)}, / {count} = "
                          f"{ms(wall(runs[count]) / count)}; 1-site run {spread(one, ms)}",
                          "", None)
    if 1000 in per_site:
        flat = per_site[1000] / per_site[10]
        bench.results.add(what, f"x{flat:.2f} (1,000 vs 10; CPU time "
                          f"x{per_cpu[1000] / per_cpu[10]:.2f})", "",
                          f"<= {FLAT_RATIO_TARGET}x", flat <= FLAT_RATIO_TARGET)
    else:
        bench.results.add(what, "not measured (--no-1000)", "", f"<= {FLAT_RATIO_TARGET}x", None)


def main() -> int:
    """Run every benchmark, print the table; exit 1 when a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=float, default=1.0,
                        help="multiply the number of runs of every measurement (default 1)")
    parser.add_argument("--no-1000", dest="big", action="store_false",
                        help="skip the 1,000-site fleet (the flatness target is then not judged)")
    args = parser.parse_args()
    started = time.perf_counter()
    # Cold means a new process with warm bytecode caches, as a user's: with this variable set
    # (some sandboxes set it) no .pyc of an editable install is ever written, and every run
    # would compile dlaas-gen's modules from source (about 0.1 s).
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        print("make bench: PYTHONDONTWRITEBYTECODE unset for the runs (bytecode caches warm)")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    version = run_once([*dlaas_gen(), "--version"], REPO).stdout.strip()
    print(f"make bench: {version}, Python {platform.python_version()}, {cpus} CPUs, "
          f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
          f"load average {load_before:.2f} (1 min)", flush=True)
    with tempfile.TemporaryDirectory(prefix="dlaas-bench-") as tmp:
        bench = Bench(args.runs, Path(tmp), cpus)
        bench_help(bench)
        bench_check(bench)
        hung = bench_fleet(bench)
        bench_per_site(bench, hung, args.big)
    print()
    print("| measurement | now: median (range, runs) | baseline in the same run | target | |")
    print("|---|---|---|---|---|")
    for r in bench.results.rows:
        print(f"| {r.what} | {r.value} | {r.baseline} | {r.target} | {r.verdict} |")
    print()
    print(f"{cpus} CPUs; load average (1 min) {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after; the bench took {time.perf_counter() - started:.0f} s. "
          "Other load on the machine makes every figure slower.")
    return 0 if bench.results.ok else 1


if __name__ == "__main__":
    sys.exit(main())
