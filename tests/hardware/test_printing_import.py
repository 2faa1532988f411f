"""Importing the printing package must not leave directories in /tmp (kiosks restart often)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_printing_import_leaves_no_temporary_directories(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    cache = tmp_path / "cache"
    temp.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    env.update(TMPDIR=str(temp), XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-c", "import hardware.printing"], env=env, check=True, cwd=tmp_path
    )
    assert list(temp.iterdir()) == []
    kept = sorted(path.name for path in (cache / "giliran" / "escpos").iterdir())
    # the capabilities pickle, and the lock that serialises its first writing
    assert len(kept) == 2 and kept[0] == ".import.lock" and kept[1].endswith(".pickle")
