"""The three layers hold: `lint-imports` (import-linter, contracts in pyproject.toml) passes.

scripts/test runs the same command before the suite, so CI fails on a back-edge; this test shows it
to a developer running pytest. The second test proves the contracts catch the two kinds of
back-edge, on a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "NO_COLOR": "1"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_imports_follow_the_layers() -> None:
    result = lint_imports(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_back_edge_breaks_the_contracts(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "newsletter", tmp_path / "newsletter",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # A domain reaching up into the web app, and a domain importing another domain.
    (tmp_path / "newsletter" / "collect" / "_upward.py").write_text("import newsletter.web.app\n", encoding="utf-8")
    (tmp_path / "newsletter" / "render" / "_sideways.py").write_text(
        "from newsletter.editorial import search\n", encoding="utf-8")

    result = lint_imports(tmp_path, tmp_path)

    assert result.returncode != 0
    assert "2 broken" in result.stdout
    assert "newsletter.collect._upward -> newsletter.web.app" in result.stdout
    assert "newsletter.render._sideways -> newsletter.editorial.search" in result.stdout
