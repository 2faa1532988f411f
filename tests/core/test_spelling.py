"""People's text spells "antrean" (KBBI), never "antrian"; identifiers such as the clip
token `nomor-antrian` keep their names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("*.html", "*.po", "*.txt", "*.md", "*.js", "*.css", "*.py", "*.toml")
SKIPPED_PARTS = {".venv", "node_modules", "vendor", "tests", ".git", "artifacts"}
IDENTIFIER = re.compile(r"nomor-antrian")  # the recorded clip's file name and token


def test_no_antrian_in_peoples_text() -> None:
    found = []
    for pattern in SCANNED:
        for path in ROOT.rglob(pattern):
            if SKIPPED_PARTS & set(path.relative_to(ROOT).parts):
                continue
            text = IDENTIFIER.sub("", path.read_text(encoding="utf-8", errors="replace"))
            for number, line in enumerate(text.splitlines(), start=1):
                if "antrian" in line.lower():
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert found == []
