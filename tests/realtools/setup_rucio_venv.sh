#!/usr/bin/env bash
# Create the Rucio *server* virtualenv used by tests/realtools (idempotent).
#
# Why a separate venv: the PyPI `rucio` server package and `rucio-clients` both install the
# top-level `rucio/` package; installing the server into the project venv would overwrite the
# client under test. The tests start the server as a subprocess with this venv's Python.
#
# Usage: bash tests/realtools/setup_rucio_venv.sh   (from anywhere; creates <repo>/.venv-rucio)
set -euo pipefail

RUCIO_VERSION="41.5.1"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RUCIO_SERVER_VENV:-$REPO_ROOT/.venv-rucio}"
PY="$VENV/bin/python"

if [ -x "$PY" ] && "$PY" - "$RUCIO_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
import flask, werkzeug, sqlalchemy, alembic  # noqa: F401  the server's runtime needs
sys.exit(0 if version("rucio") == sys.argv[1] else 1)
PYEOF
then
    echo "setup_rucio_venv: $VENV already has rucio==$RUCIO_VERSION"
    exit 0
fi

echo "setup_rucio_venv: creating $VENV with rucio==$RUCIO_VERSION"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "rucio==$RUCIO_VERSION"
# Importing the Flask app needs a rucio.cfg, so only check the runtime libraries here.
"$PY" -c "import werkzeug, flask, sqlalchemy, alembic"
echo "setup_rucio_venv: done"
