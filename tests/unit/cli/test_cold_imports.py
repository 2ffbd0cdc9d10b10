"""The ``dlaas-gen`` process loads only what a command uses (issue 16: cold start time)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from dlaas_gen import kube_versions
from tests.conftest import REPO

PROBE = """
import json, os, sys
from dlaas_gen.cli import main
sys.argv = ["dlaas-gen", "render", "--check", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
from pydantic.plugin import _loader
loaded = sorted(name for name, module in sys.modules.items() if module is not None)
print(json.dumps([code, loaded, _loader.get_plugins() == ()]))
"""
#: Loaded only for JSON Schema ``format`` checks (never used) or for kubernetes-validate's own
#: command line (only its data files are read). PyYAML is loaded on purpose: ``yamlio`` reads
#: libyaml's parse events through it (its C extension imports the whole package, ~10 ms).
NOT_LOADED = ("isoduration", "arrow", "rfc3986_validator", "rfc3339_validator", "webcolors",
              "uri_template", "fqdn", "kubernetes_validate.utils")


def test_render_check_loads_no_format_checkers_nor_pydantic_plugins(tmp_path: Path) -> None:
    for folder in ("sites", "rendered"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    done = subprocess.run([sys.executable, "-c", PROBE, "--no-cache"], cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    code, loaded, no_plugins = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0 and "up to date: demo, escape" in done.stdout
    assert "jsonschema" in loaded and "dlaas_gen.pipeline" in loaded  # the full check ran
    assert [name for name in NOT_LOADED if name in loaded] == []
    assert no_plugins


def test_schema_root_is_the_package_data_folder() -> None:
    expected = Path(str(resources.files("kubernetes_validate"))) / kube_versions.SCHEMA_FOLDER
    assert kube_versions.schema_root() == expected and expected.is_dir()
    assert "1.33.0" in kube_versions.bundled_versions()


def test_a_cache_hit_loads_no_pipeline(tmp_path: Path) -> None:
    """The warm ``render --check`` imports neither the site models nor Jinja nor jsonschema."""
    for folder in ("sites", "rendered"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    runs = [subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True,
                           text=True, check=True) for _ in range(2)]
    (first, cold, _), (second, warm, _) = (json.loads(r.stdout.strip().splitlines()[-1])
                                           for r in runs)
    assert first == second == 0 and all("up to date: demo, escape" in r.stdout for r in runs)
    assert "dlaas_gen.pipeline" in cold
    heavy = ("dlaas_gen.pipeline", "dlaas_gen.config", "jinja2", "jsonschema", "ruamel.yaml")
    assert [name for name in heavy if name in warm] == []
