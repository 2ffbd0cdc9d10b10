"""Helm Operator behaviour fields → helm-controller v2 install/upgrade/rollback/test settings.

Why: several defaults flipped between the two controllers (wait, rollback wait, maxHistory);
the mapping keeps the Helm Operator's effective behaviour and reports each flip, rather than
silently adopting Flux's defaults.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from dlaas_gen.commands.migrate.ctx import DocCtx
from dlaas_gen.commands.migrate.edit import delete_key, ensure_map, insert_key, replace_key

HO_MAX_HISTORY = 10


def seconds(value: Any) -> Any:
    """Turn the Helm Operator's integer seconds into a Go duration string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return f"{int(value)}s"


def _timeout(node: CommentedMap, ctx: DocCtx, where: str) -> None:
    if "timeout" in node and isinstance(node["timeout"], int | float):
        new = seconds(node["timeout"])
        ctx.change(f"{where}timeout: integer seconds → duration string", node, "timeout")
        replace_key(node, "timeout", "timeout", new)


def _rollback(spec: CommentedMap, ctx: DocCtx, before: str | None) -> None:
    rollback = spec.get("rollback")
    if not isinstance(rollback, CommentedMap):
        return
    enable = bool(rollback.get("enable"))
    if not enable:
        ctx.change("removed spec.rollback (rollback was disabled; v2 does not remediate "
                   "upgrades by default)", spec, "rollback")
        delete_key(spec, "rollback")
        return
    upgrade = ensure_map(spec, "upgrade", before=before)
    remediation = ensure_map(upgrade, "remediation")
    if rollback.get("retry"):
        retries = rollback.get("maxRetries", 5)
        remediation["retries"] = retries
        ctx.change("rollback.enable + retry → upgrade.remediation.retries (rollback.maxRetries, "
                   "default 5)", rollback, "enable")
    else:
        remediation["retries"] = 1
        ctx.warn("rollback.enable without retry → upgrade.remediation.retries: 1 (approximate: "
                 "v2 rolls back only when retries > 0)", rollback, "enable")
    for key in ("enable", "retry", "maxRetries"):
        if key in rollback:
            delete_key(rollback, key)
    _timeout(rollback, ctx, "rollback.")
    if rollback.get("recreate"):
        ctx.warn("rollback.recreate is not functional on the Helm 4 SDK (helm-controller 1.5+)",
                 rollback, "recreate")
    wait = bool(rollback.get("wait"))
    if "wait" in rollback:
        delete_key(rollback, "wait")
    if not wait:
        rollback["disableWait"] = True
        ctx.warn("rollback.disableWait: true keeps the Helm Operator's rollback behaviour (it "
                 "did not wait; v2 waits by default)", spec, "rollback")
    else:
        ctx.change("rollback.wait: true dropped (v2 waits by default)", spec, "rollback")
    if not rollback:
        delete_key(spec, "rollback")


def _test(spec: CommentedMap, ctx: DocCtx) -> None:
    test = spec.get("test")
    if not isinstance(test, CommentedMap):
        return
    _timeout(test, ctx, "test.")
    if "cleanup" in test:
        ctx.change("removed test.cleanup (Helm 2 only)", test, "cleanup")
        delete_key(test, "cleanup")


def _wait(spec: CommentedMap, ctx: DocCtx, before: str | None, waits_anyway: bool) -> None:
    """``wait`` → install/upgrade.disableWait when the operator did not wait.

    `waits_anyway`: rollback or test was enabled, which made the operator wait without ``wait``.
    """
    wait = spec.get("wait")
    effective = bool(wait) if wait is not None else waits_anyway
    line = ("wait" if "wait" in spec else None)
    if not effective:
        for key in ("install", "upgrade"):
            ensure_map(spec, key, before=before)["disableWait"] = True
        ctx.warn("install/upgrade.disableWait: true keeps the Helm Operator's behaviour (it "
                 "did not wait; v2 waits by default)", spec, line)
    if "wait" in spec:
        ctx.change("removed spec.wait", spec, "wait")
        delete_key(spec, "wait")


def _flags(spec: CommentedMap, ctx: DocCtx, before: str | None) -> None:
    """forceUpgrade, skipCRDs, resetValues and disableOpenAPIValidation → install/upgrade."""
    for key, target, value, message in (
        ("forceUpgrade", "upgrade", ("force", True), "forceUpgrade → upgrade.force"),
        ("skipCRDs", "install", ("crds", "Skip"), "skipCRDs → install.crds: Skip"),
    ):
        if key in spec:
            if spec[key]:
                ensure_map(spec, target, before=before)[value[0]] = value[1]
            ctx.change(message if spec[key] else f"removed {key}: false", spec, key)
            delete_key(spec, key)
    if "resetValues" in spec:
        if spec["resetValues"] is False:
            ensure_map(spec, "upgrade", before=before)["preserveValues"] = True
            ctx.change("resetValues: false → upgrade.preserveValues: true", spec, "resetValues")
        else:
            ctx.change("removed resetValues: true (v2 resets values by default)", spec,
                       "resetValues")
        delete_key(spec, "resetValues")
    if "disableOpenAPIValidation" in spec:
        if spec["disableOpenAPIValidation"]:
            for key in ("install", "upgrade"):
                ensure_map(spec, key, before=before)["disableOpenAPIValidation"] = True
        ctx.change("disableOpenAPIValidation → install/upgrade.disableOpenAPIValidation", spec,
                   "disableOpenAPIValidation")
        delete_key(spec, "disableOpenAPIValidation")


def map_behaviour(spec: CommentedMap, ctx: DocCtx, *, full: bool) -> None:
    """Map wait/timeout/rollback/test/resetValues/forceUpgrade/skipCRDs/maxHistory in place.

    Args:
        spec: the release spec (already carrying the v2 chart).
        ctx: report context.
        full: a complete release (defaults are made explicit); False for a kustomize patch,
            where only fields present are mapped.
    """
    before = "values" if "values" in spec else ("valuesFrom" if "valuesFrom" in spec else None)
    rollback_on = bool(isinstance(spec.get("rollback"), dict) and spec["rollback"].get("enable"))
    test_on = bool(isinstance(spec.get("test"), dict) and spec["test"].get("enable"))
    _timeout(spec, ctx, "")
    if "wait" in spec or full:
        _wait(spec, ctx, before, rollback_on or test_on)
    _flags(spec, ctx, before)
    _rollback(spec, ctx, before)
    _test(spec, ctx)
    if full and "maxHistory" not in spec:
        insert_key(spec, "maxHistory", HO_MAX_HISTORY, before=before)
        ctx.change(f"maxHistory: {HO_MAX_HISTORY} added (the Helm Operator's default; v2 "
                   f"keeps 5)", spec, None)
