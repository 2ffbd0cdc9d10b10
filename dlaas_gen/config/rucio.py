"""The ``rucio:`` section: the Rucio JupyterLab extension and the Rucio client configuration.

Why: the extension reads one entry per Rucio instance (rucio-jupyterlab's ``RucioConfig``
instances); replica mode maps PFNs to files under an EOS mount, so those fields are checked
against ``eos:`` in `dlaas_gen.config.checks.rucio`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from dlaas_gen.config.auth import SERVICE
from dlaas_gen.config.base import AbsPath, HttpsUrl, StrictModel


class RucioInstance(StrictModel):
    """One Rucio instance offered by the JupyterLab extension."""

    name: str = Field(description="Machine id (FQDN recommended).", min_length=1)
    display_name: str = Field(description="Name shown in the extension.", min_length=1)
    base_url: HttpsUrl = Field(description="Rucio server URL, no trailing slash.")
    auth_url: HttpsUrl | None = Field(default=None, description="Rucio auth server URL.")
    webui_url: HttpsUrl | None = Field(default=None, description="Rucio web UI URL.")
    ca_cert: AbsPath | None = Field(default=None, description="CA bundle path in the image.")
    vo: str | None = Field(default=None, description="VO (multi-VO servers only).")
    mode: Literal["replica", "download"] = Field(description="`replica` reads a mounted RSE.")
    destination_rse: str | None = Field(
        default=None, description="RSE mounted in the pod (replica).")
    rse_mount_path: AbsPath | None = Field(
        default=None, description="Where the RSE's files appear in the pod (replica), under "
        "`eos.user_mount_path`/<instance>, e.g. `/eos/eulake`."
    )
    path_begins_at: int | None = Field(
        default=None, ge=0,
        description="PFN path components to drop; derived from the EOS mount when unset, "
        "checked when set.",
    )
    rse_prefix: AbsPath | None = Field(
        default=None,
        description="Path prefix of the RSE's protocol in Rucio (what precedes the LFN part of "
        "its PFNs), e.g. `/eos/eulake/tests/rucio_test/eulake_1/` for EULAKE-1 (`rucio-admin rse "
        "info <RSE>`); when set, the EOS directory shown at `rse_mount_path` must hold it, so "
        "that the extension maps PFNs to the files under the mount (replica mode).",
    )
    replication_rule_lifetime_days: int | None = Field(
        default=None, ge=1, description="Rule lifetime.")
    wildcard_enabled: bool = Field(default=False, description="Allow wildcard DID search.")
    site_name: str | None = Field(
        default=None, description="Client site name (XCache proxy key); default: the XCache site."
    )
    oidc_auth: Literal["file"] = Field(
        default="file",
        description="How the extension reads the Rucio token: `file` only, because the renewer "
        "keeps the file fresh while an environment variable is fixed at spawn and expires (~1 h).",
    )
    token_service: SERVICE = Field(
        default="rucio",
        description="Which `auth.token_exchange.audiences` entry is the Rucio token.",
    )

    @field_validator("base_url", "auth_url", "webui_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is not None and value.endswith("/"):
            raise ValueError("URL must not end with '/'")
        return value


class RucioConfig(StrictModel):
    """The Rucio JupyterLab extension and the Rucio client configuration."""

    instances: list[RucioInstance] = Field(min_length=1, description="Rucio instances.")
    default_instance: str | None = Field(default=None, description="Instance selected first.")
    default_auth_type: Literal["oidc", "x509", "x509_proxy", "userpass"] = Field(
        default="oidc", description="Authentication type."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level.")
