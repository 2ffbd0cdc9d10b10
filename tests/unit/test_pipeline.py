"""build_sites: forked workers for many sites give exactly the serial result, in order."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import pytest

from dlaas_gen import pipeline
from dlaas_gen.context import SiteInput, build_context
from tests.conftest import REPO
from tests.support.fleet import make_fleet


def make_sites(folder: Path, count: int) -> None:
    folder.mkdir()
    demo = (REPO / "sites" / "demo.yaml").read_text()
    for index in range(count):
        text = demo.replace("demo-hub.example.org", f"hub{index}.example.org")
        if index == 3:
            text = text.replace("namespace: demo-hub", "namespace: Bad_NS")
        (folder / f"site{index:02d}.yaml").write_text(text)


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_sites(tmp_path / "sites", 12)
    seen: list[str] = []
    assert pipeline._workers(12) >= 1
    parallel = pipeline.build_sites(tmp_path / "sites", (), tmp_path / "out",
                                    progress=lambda _index, _total, name: seen.append(name))
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_SITES", 10_000)
    serial = pipeline.build_sites(tmp_path / "sites", (), tmp_path / "out")
    assert [b.site.name for b in parallel[0]] == [b.site.name for b in serial[0]]
    assert [b.plan for b in parallel[0]] == [b.plan for b in serial[0]]
    assert [p.format() for p in parallel[1]] == [p.format() for p in serial[1]]
    assert seen == [f"site{i:02d}" for i in range(12)]
    assert any("site03.yaml" in p.path and "Bad_NS" in p.message for p in parallel[1])
    assert len(parallel[0]) == 11


# --- validate of rendered folders: the site's settings come from the pipeline ---------------


def test_folder_site_reads_the_site_file_of_a_rendered_folder(tmp_path: Path) -> None:
    config, problems = pipeline.folder_site(REPO / "rendered" / "escape", REPO / "sites")
    assert problems == [] and config is not None
    declared = build_context(SiteInput("escape", config))
    settings = pipeline.policy_settings(config, declared, REPO / "charts")
    assert settings.exceptions and settings.charts_dir == REPO / "charts"
    assert config.eos is not None
    assert settings.fuse_daemonset == (config.eos.namespace, "eosxd")
    assert config.eos.host_mount_root in settings.host_roots
    assert pipeline.folder_site(tmp_path / "nowhere", REPO / "sites") == (None, [])


def test_a_site_file_that_does_not_load_is_not_ignored_silently(tmp_path: Path) -> None:
    sites, folder = tmp_path / "sites", tmp_path / "rendered" / "broken"
    sites.mkdir()
    folder.mkdir(parents=True)
    (sites / "broken.yaml").write_text("kubernetes_version: '1.33'\nsingleuser: 3\n")
    (folder / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata: {a: b}\n")
    config, [warning] = pipeline.folder_site(folder, sites)
    assert config is None
    assert (warning.path, warning.line, warning.col) == (str(sites / "broken.yaml"), 2, 13)
    assert warning.level == "warning" and warning.rule == "site-file"
    assert "is validated without it" in warning.message
    found = pipeline.validate_folders([folder], sites)
    assert [(p.path, p.line, p.rule) for p in found] == [
        (str(sites / "broken.yaml"), 2, "site-file")]


# --- Dockerfile checks: never in a forked worker (the Go parser does not survive fork) ------


def test_dockerfiles_are_checked_in_the_parent_once_per_content(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dlaas_gen.validate import dockerfiles

    make_fleet(tmp_path, 4)
    calls = tmp_path / "calls"
    original = dockerfiles._check_dockerfile

    def recording(text: str, context: Collection[str]) -> list[dockerfiles.DockerfileFinding]:
        with calls.open("a") as out:  # a file: a forked worker's calls are seen too
            out.write(f"{os.getpid()}\n")
        return original(text, context)

    monkeypatch.setattr(dockerfiles, "_check_dockerfile", recording)
    monkeypatch.setattr(dockerfiles, "_CHECKED", {})
    monkeypatch.setattr(pipeline, "_workers", lambda _count: 2)
    built, problems = pipeline.build_sites(tmp_path / "sites", (), tmp_path / "out")
    pids = calls.read_text().split()
    distinct = {image.files["Dockerfile"]
                for b in built for image in build_context(SiteInput(
                    b.site.name, b.site.config, cric_origins=b.site.cric_origins)).images.values()}
    assert set(pids) == {str(os.getpid())}
    assert len(pids) == len(distinct) >= 2  # 4 sites x 2 images, each content parsed once
    assert [b.site.name for b in built] == [f"site{i:04d}" for i in range(4)]
    assert not [p for p in problems if p.is_error]


def test_a_broken_dockerfile_is_still_reported_at_the_site_line_from_a_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dlaas_gen.validate import dockerfiles

    make_fleet(tmp_path, 3)
    monkeypatch.setattr(pipeline, "_workers", lambda _count: 2)
    monkeypatch.setattr(dockerfiles, "_CHECKED", {})
    monkeypatch.setattr(dockerfiles, "FINAL_COMMAND", "pip check --never")  # every file fails
    serial_built, serial = pipeline.build_sites(tmp_path / "sites", ["site0001"],
                                                tmp_path / "out")
    _, problems = pipeline.build_sites(tmp_path / "sites", (), tmp_path / "out")
    site1 = [p for p in problems if p.path.endswith("site0001.yaml")]
    assert [p.format() for p in site1] == [p.format() for p in serial]
    assert site1 and all(p.rule == dockerfiles.RULE for p in site1)
    lines = (tmp_path / "sites" / "site0001.yaml").read_text().splitlines()
    for p in site1:
        name = p.message.split(":")[0].removeprefix("images.")
        assert lines[p.line - 1].strip() == f"{name}:", (p.line, name)
    assert "rendered" not in site1[0].message and "out/site0001/images/" in site1[0].message
    assert serial_built[0].problems == serial


def test_render_stages_in_the_workers_and_a_failed_run_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why: the workers write each site's staging folder as soon as it is built; one site with
    # an error must still mean nothing written, no staging folder left, no folder created.
    make_sites(tmp_path / "sites", 12)
    out = tmp_path / "new" / "rendered"
    pids = tmp_path / "staged-by"
    real_stage = pipeline.stage_site

    def stage(out_dir: Path, site: str, plan: dict[str, bytes]) -> bool:
        with pids.open("a") as handle:  # a worker's memory is its own: write it down
            handle.write(f"{os.getpid()}\n")
        return real_stage(out_dir, site, plan)

    monkeypatch.setattr(pipeline, "stage_site", stage)
    with pytest.raises(pipeline.ProblemsError):
        pipeline.render_sites(tmp_path / "sites", (), out)
    assert not (tmp_path / "new").exists()
    assert set(pids.read_text().split()) - {str(os.getpid())}, "no worker staged a site"
    (tmp_path / "sites" / "site03.yaml").unlink()
    report = pipeline.render_sites(tmp_path / "sites", (), out)
    assert len(report.written) == 11 and sorted(p.name for p in out.iterdir()) == sorted(
        f"site{i:02d}" for i in range(12) if i != 3)
    again = pipeline.render_sites(tmp_path / "sites", (), out)
    assert again.written == [] and len(again.unchanged) == 11
