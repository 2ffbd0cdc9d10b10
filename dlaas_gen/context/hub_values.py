"""The z2jh values of the hub release while components contribute to them.

Why: other components (auth, EOS, scratch, Rucio, upload) add volumes, env and hub config to
the same release; they contribute fragments to one `HubValues` whose lists are concatenated,
so no component overwrites another's list (Helm would replace a list wholesale).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from dlaas_gen.config.base import SecretRef


def deep_contribute(base: dict[str, Any], fragment: dict[str, Any]) -> None:
    """Merge `fragment` into `base` in place: maps recurse, lists concatenate, scalars set.

    Raises:
        ValueError: two components set the same scalar to different values.
    """
    for key, value in fragment.items():
        if key not in base:
            base[key] = copy.deepcopy(value)
        elif isinstance(base[key], dict) and isinstance(value, dict):
            deep_contribute(base[key], value)
        elif isinstance(base[key], list) and isinstance(value, list):
            base[key].extend(copy.deepcopy(value))
        elif base[key] != value:
            raise ValueError(f"conflicting values for {key!r}: {base[key]!r} vs {value!r}")


@dataclass
class SecretValue:
    """A chart value that comes from a Secret key through ``valuesFrom`` + ``targetPath``."""

    ref: SecretRef
    target_path: str
    purpose: str


@dataclass
class HubValues:
    """The z2jh values of the release while components contribute to them."""

    inline: dict[str, Any] = field(default_factory=dict)
    secrets: list[SecretValue] = field(default_factory=list)
    profile_overrides: list[dict[str, Any]] = field(default_factory=list)
    profile_extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    post_start: list[str] = field(default_factory=list)
    #: argv of the token renewer's postStart run (``--detach``); set by the notebook files.
    renewer: list[str] = field(default_factory=list)
    #: Env vars naming folders the renewer creates once the EOS token files exist (scratch).
    token_dirs: list[str] = field(default_factory=list)

    def add(self, fragment: dict[str, Any]) -> None:
        """Contribute inline values (lists concatenate)."""
        deep_contribute(self.inline, fragment)

    def add_secret(self, ref: SecretRef, target_path: str, purpose: str) -> None:
        """Take a chart value from a Secret key."""
        self.secrets.append(SecretValue(ref, target_path, purpose))
