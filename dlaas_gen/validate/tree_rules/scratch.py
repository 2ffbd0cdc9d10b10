"""Rules over a rendered tree that keep the scratch folder working in user pods.

Why: the user pod's postStart hook used to run ``mkdir -p "$SCRATCH" || true`` before the token
renewer had written the EOS token file. eosxd maps each request to the calling process's
``OAUTH2_TOKEN`` file, falls back to the sss identity (powerless) without it, and caches the
identity it bound to a process (EOS ``fusex/auth/ProcessCache.cc``), so on EOS with OIDC the
folder was never created and ``|| true`` hid it. The renewer now creates the folder itself,
once the token files exist (``token_renewer.py --detach --mkdir "$SCRATCH"``). The rule reads
the objects only, so ``dlaas-gen validate`` applies it to any tree, including values a site
adds through ``extra_values``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem
from dlaas_gen.validate.tree_rules.registry import at, rule
from dlaas_gen.validate.workloads import as_list, as_map, extra_env, get, z2jh_releases

RULE = "poststart-scratch-after-tokens"
RENEWER = "token_renewer.py"
HOOK = ["spec", "values", "singleuser", "lifecycleHooks", "postStart", "exec", "command"]
SHELLS = {"sh", "bash", "dash", "ash"}


def _under(path: str, root: str) -> bool:
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def scratch_vars(singleuser: dict[str, Any]) -> list[str]:
    """Env vars naming a folder on a writable hostPath mount of the user pod (``$SCRATCH``)."""
    storage = get(singleuser, "storage")
    storage = storage if isinstance(storage, dict) else {}
    host = {get(v, "name") for v in as_list(storage.get("extraVolumes")) if get(v, "hostPath")}
    roots = [str(get(m, "mountPath")) for m in as_list(storage.get("extraVolumeMounts"))
             if get(m, "name") in host and not get(m, "readOnly") and get(m, "mountPath")]
    return [name for name, value in extra_env(singleuser).items()
            if value.startswith("/") and any(_under(value, root) for root in roots)]


def simple_commands(command: list[str]) -> list[list[str]]:
    """The simple commands of an exec hook.

    ``sh -c SCRIPT`` is split at ``; & && || | ( )`` and newlines, quotes removed and variables
    left unexpanded; any other argv is one command.
    """
    if len(command) >= 3 and posixpath.basename(command[0]) in SHELLS and command[1] == "-c":
        lexer = shlex.shlex(command[2], posix=True, punctuation_chars=";&|()\n")
        lexer.whitespace = " \t\r"
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # unbalanced quotes: one opaque command
            return [command[2].split()]
        out: list[list[str]] = [[]]
        for token in tokens:
            if token and set(token) <= set(";&|()\n"):
                out.append([])
            else:
                out[-1].append(token)
        return [c for c in out if c]
    return [command]


def _mentions(token: str, var: str) -> bool:
    pattern = r"\$(\{)?" + re.escape(var) + r"(?(1)[}:#%/^,-]|(?![A-Za-z0-9_]))"
    return re.search(pattern, token) is not None


def _renewer_creates(cmd: list[str], var: str) -> bool:
    """``cmd`` runs the token renewer's postStart mode and passes ``$var`` to ``--mkdir``."""
    if not any(posixpath.basename(t) == RENEWER for t in cmd) or "--detach" not in cmd:
        return False
    refs = (f"${var}", f"${{{var}}}")
    return (any(cmd[i] == "--mkdir" and cmd[i + 1] in refs for i in range(len(cmd) - 1))
            or any(f"--mkdir={ref}" in cmd for ref in refs))


def hook_problems(singleuser: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(scratch var, message) for each scratch folder the postStart hook mishandles."""
    oauth = extra_env(singleuser).get("OAUTH2_TOKEN", "")
    if not oauth.startswith("FILE:"):
        return
    token = oauth[len("FILE:"):]
    hook = get(singleuser, "lifecycleHooks", "postStart", "exec", "command")
    command = [str(a) for a in as_list(hook)]
    commands = simple_commands(command) if command else []
    for var in scratch_vars(singleuser):
        created = [c for c in commands if _renewer_creates(c, var)]
        others = [c for c in commands
                  if not _renewer_creates(c, var) and any(_mentions(t, var) for t in c)]
        if others:
            yield var, (
                f"the postStart hook uses ${var} outside the token renewer "
                f"(`{' '.join(others[0])}`): it may run before the EOS token file {token} "
                "exists, and eosxd then maps the process to the sss identity and keeps it, so the "
                f'folder is never created; let the renewer create it: {RENEWER} --detach --mkdir '
                f'"${var}"')
        elif not created:
            yield var, (
                f"the postStart hook never creates ${var}: pass it to the token renewer, which "
                f"creates it once the EOS token file {token} exists "
                f'({RENEWER} --detach --mkdir "${var}")')


@rule(RULE)
def check_poststart_scratch(tree: list[Manifest]) -> Iterator[Problem]:
    """The postStart hook creates each scratch folder through the token renewer, nowhere else."""
    for m, values in z2jh_releases(tree):
        singleuser = as_map(values.get("singleuser"))
        for var, message in hook_problems(singleuser):
            inline = get(m.doc, *HOOK)
            if inline is not None:
                where = [*HOOK, 2] if len(as_list(inline)) > 2 else HOOK
            elif get(m.doc, "spec", "values", "singleuser", "extraEnv", var) is not None:
                where = ["spec", "values", "singleuser", "extraEnv", var]
            else:
                where = ["spec", "values"]
            yield at(m, where, RULE, message)
