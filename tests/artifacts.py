"""Where tests keep what a person should look at (screenshots, PDF pages): ``tests/artifacts/``
(git-ignored) or ``$KYOGIKAI_ARTIFACTS``.  Each test prints the paths it wrote."""

from __future__ import annotations

import os
from pathlib import Path


def artifacts() -> Path:
    d = Path(os.environ.get("KYOGIKAI_ARTIFACTS") or Path(__file__).parent / "artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d
