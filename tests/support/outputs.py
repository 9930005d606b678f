"""Read a published output as text, whatever its format, so safety checks cover issue.pdf too."""

from __future__ import annotations

import subprocess
from pathlib import Path


def output_text(path: Path) -> str:
    """The file's text; for a PDF, the words poppler extracts plus the addresses of its link annotations."""
    if path.suffix != ".pdf":
        return path.read_text(encoding="utf-8")
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=60)
    links = subprocess.run(["pdfinfo", "-url", str(path)], capture_output=True, text=True, check=True, timeout=60)
    return words.stdout + "\n" + links.stdout
