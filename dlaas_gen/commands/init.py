"""Start a new site file from an example shipped with the package (``dlaas-gen init``).

Why: a new site should validate and render the moment it exists, so it is a copy of a
maintained example (the repository's own ``sites/``), checked through the real pipeline before
it is written; the schema line comes first so editors complete and check fields at once.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dlaas_gen.commands.docs.schema import site_schema_text
from dlaas_gen.config import SiteConfig
from dlaas_gen.config.auth import KEYCLOAK_ISSUER
from dlaas_gen.config.xcache import site_name_for_host
from dlaas_gen.defaults import (
    DEFAULT_EXAMPLE,
    DEFAULT_KUBE_VERSION,
    EOS_MODES,
    IDP_KINDS,
    SCHEMA_FILE_NAME,
    SCHEMA_LINE,
    SITE_SUFFIX,
    STORAGE_TYPES,
)
from dlaas_gen.errors import DlaasGenError, ProblemsError, UsageError
from dlaas_gen.loader import discover_sites, site_name
from dlaas_gen.names import is_dns1123_label
from dlaas_gen.origins_file import origins_path
from dlaas_gen.pipeline import build_site
from dlaas_gen.problem import Problem, reprefix
from dlaas_gen.render_lock import RENDER_LOCK_FILE
from dlaas_gen.resources import examples_dir

_TOP_KEY = re.compile(r"^([a-z_]+):")


class SiteExistsError(DlaasGenError):
    """The site file to create exists already (never overwritten; exit code 1)."""


@dataclass
class InitResult:
    """What `init_site` wrote and what the check of the new site found."""

    site_file: Path
    example: str
    schema_file: Path | None = None
    objects: int = 0
    warnings: list[Problem] = field(default_factory=list)
    gitignore_file: Path | None = None


def example_names() -> list[str]:
    """Names of the example sites shipped with the package."""
    return [site_name(p) for p in discover_sites(examples_dir())]


def site_text(name: str, example: str) -> str:
    """The text of a new site `name` copied from `example`, schema line first, commented.

    Why: top-level keys without a comment of their own get their description from the model
    (descriptions live once, in `SiteConfig`), so the file explains itself in an editor.

    Raises:
        UsageError: there is no such example.
    """
    if example not in example_names():
        raise UsageError(f"no example {example!r}; choose one of: {', '.join(example_names())}")
    body = (examples_dir() / f"{example}{SITE_SUFFIX}").read_text(encoding="utf-8").splitlines()
    if body and body[0].startswith("# yaml-language-server:"):
        body = body[1:]
    header = [
        SCHEMA_LINE,
        "#",
        f"# Site {name!r}, started from the {example!r} example by `dlaas-gen init`.",
        "# Every field: docs/site-reference.md (`dlaas-gen schema --format markdown`).",
        f"# Render and check: `dlaas-gen render {name}` then `dlaas-gen validate rendered/{name}`.",
    ]
    return "\n".join(header + _comment_top_keys(body)) + "\n"


def _comment_top_keys(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        match = _TOP_KEY.match(line)
        info = SiteConfig.model_fields.get(match.group(1)) if match else None
        previous = out[-1].strip() if out else ""
        if info is not None and info.description and not previous.startswith("#"):
            out.append(f"# {info.description}")
        out.append(line)
    return out


def init_site(name: str, sites_dir: Path, example: str = DEFAULT_EXAMPLE) -> InitResult:
    """Write ``sites_dir/<name>.yaml`` from `example`, and the schema file if it is missing.

    The new text is rendered and validated (in a scratch folder) before anything is written.

    Raises:
        UsageError: bad site name or unknown example.
        SiteExistsError: the site file exists already.
        ProblemsError: the example does not render cleanly (a bug in the shipped example).
    """
    _check_name(name)
    text = site_text(name, example)
    return _write_checked(name, sites_dir, text, _example_origins(example, name),
                          f"example {example!r}", example)


def init_site_from_answers(name: str, sites_dir: Path, answers: Answers) -> InitResult:
    """Write ``sites_dir/<name>.yaml`` from the answers of ``dlaas-gen init`` (checked first).

    Raises:
        UsageError: bad site name or an impossible combination of answers.
        SiteExistsError: the site file exists already.
        DlaasGenError: the site would not validate (a bug here).
    """
    _check_name(name)
    text = site_text_from_answers(name, answers)
    return _write_checked(name, sites_dir, text, None, "the site from these answers", "")


def _check_name(name: str) -> None:
    if not is_dns1123_label(name):
        raise UsageError(
            f"site name {name!r} is not a DNS-1123 label: use lower-case letters, digits and '-'"
        )


def _write_checked(name: str, sites_dir: Path, text: str, origins: str | None, what: str,
                   example: str) -> InitResult:
    """Render and validate `text` in a scratch folder, then write it (never overwriting)."""
    target = sites_dir / f"{name}{SITE_SUFFIX}"
    if target.exists():
        raise SiteExistsError(f"{target} exists; refusing to overwrite it")
    with tempfile.TemporaryDirectory(prefix="dlaas-gen-init-") as scratch:
        trial = Path(scratch) / target.name
        trial.write_text(text, encoding="utf-8")
        if origins is not None:
            origins_path(trial).write_text(origins, encoding="utf-8")
        try:
            built = build_site(trial)
        except ProblemsError as exc:  # name the file the user asked for, not the scratch copy
            raise ProblemsError([reprefix(p, target, old=trial) for p in exc.problems]) from None
    problems = [reprefix(p, target, old=trial) for p in built.problems]
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DlaasGenError(f"{what} does not validate: {errors[0].format()}")
    sites_dir.mkdir(parents=True, exist_ok=True)
    _create_exclusive(target, text)
    if origins is not None and not origins_path(target).exists():
        origins_path(target).write_text(origins, encoding="utf-8")
    result = InitResult(site_file=target, example=example, objects=len(built.manifests))
    result.warnings = [p for p in problems if not p.is_error]
    schema = sites_dir / SCHEMA_FILE_NAME
    if not schema.exists():
        schema.write_text(site_schema_text(), encoding="utf-8")
        result.schema_file = schema
    result.gitignore_file = write_gitignore(sites_dir.parent)  # the repository root
    return result


def _example_origins(example: str, name: str) -> str | None:
    """The text of the example's XCache origins file, renamed for `name` (None without one)."""
    path = origins_path(examples_dir() / f"{example}{SITE_SUFFIX}")
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").replace(f"cric sync {example}`", f"cric sync {name}`")


