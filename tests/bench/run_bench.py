"""``make bench``: the speed goals of dlaas-gen, each beside a baseline taken in the same run.

Not part of ``make test`` (timings are noisy on shared machines). Prints one line per goal:
the measured value, the baseline, their ratio, and whether the target holds.

Goals (issue 3): cold ``dlaas-gen --help`` under 300 ms; cold ``render --check`` of the
repository under 1 s; render+validate of a generated fleet of 100 sites at least 10x the
throughput of the ``kubernetes-validate`` CLI validating the same rendered files.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FLEET = 100


def median_seconds(cmd: list[str], runs: int, cwd: Path = REPO) -> float:
    """Median wall time of `runs` cold runs of `cmd` (a new process each time)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_fleet(folder: Path) -> None:
    """Write FLEET site files, variations of the repository's sites."""
    sources = sorted(
        p for p in (REPO / "sites").glob("*.yaml") if not p.name.endswith(".origins.yaml")
    )
    folder.mkdir(parents=True)
    for index in range(FLEET):
        source = sources[index % len(sources)]
        text = source.read_text().replace("example.org", f"site{index}.example.org")
        (folder / f"site{index:03d}.yaml").write_text(text)
        lock = source.with_name(source.stem + ".origins.yaml")
        if lock.exists():
            shutil.copy(lock, folder / f"site{index:03d}.origins.yaml")


def main() -> int:
    """Run every benchmark and print the results."""
    ok = True
    py = [sys.executable, "-c", "pass"]
    baseline = median_seconds(py, 7)
    help_time = median_seconds([str(BIN / "dlaas-gen"), "--help"], 7)
    target = help_time < 0.300
    ok &= target
    print(
        f"--help           {help_time * 1000:7.0f} ms  (python -c pass {baseline * 1000:.0f} ms, "
        f"x{help_time / baseline:.1f})  target < 300 ms: {'ok' if target else 'MISSED'}"
    )

    check_time = median_seconds([str(BIN / "dlaas-gen"), "render", "--check"], 5)
    target = check_time < 1.0
    ok &= target
    print(
        f"render --check   {check_time * 1000:7.0f} ms  (python -c pass {baseline * 1000:.0f} ms, "
        f"x{check_time / baseline:.1f})  target < 1 s: {'ok' if target else 'MISSED'}"
    )

    from dlaas_gen.pipeline import build_site, build_sites

    build_site(REPO / "sites" / "demo.yaml")  # warm the caches, as a long-lived run would be

    with tempfile.TemporaryDirectory() as tmp:
        sites = Path(tmp) / "sites"
        out = Path(tmp) / "rendered"
        make_fleet(sites)
        start = time.perf_counter()
        built, problems = build_sites(sites, (), out)
        assert not [p for p in problems if p.is_error], problems[:3]
        ours = time.perf_counter() - start
        files = []
        for b in built:
            for rel, data in b.plan.items():
                if rel.endswith(".yaml") and not rel.endswith("kustomization.yaml"):
                    path = out / b.site.name / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    files.append(str(path))
        start = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "kubernetes-validate"),
                "--strict",
                "--kubernetes-version",
                "1.33",
                "--quiet",
                *files,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        theirs = time.perf_counter() - start
    ratio = theirs / ours
    target = ratio >= 10
    ok &= target
    print(
        f"fleet of {FLEET}     {ours:7.2f} s   render+validate, {len(files)} objects "
        f"(kubernetes-validate CLI on the same files: {theirs:.2f} s, validation only) "
        f"x{ratio:.1f} faster  target >= 10x: {'ok' if target else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
