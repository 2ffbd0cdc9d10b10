"""Reading a rendered tree back: every YAML file, every document, every unreadable file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ProblemsError
from dlaas_gen.tree import iter_yaml_files, load_tree


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: n}}\n"


def test_yaml_files_sorted_hidden_and_symlinks_skipped(tmp_path: Path) -> None:
    _write(tmp_path, {"b.yaml": "", "a/c.yml": "", "a/b.yaml": "", ".hidden.yaml": "",
                      ".git/x.yaml": "", "notes.txt": "", "a/.d/e.yaml": ""})
    (tmp_path / "link.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "linked").symlink_to(tmp_path / "a", target_is_directory=True)
    assert [p.relative_to(tmp_path).as_posix() for p in iter_yaml_files(tmp_path)] == [
        "a/b.yaml", "a/c.yml", "b.yaml"]


def test_every_document_of_every_file_in_file_order(tmp_path: Path) -> None:
    _write(tmp_path, {
        "apps/two.yaml": CM.format(name="one") + "---\n---\n" + CM.format(name="two"),
        "flux/three.yaml": "# only a comment\n---\n" + CM.format(name="three"),
        "empty.yaml": "",
    })
    manifests = load_tree(tmp_path, label="rendered/s")
    assert [(m.path, m.key.name, m.doc_index, m.shown) for m in manifests] == [
        ("apps/two.yaml", "one", 0, "rendered/s/apps/two.yaml"),
        ("apps/two.yaml", "two", 1, "rendered/s/apps/two.yaml"),
        ("flux/three.yaml", "three", 0, "rendered/s/flux/three.yaml"),
    ]
    second = manifests[1]
    assert second.source_text == (tmp_path / "apps/two.yaml").read_text()
    assert second.locate(("metadata", "name"), value=True) == (8, 18)


def test_without_a_label_messages_name_the_file_as_found(tmp_path: Path) -> None:
    _write(tmp_path, {"x.yaml": CM.format(name="x")})
    [m] = load_tree(tmp_path)
    assert (m.path, m.shown) == ("x.yaml", str(tmp_path / "x.yaml"))


def test_every_unreadable_file_is_reported_at_its_place(tmp_path: Path) -> None:
    _write(tmp_path, {
        "a.yaml": "kind: A\nspec: [1, 2\n",
        "b.yaml": b"kind: \xff\xfe\n",
        "c.yaml": "a: 1\na: 2\n",
        "d.yaml": CM.format(name="fine"),
    })
    with pytest.raises(ProblemsError) as info:
        load_tree(tmp_path, label="t")
    found = [(p.path, p.line, p.col, p.rule) for p in info.value.problems]
    assert found[0][:1] == ("t/a.yaml",) and found[0][1] >= 2 and found[0][3] == "yaml"
    assert found[1] == ("t/b.yaml", 0, 0, "yaml")
    assert info.value.problems[1].message == "file is not UTF-8"
    assert found[2][0] == "t/c.yaml" and found[2][1] == 2
    assert info.value.problems[2].message == "duplicate key 'a'"
    assert len(found) == 3


def test_a_duplicate_secret_key_is_named_but_its_values_are_not(tmp_path: Path) -> None:
    _write(tmp_path, {"s.yaml": "kind: Secret\ndata:\n  token: aHVudGVyMg==\n"
                                "  token: c2VjcmV0LXZhbHVl\n"})
    with pytest.raises(ProblemsError) as info:
        load_tree(tmp_path)
    [problem] = info.value.problems
    assert problem.message == "duplicate key 'token'"
    assert "aHVudGVyMg" not in problem.format() and "c2VjcmV0" not in problem.format()
