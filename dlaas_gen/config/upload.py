"""The ``upload:`` section: the ``datalakectl`` command that turns scratch files into replicas.

Why: the command's defaults (RSE, lifetimes, scope) are the site's policy for user uploads;
they are checked against ``scratch:`` and ``rucio:`` in `dlaas_gen.config.checks.upload`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from dlaas_gen.config.base import AbsPath, StrictModel

#: A rule lifetime: seconds, or a number with ``s``, ``m``, ``h`` or ``d``.
LIFETIME = re.compile(r"^[0-9]+[smhd]?$")


class UploadConfig(StrictModel):
    """The `datalakectl` upload command in user pods."""

    command: str = Field(
        default="datalakectl", pattern=r"^[a-z][a-z0-9_-]*$", description="Command name.")
    bin_dir: AbsPath = Field(
        default="/usr/local/bin", description="Folder already on PATH in the image.")
    mode: Literal["register", "copy"] = Field(
        default="register", description="`register` in place (scratch is an RSE) or `copy`."
    )
    upload_rse: str | None = Field(default=None, description="RSE uploads go to (copy mode).")
    default_rse: str = Field(description="Default destination RSE expression.")
    default_lifetime: str = Field(default="30d", description="Default rule lifetime.")
    max_lifetime: str = Field(default="365d", description="Longest rule lifetime allowed.")
    scope_template: str = Field(default="user.{account}", description="Default scope.")

    @field_validator("default_lifetime", "max_lifetime")
    @classmethod
    def _check_lifetime(cls, value: str) -> str:
        if not LIFETIME.fullmatch(value):
            raise ValueError(f"{value!r} is not a lifetime (e.g. 3600, 12h, 30d)")
        return value
