"""APScheduler is used through its public API only, and only for its trigger maths.

The scheduler's loop is our own (newsletter/scheduler/loop.py says why). A minor APScheduler
release may change anything private, so no module of the app may import a private APScheduler
name, touch a private attribute of an APScheduler object (`job._modify`, `trigger._fields`,
`super()._x` in a subclass), or reach for one through getattr.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import newsletter

PACKAGE = Path(newsletter.__file__).parent


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def apscheduler_violations(source: str) -> list[str]:
    """What in this module's source reaches past APScheduler's public API (empty when all is well)."""
    tree = ast.parse(source)
    found: list[str] = []
    names: set[str] = set()  # local names bound to APScheduler modules, classes and functions
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "apscheduler":
            module = node.module or ""
            if not module.startswith("apscheduler.triggers"):
                found.append(f"line {node.lineno}: imports from {module} (only APScheduler's triggers are used)")
            if any(_private(part) for part in module.split(".")):
                found.append(f"line {node.lineno}: imports the private module {module}")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"line {node.lineno}: imports the private name {alias.name}")
                names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "apscheduler":
                    found.append(f"line {node.lineno}: imports {alias.name} (import the public names it needs)")
    # Our own classes may keep private attributes; a class built on an APScheduler one may not use
    # private attributes through self, since they could be APScheduler's.
    subclassing = {id(cls) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
                   and any(isinstance(base, ast.Name) and base.id in names for base in cls.bases)}
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and id(cls) not in subclassing:
            for node in ast.walk(cls):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    node.own = True  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not getattr(node, "own", False):
            found.append(f"line {node.lineno}: touches the private attribute .{node.attr}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr")
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str) and _private(node.args[1].value)):
            found.append(f"line {node.lineno}: {node.func.id} of the private attribute {node.args[1].value}")
    return found


def _modules_using_apscheduler() -> list[Path]:
    imports = re.compile(r"^\s*(from|import)\s+apscheduler\b", re.MULTILINE)
    return sorted(p for p in PACKAGE.rglob("*.py") if imports.search(p.read_text(encoding="utf-8")))


def test_the_app_uses_apscheduler_triggers_through_their_public_api_only() -> None:
    modules = _modules_using_apscheduler()
    # The DST-safe trigger and the loop that asks triggers for run times are among them.
    assert {PACKAGE / "triggers.py", PACKAGE / "scheduler" / "loop.py"} <= set(modules)
    problems = {str(p.relative_to(PACKAGE)): v for p in modules if (v := apscheduler_violations(p.read_text(encoding="utf-8")))}
    assert problems == {}


@pytest.mark.parametrize(("source", "expected"), [
    ("from apscheduler.job import Job\n", "imports from apscheduler.job"),
    ("from apscheduler.schedulers.base import BaseScheduler\n", "imports from apscheduler.schedulers.base"),
    ("import apscheduler\n", "imports apscheduler"),
    ("from apscheduler.triggers.cron import _private_helper\n", "private name _private_helper"),
    ("def f(job):\n    job._modify(next_run_time=None)\n", "private attribute ._modify"),
    ("def f(trigger):\n    return trigger._get_run_times(None)\n", "private attribute ._get_run_times"),
    ("def f(s):\n    return getattr(s, '_jobstores_lock')\n", "getattr of the private attribute _jobstores_lock"),
    ("from apscheduler.triggers.cron import CronTrigger\n"
     "class T(CronTrigger):\n    def f(self):\n        return self._fields\n", "private attribute ._fields"),
    ("from apscheduler.triggers.cron import CronTrigger\n"
     "class T(CronTrigger):\n    def f(self):\n        return super()._x()\n", "private attribute ._x"),
])
def test_the_check_catches_each_kind_of_reach_into_privates(source: str, expected: str) -> None:
    assert any(expected in problem for problem in apscheduler_violations(source)), apscheduler_violations(source)


def test_the_check_lets_our_own_private_attributes_and_public_calls_pass() -> None:
    source = ("from apscheduler.triggers.cron import CronTrigger\n"
              "class Loop:\n    def __init__(self):\n        self._wake = None\n"
              "def f(t: CronTrigger, now):\n    return t.get_next_fire_time(None, now), t.__class__\n")
    assert apscheduler_violations(source) == []
