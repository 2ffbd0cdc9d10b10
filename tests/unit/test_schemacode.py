"""Compiled schema checks (dlaas_gen.schemacode): jsonschema's answer, faster, never stale."""

from __future__ import annotations

import copy
import json
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dlaas_gen import fluxschema, pipeline, schemacode, yamlio
from dlaas_gen.defaults import DEFAULT_KUBE_VERSION
from dlaas_gen.kube_versions import resolve_version
from dlaas_gen.manifest import Manifest
from dlaas_gen.resources import NO_CACHE_ENV
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import kubernetes, validate_tree
from dlaas_gen.validate.values import chart_files, chart_of, chart_values
from tests.conftest import REPO

SITES = sorted(p.name for p in (REPO / "rendered").iterdir() if (p / "flux").is_dir())


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no function in memory."""
    monkeypatch.setattr(schemacode, "_MEMO", {})
    monkeypatch.setattr(schemacode, "_ABSENT", set())


# --- the differential test: the compiled check says "valid" exactly when jsonschema does ------


@dataclass
class Subject:
    """One document, its compiled check and jsonschema's validator for it."""

    label: str
    doc: Any
    fast: schemacode.Check
    slow: jsonschema.protocols.Validator


#: Other Flux kinds with a vendored schema, which the shipped sites do not render.
OTHER_FLUX = [
    {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
     "metadata": {"name": "repo", "namespace": "flux-system"},
     "spec": {"interval": "5m", "url": "https://example.org/repo.git",
              "ref": {"branch": "main"}, "timeout": "60s",
              "secretRef": {"name": "auth"}, "ignore": "/*\n!/deploy\n"}},
    {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
     "metadata": {"name": "oci", "namespace": "flux-system"},
     "spec": {"interval": "10m", "url": "oci://ghcr.io/org/manifests",
              "ref": {"tag": "1.0.0"}, "provider": "generic", "insecure": False}},
    {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "Bucket",
     "metadata": {"name": "bucket", "namespace": "flux-system"},
     "spec": {"interval": "1h", "bucketName": "configs", "endpoint": "s3.example.org",
              "provider": "generic", "region": "eu-west-1"}},
    {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
     "metadata": {"name": "chart", "namespace": "flux-system"},
     "spec": {"interval": "10m", "chart": "podinfo", "version": "6.x",
              "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
              "valuesFiles": ["values.yaml"]}},
    {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "ExternalArtifact",
     "metadata": {"name": "artifact", "namespace": "flux-system"},
     "spec": {"sourceRef": {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "Bucket",
                            "name": "bucket"}}},
]


def _plain(m: Manifest) -> Any:
    return yamlio.plain(m.doc) if isinstance(m.doc, yamlio.CommentedMap) else m.doc


@pytest.fixture(scope="module")
def subjects() -> list[Subject]:
    """Every object the shipped sites render (rendered/), their chart values, other Flux kinds.

    The checks are compiled through the real entry points, in memory only.
    """
    version = resolve_version(DEFAULT_KUBE_VERSION)
    found: list[Subject] = []
    with pytest.MonkeyPatch.context() as patch, schemacode.compiling():
        patch.setenv(NO_CACHE_ENV, "1")
        patch.setattr(schemacode, "_MEMO", {})
        docs = [(f"{site}/{m.path}", _plain(m), m, tree) for site in SITES
                for tree in [load_tree(REPO / "rendered" / site)]
                for m in tree if not m.is_kustomize_config]
        docs += [(f"{d['kind']} (test)", d, None, []) for d in OTHER_FLUX]
        for label, doc, m, tree in docs:
            api, kind = doc["apiVersion"], doc["kind"]
            if fluxschema.is_flux(doc):
                fast, slow = fluxschema.fast_check(api, kind), fluxschema.validator(api, kind)
            else:
                fast = kubernetes.fast_check(version, api, kind)
                slow = kubernetes.validator_for(version, api, kind)
            assert fast is not None and slow is not None, label
            found.append(Subject(label, doc, fast, slow))
            if kind == "HelmRelease" and m is not None:
                files = chart_files(*chart_of(doc), None)
                assert files is not None
                values, _ = chart_values(m, tree, None)
                fast_values = schemacode.checker(
                    schemacode.json_digest(files.schema), schemacode.DRAFT7,
                    lambda files=files: (files.schema, {}))
                assert fast_values is not None
                found.append(Subject(f"{label} (chart values)", values, fast_values,
                                     jsonschema.Draft7Validator(files.schema)))
    kinds = {(s.doc.get("apiVersion"), s.doc.get("kind")) for s in found}
    assert set(fluxschema.SCHEMAS) <= kinds  # every Flux kind
    return found


