"""The ``scratch:`` section: a writable area on EOS, emptied by age by a CronJob.

Why: results are written to scratch and registered in Rucio from there (``upload:``); the
cleanup must never reach an RSE's files, which `dlaas_gen.config.checks.scratch` checks.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from dlaas_gen.config.base import CRON, AbsPath, Image, SecretRef, StrictModel
from dlaas_gen.names import DnsLabel


class ScratchCleanup(StrictModel):
    """The CronJob that empties old scratch files."""

    schedule: str = Field(default="17 * * * *", description="Cron schedule (5 fields).")
    image: Image = Field(
        default_factory=lambda: Image(name="docker.io/library/busybox", tag="1.37.0"),
        description="Small image with `sh`, `find`, `xargs`, `rm` and `rmdir` (busybox).",
    )
    endorsement: SecretRef | None = Field(
        default=None,
        description="Secret key (in the hub namespace) holding the sss endorsement the job "
        "presents to EOS as `XrdSecsssENDORSEMENT`. Required: through the shared eosxd mount "
        "the job is otherwise the sss keytab's user, which may delete nothing. The MGM maps the "
        "key to an account allowed to delete in the scratch tree (`vid set map -sss "
        "key:<key> vuid:<uid> vgid:<gid>` plus `vid add gateway <node> sss`; see the scratch "
        "docs).",
    )

    @field_validator("schedule")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        if not CRON.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a 5-field cron schedule")
        return value


class ScratchConfig(StrictModel):
    """A writable scratch area on EOS, cleaned by age."""

    eos_instance: DnsLabel = Field(description="EOS instance holding the scratch folder.")
    sub_path: str = Field(description="Folder inside the instance mount.",
                          pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
    mount_path: AbsPath = Field(default="/scratch", description="Path in user pods.")
    env_var: str = Field(default="SCRATCH", description="Variable holding the user's folder.",
                         pattern=r"^[A-Z_][A-Z0-9_]*$")
    retention_hours: int = Field(default=48, ge=1, description="Files older than this are deleted.")
    max_transfer_hours: int = Field(
        default=12, ge=0, description="Longest expected first transfer.")
    cleanup: ScratchCleanup = Field(default_factory=ScratchCleanup, description="Cleanup job.")
    rse: str | None = Field(default=None, description="Scratch RSE name when scratch is an RSE.")
    pfn_prefix: str | None = Field(
        default=None, description="PFN of the scratch folder root on that RSE, e.g. "
        "`root://eoseulake.cern.ch:1094//eos/eulake/scratch`.", pattern=r"^(root|davs|https)://\S+$",
    )
    rule_lifetime_hours: int = Field(default=24, ge=1, description="Short rule on the scratch RSE.")
