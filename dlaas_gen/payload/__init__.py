"""Programs and files that dlaas-gen ships verbatim into the rendered deployment.

Why: these files run elsewhere (hub pod, user pods), so they are stored as plain
source files and read as text when rendering ConfigMaps and ``hub.extraConfig``.
"""

from importlib import resources


def payload_text(name: str) -> str:
    """Return the text of the payload file ``name`` (e.g. ``"token_renewer.py"``).

    Raises:
        FileNotFoundError: no such payload file.
    """
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