_DELETE = object()

#: Values put in place of any value: wrong types, integer look-alikes, empty containers.
REPLACEMENTS: list[Any] = [True, False, 1.5, 1.0, 2, -1, 0, 2**40, "x", "", None, {}, [],
                           {"zzUnexpected": "x"}, ["x"], [None], [{}]]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a document (keys of maps, indexes of lists), outer first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


def at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `node` with `value` at `path` (`_DELETE`: removed); the rest is shared."""
    if not path:
        return value
    out: Any = dict(node) if isinstance(node, dict) else list(node)
    new = replaced(node[path[0]], path[1:], value)
    if new is _DELETE:
        del out[path[0]]
    else:
        out[path[0]] = new
    return out


def variants(value: Any) -> list[tuple[str, Any]]:
    """What to put at a place holding `value`."""
    out: list[tuple[str, Any]] = [("removed", _DELETE)]
    out += [(f"= {r!r}", r) for r in REPLACEMENTS if not (type(r) is type(value) and r == value)]
    if isinstance(value, str):
        out += [("+ newline", value + "\n"), ("not in the enum", value + "-NotAnEnumValue"),
                ("upper case", value.upper()), ("as a number", 3)]
    if isinstance(value, int) and not isinstance(value, bool):
        out += [("as a float", float(value)), ("+ 0.5", value + 0.5), ("as text", str(value)),
                ("as a bool", bool(value))]
    if isinstance(value, bool):
        out += [("as text", str(value).lower()), ("as a number", int(value))]
    if isinstance(value, dict):
        out += [("extra key", {**value, "zzUnexpected": "x"}),
                ("extra null", {**value, "zzUnexpected": None}),
                ("as a list", list(value.values())), ("as text", "text")]
    if isinstance(value, list):
        out += [("first item twice", value + value[:1]), ("extra string item", [*value, "x"]),
                ("extra map item", [*value, {"zzUnexpected": 1}]), ("as a map", {"0": value})]
    return out


def mutations(subject: Subject) -> Iterator[tuple[str, Any]]:
    yield "unchanged", subject.doc
    yield "extra top-level key", {**subject.doc, "zzUnexpected": {"a": 1}}
    for path in paths(subject.doc):
        for name, value in variants(at(subject.doc, path)):
            yield f"{'.'.join(map(str, path))} {name}", replaced(subject.doc, path, value)


def disagreements(subjects: list[Subject], sample: Callable[[Subject], float],
                  seed: int = 16) -> tuple[int, list[str]]:
    """Compare both answers on the mutations, each kept with probability `sample(subject)`."""
    rng = random.Random(seed)
    checked, wrong = 0, []
    for subject in subjects:
        keep = sample(subject)
        for name, doc in mutations(subject):
            if name != "unchanged" and rng.random() >= keep:
                continue
            checked += 1
            fast, slow = subject.fast(doc), subject.slow.is_valid(doc)
            if fast != slow:
                wrong.append(f"{subject.label}: {name}: compiled {fast}, jsonschema {slow}")
    return checked, wrong


def test_the_shipped_documents_are_valid_and_left_unchanged(subjects: list[Subject]) -> None:
    for subject in subjects:
        before = json.dumps(subject.doc, sort_keys=True)
        assert subject.fast(subject.doc), subject.label
        assert subject.slow.is_valid(subject.doc), subject.label
        assert json.dumps(subject.doc, sort_keys=True) == before, subject.label


def test_compiled_checks_agree_with_jsonschema_on_mutations(subjects: list[Subject]) -> None:
    """A sample: one in four mutations of the objects, one in forty of the chart values (each
    takes jsonschema ~1.5 ms); the slow test below runs all of them (~59,000, ~1 min)."""
    checked, wrong = disagreements(
        subjects, lambda s: 1 / 40 if s.label.endswith("(chart values)") else 1 / 4)
    assert checked > 7000
    assert wrong == [], "\n".join(wrong[:20])


@pytest.mark.slow
def test_compiled_checks_agree_with_jsonschema_on_every_mutation(
        subjects: list[Subject]) -> None:
    checked, wrong = disagreements(subjects, lambda _subject: 1.0)
    assert checked > 50000
    assert wrong == [], "\n".join(wrong[:20])


def test_no_check_writes_defaults_into_the_document() -> None:
    """The Flux schemas carry ``default``s; fastjsonschema writes them unless told not to."""
    release = copy.deepcopy(OTHER_FLUX[0])
    with schemacode.compiling():
        check = fluxschema.fast_check(release["apiVersion"], release["kind"])
    assert check is not None
    before = copy.deepcopy(release)
    assert check(release) and release == before
    assert "default" in (REPO / "dlaas_gen/data/schemas" / fluxschema.SCHEMAS[
        release["apiVersion"], release["kind"]]).read_text()


# --- the recipe, keyword by keyword, against jsonschema --------------------------------------


def compiled(schema: dict[str, Any], draft: str = schemacode.DRAFT7,
             documents: dict[str, Any] | None = None) -> schemacode.Check:
    with schemacode.compiling():
        check = schemacode.checker(schemacode.json_digest([schema, documents or {}]), draft,
                                   lambda: (schema, documents or {}))
    assert check is not None
    return check


def jsonschema_valid(schema: dict[str, Any], draft: str, doc: Any) -> bool:
    cls = jsonschema.Draft7Validator if draft == schemacode.DRAFT7 else \
        jsonschema.Draft202012Validator
    return cls(schema).is_valid(doc)


@pytest.mark.parametrize(("schema", "docs"), [
    ({"type": "array"}, [[], (), [1]]),  # a tuple is not a JSON array
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None, 2**70]),
    ({"type": "number"}, [1, 1.5, True, "1"]),
    ({"pattern": "^[a-z]+$"}, ["abc", "abc\n", "abc\n\n", "ab1", 5]),
    ({"pattern": "[$]"}, ["$", "a"]),
    ({"const": {"a": [1, True]}}, [{"a": [1, True]}, {"a": [1, 1]}, {"a": [1.0, True]}]),
    ({"enum": [1, "a", None, False]}, [1, 1.0, True, 0, False, None, "a", "b"]),
    ({"properties": {"a-b": {"type": "string"}, "ab": {"type": "integer"}},
      "additionalProperties": False, "patternProperties": {"^x-": {"type": "string"}}},
     [{"a-b": "s", "ab": 1}, {"a-b": 1}, {"ab": "s"}, {"x-y": "s"}, {"x-y": 1}, {"z": 1}]),
    ({"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}},
     [{"a": 1}, {"a": 1, "b": 2}, {"a": 2}]),
    ({"format": "date-time", "type": "string"}, ["not a date", "2020-01-01T00:00:00Z"]),
])
@pytest.mark.parametrize("draft", [schemacode.DRAFT7, schemacode.DRAFT202012])
def test_keyword_semantics_match_jsonschema(schema: dict[str, Any], docs: list[Any],
                                            draft: str) -> None:
    check = compiled(schema, draft)
    for doc in docs:
        assert check(doc) == jsonschema_valid(schema, draft, doc), (schema, doc)


def test_ref_siblings_count_in_2020_12_and_not_in_draft_7() -> None:
    schema = {"$defs": {"a": {"type": "object"}}, "$ref": "#/$defs/a", "required": ["b"]}
    for draft, expected in ((schemacode.DRAFT7, True), (schemacode.DRAFT202012, False)):
        assert jsonschema_valid(schema, draft, {}) is expected
        assert compiled(schema, draft)({}) is expected


def test_definitions_whose_function_names_would_collide_stay_apart() -> None:
    schema = {"$defs": {"a-b": {"type": "string"}, "a.b": {"type": "integer"},
                        "A_B": {"type": "boolean"}},
              "properties": {"s": {"$ref": "#/$defs/a-b"}, "i": {"$ref": "#/$defs/a.b"},
                             "b": {"$ref": "#/$defs/A_B"}}}
    check = compiled(schema)
    assert check({"s": "x", "i": 1, "b": True})
    assert not check({"s": 1}) and not check({"i": "x"}) and not check({"b": 1})


def test_references_into_another_document_are_inlined() -> None:
    other = {"$id": "https://example.org/defs.json",
             "$defs": {"name": {"type": "string"},
                       "pair": {"properties": {"n": {"$ref": "#/$defs/name"}}},
                       "unused": {"type": "null"}}}
    schema = {"$id": "https://example.org/kinds/pair",
              "properties": {"p": {"$ref": "/defs.json#/$defs/pair"}}}
    prepared = schemacode.prepare(schema, {other["$id"]: other}, schemacode.DRAFT202012)
    assert sorted(prepared["$defs"]) == ["r0", "r1"]  # "unused" is not compiled
    check = compiled(schema, schemacode.DRAFT202012, {other["$id"]: other})
    assert check({"p": {"n": "x"}}) and not check({"p": {"n": 1}})


@pytest.mark.parametrize("schema", [
    {"uniqueItems": True},
    {"properties": {"a": {"$ref": "https://example.org/elsewhere.json"}}},
    {"properties": {"a": {"$id": "https://example.org/x", "type": "string"}}},
    {"items": [{"type": "string"}]},
    {"pattern": "(?m)^a$"},
])
def test_a_schema_with_anything_else_is_left_to_jsonschema(schema: dict[str, Any]) -> None:
    with pytest.raises(schemacode.Unsupported):
        schemacode.prepare(schema, {}, schemacode.DRAFT7)
    with schemacode.compiling():
        assert schemacode.checker(schemacode.json_digest(schema), schemacode.DRAFT7,
                                  lambda: (schema, {})) is None


def test_prepare_does_not_change_its_arguments() -> None:
    definitions = json.loads((kubernetes.schema_root() / "v1.33.0-local-strict" /
                              "_definitions.json").read_bytes())
    root = json.loads((kubernetes.schema_root() / "v1.33.0-local-strict" /
                       "deployment-apps-v1.json").read_bytes())
    before = json.dumps([root, definitions], sort_keys=True)
    compiled(root, schemacode.DRAFT202012, {definitions["$id"]: definitions})
    assert json.dumps([root, definitions], sort_keys=True) == before


# --- the cache: never a stale or foreign function --------------------------------------------

ALLOWS = {"type": "object", "properties": {"a": {"type": "integer"}}}
FORBIDS = {**ALLOWS, "additionalProperties": False}
DOC = {"a": 1, "b": 2}


def checker_for(schema: dict[str, Any],
                counter: list[str] | None = None) -> schemacode.Check | None:
    def load() -> schemacode.Schema:
        if counter is not None:
            counter.append("compiled")
        return schema, {}

    return schemacode.checker(schemacode.json_digest(schema), schemacode.DRAFT7, load)


def entries() -> list[Path]:
    return sorted(schemacode.cache_dir().glob("*.code"))


def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemacode, "_MEMO", {})
    monkeypatch.setattr(schemacode, "_ABSENT", set())


def test_stored_then_loaded_without_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    compiles: list[str] = []
    with schemacode.compiling():
        check = checker_for(ALLOWS, compiles)
    assert check is not None and check(DOC) and compiles == ["compiled"]
    [entry] = entries()
    assert entry.name == schemacode.cache_key(schemacode.json_digest(ALLOWS),
                                              schemacode.DRAFT7) + ".code"
    new_process(monkeypatch)
    loaded = checker_for(ALLOWS, compiles)  # outside compiling(): from the cache
    assert loaded is not None and loaded(DOC) and not loaded({"a": "x"})
    assert compiles == ["compiled"]


def test_a_changed_schema_is_a_new_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with schemacode.compiling():
        assert checker_for(ALLOWS)(DOC)  # type: ignore[misc]
    new_process(monkeypatch)
    assert checker_for(FORBIDS) is None  # not in the cache, not compiling: jsonschema decides
    with schemacode.compiling():
        check = checker_for(FORBIDS)
    assert check is not None and not check(DOC)
    assert len(entries()) == 2


def test_outside_compiling_an_empty_cache_compiles_nothing() -> None:
    compiles: list[str] = []
    assert checker_for(ALLOWS, compiles) is None
    assert checker_for(ALLOWS, compiles) is None
    assert compiles == [] and entries() == []
    with schemacode.compiling(False):
        assert checker_for(ALLOWS, compiles) is None
    with schemacode.compiling():
        assert checker_for(ALLOWS, compiles) is not None  # looked for again, compiled
    assert compiles == ["compiled"]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "empty", "not code",
                                    "not marshal"])
def test_a_damaged_entry_is_a_miss_and_is_rebuilt(damage: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with schemacode.compiling():
        assert checker_for(FORBIDS) is not None
    [entry] = entries()
    good = entry.read_bytes()
    head = good[:len(schemacode._MAGIC) + 65]  # the magic and the key

    def forged(payload: bytes) -> bytes:  # a payload with a valid checksum
        import hashlib
        return head + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload

    entry.write_bytes({
        "truncated": good[: len(good) - 100],
        "flipped": good[:-50] + bytes([good[-50] ^ 1]) + good[-49:],
        "garbage": b"\x00garbage" * 10,
        "empty": b"",
        "not code": forged(__import__("marshal").dumps({"validate": 1})),
        "not marshal": forged(b"\xff\xfe not marshal"),
    }[damage])
    new_process(monkeypatch)
    compiles: list[str] = []
    assert checker_for(FORBIDS, compiles) is None  # not used, not compiled outside compiling()
    with schemacode.compiling():
        check = checker_for(FORBIDS, compiles)
    assert check is not None and not check(DOC) and compiles == ["compiled"]
    assert entry.read_bytes() == good  # rebuilt whole


def test_an_entry_of_another_key_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with schemacode.compiling():
        assert checker_for(ALLOWS) is not None
    [allows] = entries()
    forbids = schemacode.cache_dir() / (schemacode.cache_key(
        schemacode.json_digest(FORBIDS), schemacode.DRAFT7) + ".code")
    shutil.copyfile(allows, forbids)  # a valid entry, under the name of another schema's key
    new_process(monkeypatch)
    assert checker_for(FORBIDS) is None
    with schemacode.compiling():
        check = checker_for(FORBIDS)
    assert check is not None and not check(DOC)


def test_no_cache_reads_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with schemacode.compiling():
        assert checker_for(ALLOWS) is not None  # a valid entry on disk
    new_process(monkeypatch)
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    assert checker_for(ALLOWS) is None  # the stored entry is not read
    with schemacode.compiling():
        check = checker_for(FORBIDS)  # compiled in memory
    assert check is not None and not check(DOC)
    assert len(entries()) == 1


def test_an_unwritable_cache_folder_only_costs_speed(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(schemacode, "cache_dir", lambda: blocker / "schemas")
    with schemacode.compiling():
        check = checker_for(FORBIDS)
    assert check is not None and not check(DOC)


# --- the fast path changes no outcome --------------------------------------------------------


def _broken_trees() -> list[tuple[list[Manifest], str]]:
    """The shipped trees with schema errors put in (core kinds, Flux kinds, chart values)."""
    out = []
    for site in SITES:
        tree = load_tree(REPO / "rendered" / site)
        for m in tree:
            doc = m.doc
            if doc.get("kind") == "HelmRelease":
                doc["spec"]["values"] = {**(doc["spec"].get("values") or {}),
                                         "hub": {"zzUnexpected": 1}, "cull": {"every": "x"}}
                doc["spec"]["interval"] = 5
            elif doc.get("kind") in ("Deployment", "DaemonSet", "CronJob"):
                doc["spec"]["zzUnexpected"] = True
                doc["metadata"]["labels"] = {"a": 1}
        out.append((tree, site))
    return out


@pytest.mark.parametrize("broken", [False, True])
def test_validate_tree_gives_the_same_problems_with_compiled_checks(
        broken: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(compile_checks: bool) -> list[str]:
        new_process(monkeypatch)
        problems: list[str] = []
        trees = _broken_trees() if broken else [(load_tree(REPO / "rendered" / s), s)
                                                for s in SITES]
        for tree, _site in trees:
            with schemacode.compiling(compile_checks):
                problems += [p.format() for p in validate_tree(tree, DEFAULT_KUBE_VERSION)]
        return problems

    monkeypatch.setenv(NO_CACHE_ENV, "1")
    without = run(False)
    assert schemacode._MEMO == {}
    calls: list[int] = []
    original = jsonschema.Draft202012Validator.iter_errors

    def counted(self: Any, instance: Any) -> Any:
        calls.append(1)
        return original(self, instance)

    monkeypatch.setattr(jsonschema.Draft202012Validator, "iter_errors", counted)
    with_compiled = run(True)
    assert len(schemacode._MEMO) >= 10 and all(schemacode._MEMO.values())
    assert with_compiled == without
    assert bool(without) == broken
    assert bool(calls) == broken  # valid core objects never reach jsonschema


def test_rendering_the_shipped_sites_gives_the_same_bytes_and_problems(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "sites", tmp_path / "sites")

    def run(compile_checks: bool) -> tuple[list[Any], list[str]]:
        new_process(monkeypatch)
        plans, problems = [], []
        for path in sorted((tmp_path / "sites").glob("*.yaml")):
            if path.name.endswith(".origins.yaml"):
                continue
            with schemacode.compiling(compile_checks):
                built = pipeline.build_site(path, tmp_path / "rendered", follow_out=True)
            plans.append(built.plan)
            problems += [p.format() for p in built.problems]
        return plans, problems

    without = run(False)
    assert schemacode._MEMO == {}
    with_compiled = run(True)
    assert schemacode._MEMO and all(schemacode._MEMO.values())
    assert with_compiled == without
    assert len(without[0]) == len(SITES)


def test_build_sites_compiles_only_for_a_fleet(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real: Callable[..., Any] = schemacode.compiling

    def spy(allowed: bool = True) -> Any:
        seen.append(allowed)
        return real(allowed)

    monkeypatch.setattr(schemacode, "compiling", spy)
    shutil.copytree(REPO / "sites", tmp_path / "sites")
    names = sorted(p.name for p in (tmp_path / "sites").glob("*.yaml")
                   if not p.name.endswith(".origins.yaml"))
    assert len(names) >= 2
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_SITES", len(names) + 1)
    pipeline.build_sites(tmp_path / "sites", (), tmp_path / "rendered")
    assert schemacode._MEMO == {} and seen == [False]
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_SITES", len(names))
    pipeline.build_sites(tmp_path / "sites", (), tmp_path / "rendered")
    assert seen == [False, True] and schemacode._MEMO and entries()
