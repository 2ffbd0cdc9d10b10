"""Build contexts: written beside the applied folders, tagged by content, parsed as Dockerfiles."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import dockerfile
import pytest

from dlaas_gen import yamlio
from dlaas_gen.commands.images import plan_images
from dlaas_gen.context import SiteInput, build_context
from dlaas_gen.context.images import context_tag
from dlaas_gen.context.template_vars import HelmReleaseVars
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site, image_context_problems, render_sites
from dlaas_gen.tree import load_tree
from dlaas_gen.validate.dockerfiles import check_context_folders, check_dockerfile
from dlaas_gen.writer import INDEX_FILE, check_sites
from tests.conftest import REPO
from tests.support.image_sites import SITE, line_of, write

TAG = re.compile(r"ctx-[0-9a-f]{16}")


def plan_of(path: Path) -> dict[str, str]:
    built = build_site(path)
    assert [p.format() for p in built.problems if p.is_error] == []
    return {rel: data.decode() for rel, data in built.plan.items()}


def tags_of(path: Path) -> dict[str, str]:
    return {
        p.name: p.image.rsplit(":", 1)[1]
        for p in plan_images(path.parent, [path.stem], Path("out"))
    }


def test_same_context_same_tag_and_unrelated_edits_keep_tags(tmp_path: Path) -> None:
    path = write(tmp_path)
    first = tags_of(path)
    assert tags_of(path) == first and len(set(first.values())) == 3
    assert all(TAG.fullmatch(tag) for tag in first.values())
    write(tmp_path, SITE.replace("hub.example.org", "lab.example.org"))
    assert tags_of(path) == first
    files = {"Dockerfile": "FROM x\n", "README.md": "r\n"}
    assert context_tag(files) == context_tag(dict(reversed(list(files.items()))))
    assert context_tag(files) != context_tag({**files, "README.md": "r!\n"})


def test_a_package_edit_changes_its_image_the_images_on_it_and_their_profiles_only(
    tmp_path: Path,
) -> None:
    """The whole rendered tree before and after one pin of `lab` changes; `root` is built on it."""
    path = write(tmp_path)
    old_tags, old = tags_of(path), plan_of(path)
    write(tmp_path, SITE.replace("rucio-clients==41.5.1", "rucio-clients==41.5.0"))
    new_tags, new = tags_of(path), plan_of(path)
    assert old_tags["alma"] == new_tags["alma"]
    assert old_tags["lab"] != new_tags["lab"] and old_tags["root"] != new_tags["root"]
    changed = sorted(rel for rel in old.keys() | new.keys() if old.get(rel) != new.get(rel))
    assert changed == [
        "apps/configmap-jhub-profiles.yaml",  # profiles lab and root; singleuser (alma) unchanged
        "images/lab/requirements.txt",
        "images/root/Dockerfile",  # FROM the new lab tag
        "images/root/README.md",  # names what it is built on
        "images/root/requirements.txt",  # lab's pins come first
    ]
    # Nothing else differs: the old tree with the new tags and the new pin is the new tree.
    for rel, text in old.items():
        for name in ("lab", "root"):
            text = text.replace(old_tags[name], new_tags[name])
        assert text.replace("rucio-clients==41.5.1", "rucio-clients==41.5.0") == new[rel], rel
    profiles = yamlio.load_fast_all(new["apps/configmap-jhub-profiles.yaml"])[0]["data"][
        "values.yaml"
    ]
    assert f"registry.example.org/lab/lab:{new_tags['lab']}" in profiles
    assert f"registry.example.org/lab/root:{new_tags['root']}" in profiles


def test_singleuser_and_profiles_name_the_built_tags(tmp_path: Path) -> None:
    path = write(tmp_path)
    tags = tags_of(path)
    site = load_site(path)
    ctx = build_context(SiteInput(site.name, site.config))
    release = next(o.vars for o in ctx.objects if isinstance(o.vars, HelmReleaseVars))
    assert release.values["singleuser"]["image"] == {
        "name": "registry.example.org/alma/alma",
        "tag": tags["alma"],
    }
    assert (
        ctx.images["root"]
        .files["Dockerfile"]
        .count(f"FROM registry.example.org/lab/lab:{tags['lab']}\n")
        == 1
    )


def test_contexts_are_written_owned_and_never_applied(tmp_path: Path) -> None:
    path = write(tmp_path)
    out = tmp_path / "rendered"
    render_sites(path.parent, [], out)
    site = out / "s"
    index = (site / INDEX_FILE).read_text().splitlines()
    for name in ("alma", "lab", "root"):
        for file in ("Dockerfile", "README.md", "requirements.txt"):
            assert f"images/{name}/{file}" in index
            assert (site / "images" / name / file).is_file()
    assert not list((site / "images").rglob("*.yaml"))
    for kustomization in site.rglob("kustomization.yaml"):
        assert "images" not in kustomization.read_text()
    flux_paths = [
        m.doc["spec"]["path"]
        for m in load_tree(site / "flux")
        if m.doc["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/")
    ]
    assert flux_paths and not any("images" in p for p in flux_paths)
    assert check_context_folders(site) == []
    # A hand edit of a context is drift, and the next render puts it back (owned, not foreign).
    readme = site / "images/lab/README.md"
    readme.write_text(readme.read_text() + "edited\n")
    plans = {"s": build_site(path, out).plan}
    assert [p.path for p in check_sites(out, plans)] == [str(readme)]
    render_sites(path.parent, [], out)
    assert check_sites(out, plans) == []


def test_every_rendered_dockerfile_passes_the_parser_checks() -> None:
    for site in ("escape",):
        for context in sorted((REPO / "rendered" / site / "images").iterdir()):
            files = [p.name for p in context.iterdir()]
            assert check_dockerfile((context / "Dockerfile").read_text(), files) == [], context


def test_root_context_installs_root_from_conda_forge_and_imports_it() -> None:
    """The ROOT image cannot be built here; its Dockerfile is checked on the parse tree."""
    commands = dockerfile.parse_file(str(REPO / "rendered/escape/images/root/Dockerfile"))
    runs = [c.value[0] for c in commands if c.cmd.upper() == "RUN"]
    installs = [r for r in runs if r.startswith("mamba install")]
    assert len(installs) == 1
    words = installs[0].split()
    assert words[words.index("--channel") + 1] == "conda-forge" and "--override-channels" in words
    assert any(re.fullmatch(r"'root=6\.[0-9]+\.[0-9]+'", w) for w in words)
    assert "python -c 'import ROOT'" in runs
    assert runs.index("python -c 'import ROOT'") > runs.index(installs[0])
    assert runs[-1] == "pip check"
    [base] = [c.value[0] for c in commands if c.cmd.upper() == "FROM"]
    [minimal] = [
        p for p in plan_images(REPO / "sites", ["escape"], Path("rendered")) if p.name == "minimal"
    ]
    assert base == minimal.image


def test_every_escape_profile_image_is_built_here_or_declares_what_it_provides() -> None:
    """Acceptance, from the rendered tree: each image is a context under images/ (or provides)."""
    planned = {p.image: p for p in plan_images(REPO / "sites", ["escape"], Path("rendered"))}
    tree = load_tree(REPO / "rendered/escape/apps")
    release = next(m.doc for m in tree if m.doc["kind"] == "HelmRelease")
    image = release["spec"]["values"]["singleuser"]["image"]
    refs = [f"{image['name']}:{image['tag']}"]
    config_map = next(
        m.doc
        for m in tree
        if m.doc["kind"] == "ConfigMap" and m.doc["metadata"]["name"].endswith("-profiles")
    )
    for profile in yamlio.load_fast_all(config_map["data"]["values.yaml"])[0]["singleuser"][
        "profileList"
    ]:
        refs.append(profile.get("kubespawner_override", {}).get("image", refs[0]))
    site = load_site(REPO / "sites/escape.yaml").config
    for ref in refs:
        if ref in planned:
            assert (REPO / planned[ref].context / "Dockerfile").is_file()
        else:
            declared = [p.image for p in site.profiles if p.image is not None] + [
                site.singleuser.image
            ]
            assert any(getattr(d, "provides", None) and d.ref() == ref for d in declared), ref
    assert len(refs) == 3 and {p.name for p in planned.values()} == {"minimal", "root"}


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("FROM x\nRUN <<EOF\nabc\n", 2, 1, "does not parse: unterminated heredoc"),
        ("FROM x\n  ENV a\nRUN pip check\n", 2, 3, "does not parse: ENV must have two arguments"),
        ("FROM x\nFOO bar\nRUN pip check\n", 2, 1, "unknown instruction 'FOO bar'"),
        ("RUN x\nFROM x\nRUN pip check\n", 1, 1, "RUN before FROM"),
        ("FROM x y\nRUN pip check\n", 1, 1, "FROM takes one image"),
        (
            "FROM x\nRUN pip check\nUSER 1000\n",
            3,
            1,
            "the last instruction must be `RUN pip check`",
        ),
        (
            "FROM x\nCOPY missing.txt /tmp/\nRUN pip check\n",
            2,
            1,
            "COPY source 'missing.txt' is not in the context",
        ),
        ("", 1, 1, "does not parse: file with no instructions"),
    ],
)
def test_dockerfile_problems_are_located(text: str, line: int, col: int, message: str) -> None:
    found = check_dockerfile(text, ["Dockerfile"])
    assert [(f.line, f.col) for f in found][:1] == [(line, col)] and message in found[0].message


def test_a_context_that_does_not_parse_is_an_error_at_the_image_in_the_site_file(
    tmp_path: Path,
) -> None:
    path = write(tmp_path)
    site = load_site(path)
    images = build_context(SiteInput(site.name, site.config)).images
    good = images["lab"].files["Dockerfile"]
    broken = good.replace("RUN pip check\n", "ENV BROKEN\nRUN pip check\n")
    images["lab"] = dataclasses.replace(
        images["lab"], files={**images["lab"].files, "Dockerfile": broken}
    )
    [problem] = image_context_problems(site, images, Path("rendered/s"))
    assert (problem.path, problem.line, problem.col) == (str(path), line_of(path, "  lab:"), 3)
    assert problem.is_error and problem.rule == "image-dockerfile"
    bad_line = broken.splitlines().index("ENV BROKEN") + 1
    assert problem.message == (
        f"images.lab: rendered/s/images/lab/Dockerfile:{bad_line}: Dockerfile "
        "does not parse: ENV must have two arguments"
    )


def test_validate_reads_the_contexts_of_a_tree_on_disk(tmp_path: Path) -> None:
    path = write(tmp_path)
    out = tmp_path / "rendered"
    render_sites(path.parent, [], out)
    dockerfile_path = out / "s/images/root/Dockerfile"
    lines = dockerfile_path.read_text().splitlines(keepends=True)
    lines.insert(5, "RUN <<EOF\n")
    dockerfile_path.write_text("".join(lines[:-1]))
    (out / "s/images/alma/requirements.txt").unlink()
    found = {(p.path, p.line, p.col, p.message) for p in check_context_folders(out / "s")}
    copy_line = next(
        i
        for i, line in enumerate((out / "s/images/alma/Dockerfile").read_text().splitlines(), 1)
        if line.startswith("COPY")
    )
    assert found == {
        ("images/root/Dockerfile", 6, 1, "Dockerfile does not parse: unterminated heredoc"),
        (
            "images/alma/Dockerfile",
            copy_line,
            1,
            "Dockerfile COPY source 'requirements.txt' is not in the context",
        ),
    }