def _create_exclusive(path: Path, text: str) -> None:
    """Create `path`, failing if it appeared meanwhile (O_EXCL: never overwrite)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise SiteExistsError(f"{path} exists; refusing to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


# --- init by questions ---------------------------------------------------------------------

#: The render lock (`dlaas_gen.render_lock`) is machine state, never committed.
GITIGNORE_LINES = (RENDER_LOCK_FILE,)


@dataclass
class Answers:
    """The few answers that decide a site (each is also a flag of ``dlaas-gen init``).

    Attributes:
        idp: ``none`` (no login rule beyond the chart's), ``indigo-iam`` or ``keycloak``.
        issuer: the IdP's issuer URL (Keycloak: ``https://<host>/realms/<realm>``).
        storage: ``dynamic`` (a PVC per user) or ``static`` (one shared RWX PVC).
        eos: ``none``, ``daemonset`` (privileged eosxd) or ``csi`` (eosxd-csi driver).
        xcache: an XCache in front of one origin.
        git_url: the site's own Git repository (``ssh://`` or ``https://``); None: the
            GitRepository ``flux-system`` that ``flux bootstrap`` made.
    """

    idp: str = "none"
    issuer: str | None = None
    storage: str = "dynamic"
    eos: str = "none"
    xcache: bool = False
    git_url: str | None = None


def _example_data(example: str) -> dict:
    from dlaas_gen import yamlio

    path = examples_dir() / f"{example}{SITE_SUFFIX}"
    return yamlio.load_fast(path.read_text(encoding="utf-8"))


def site_data(name: str, answers: Answers) -> dict:
    """The site (as data) the answers describe; placeholders say what to fill in.

    Pieces that must stay in step with the policy (the eosxd image, its security exceptions,
    the XCache image and disks) are taken from the shipped ``escape`` example, so a new site
    follows the example when it changes.

    Raises:
        UsageError: a choice that cannot work (an unknown kind, EOS without a login, a login
            without an issuer).
    """
    _check_answers(answers)
    example = _example_data("escape")
    data: dict = {"kubernetes_version": DEFAULT_KUBE_VERSION}
    if answers.git_url:
        data["gitops"] = {"source": {"name": f"{name}-repo", "url": answers.git_url,
                                     "branch": "main", "secret_ref": f"{name}-git"}}
    data["namespace"] = f"{name}-hub"
    data["ingress"] = {"host": f"{name}.example.org", "tls_secret": f"{name}-tls"}
    # A stock image declares what it carries (python3: the token renewer of `auth:`); a site
    # that enables `rucio:` or `upload:` later builds its image under `images:` instead.
    data["singleuser"] = {"image": {"name": "quay.io/jupyter/minimal-notebook",
                                    "tag": "2024-12-23", "provides": ["python3"]},
                          "cpu": {"limit": "2", "guarantee": "500m"}}
    if answers.storage == "dynamic":
        data["storage"] = {"type": "dynamic", "capacity": "10Gi"}
    else:
        data["storage"] = {"type": "static", "pvc_name": f"{name}-home", "slug_scheme": "safe"}
    if answers.idp != "none":
        data["auth"] = {
            "issuer": answers.issuer, "provider": answers.idp,
            "client_id": {"name": f"{name}-oidc", "key": "client_id"},
            "client_secret": {"name": f"{name}-oidc", "key": "client_secret"},
            "allow": {"mode": "all"},
        }
    if answers.eos != "none":
        data.update(_eos_data(answers.eos, example))
    if answers.xcache:
        xc = example["xcache"]
        data["xcache"] = {"image": xc["image"],
                          "site_name": site_name_for_host(data["ingress"]["host"]),
                          "mode": "fixed_origin", "origin": "origin.example.org:1094",
                          "disks": xc["disks"]}
    return data


def _check_answers(answers: Answers) -> None:
    """Refuse a combination of answers that cannot work.

    Raises:
        UsageError: an unknown kind, EOS without a login, a login without an issuer.
    """
    for value, allowed, flag in ((answers.idp, IDP_KINDS, "--idp"),
                                 (answers.storage, STORAGE_TYPES, "--storage"),
                                 (answers.eos, EOS_MODES, "--eos")):
        if value not in allowed:
            raise UsageError(f"{flag} {value!r}: choose one of {', '.join(allowed)}")
    if answers.idp != "none" and not answers.issuer:
        raise UsageError(f"--idp {answers.idp} needs --issuer (the IdP's issuer URL)")
    if answers.idp == "keycloak" and not KEYCLOAK_ISSUER.search(answers.issuer or ""):
        raise UsageError(f"--issuer {answers.issuer}: a Keycloak issuer ends with /realms/<realm>")
    if answers.eos != "none" and answers.idp == "none":
        raise UsageError("EOS mounts need a login (user tokens come from the IdP): choose --idp")


def _eos_data(mode: str, example: dict) -> dict:
    """``eos:`` for `mode`, and in daemonset mode the FUSE DaemonSet's ``security:`` exceptions."""
    eos: dict = {"mode": mode}
    if mode == "daemonset":
        eos["image"] = example["eos"]["image"]
        eos["keytab"] = {"name": "eos-sss-keytab", "key": "eos.keytab"}
    eos["instances"] = [{"name": "eos", "mgm": "eos.example.org", "remote_mount_dir": "/eos/"}]
    eos["token_service"] = None
    if mode != "daemonset":
        return {"eos": eos}
    fuse = [dict(e) for e in example["security"]["exceptions"]
            if e.get("kind") == "DaemonSet" and e.get("name") == "eosxd"]
    exceptions = [{**e, "namespace": eos.get("namespace", "eos")} for e in fuse]
    return {"eos": eos, "security": {"exceptions": exceptions}}


def site_text_from_answers(name: str, answers: Answers) -> str:
    """The text of a new site from `answers`.

    The schema line, a header naming the answers, and the model's description above each
    top-level key.
    """
    from dlaas_gen import yamlio

    body = yamlio.dump_doc(site_data(name, answers)).splitlines()
    chosen = (f"IdP {answers.idp}, storage {answers.storage}, EOS {answers.eos}, "
              f"XCache {'on' if answers.xcache else 'off'}, Git {answers.git_url or 'flux-system'}")
    header = [
        SCHEMA_LINE,
        "#",
        f"# Site {name!r}, written by `dlaas-gen init` ({chosen}).",
        "# Replace the example.org placeholders; every field: docs/site-reference.md.",
        f"# Render and check: `dlaas-gen render {name}` then `dlaas-gen validate rendered/{name}`.",
    ]
    return "\n".join(header + _comment_top_keys(body)) + "\n"


def write_gitignore(root: Path) -> Path | None:
    """Add the render lock to ``<root>/.gitignore`` (created if missing); None if already there."""
    path = root / ".gitignore"
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    missing = [line for line in GITIGNORE_LINES if line not in existing.splitlines()]
    if not missing:
        return None
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(prefix + "".join(f"{line}\n" for line in missing))
    return path
