"""Routes and commands build no queries: a route reads its form, calls one service or flow, renders.

An AST scan of newsletter/web/** and newsletter/cli.py. Forbidden there: the session's query API
(`.execute(`, `.scalars(`, `.scalar(`, `.query(`, `session.get(`), SQL builders (`select(` ...) and any
import from SQLAlchemy except the `Session` type and the exception classes. A route that needs the
row its path names asks `newsletter.db.get_row`; anything else is a service in a domain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "newsletter"
QUERY_METHODS = {"execute", "scalars", "scalar", "query", "exec_driver_sql"}
BUILDERS = {"select", "insert", "update", "delete", "text", "or_", "and_"}
ALLOWED_IMPORTS = {"sqlalchemy.orm": {"Session"}}  # plus every name of sqlalchemy.exc


def top_modules() -> list[Path]:
    return sorted((PACKAGE / "web").rglob("*.py")) + [PACKAGE / "cli.py"]


def query_sites(source: str) -> list[str]:
    """Each place in `source` that builds or runs a query, as "line N: what"."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            if node.module == "sqlalchemy.exc":
                continue
            bad = [a.name for a in node.names if a.name not in ALLOWED_IMPORTS.get(node.module, set())]
            if bad:
                found.append(f"line {node.lineno}: from {node.module} import {', '.join(bad)}")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "sqlalchemy" and a.name != "sqlalchemy.exc"]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in QUERY_METHODS:
                found.append(f"line {node.lineno}: .{func.attr}(")
            elif (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Name)
                  and func.value.id.endswith("session")):
                found.append(f"line {node.lineno}: {func.value.id}.get(")
            elif isinstance(func, ast.Name) and func.id in BUILDERS:
                found.append(f"line {node.lineno}: {func.id}(")
    return found


@pytest.mark.parametrize("path", top_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_route_module_or_the_cli_builds_no_query(path: Path) -> None:
    sites = query_sites(path.read_text(encoding="utf-8"))
    assert sites == [], f"{path.relative_to(PACKAGE.parent)} queries the database itself; move it into a service: {sites}"


def test_the_scan_finds_each_kind_of_query() -> None:
    source = '''
from sqlalchemy import select, func
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.exc import OperationalError
import sqlalchemy

def page(session: Session, db_session: Session) -> None:
    session.scalars(select(Incident)).all()
    session.execute(text("SELECT 1"))
    db_session.get(Incident, 3)
    session.scalar(stmt)
    request.query_params.get("q")
'''
    sites = query_sites(source)
    assert {s.split(": ", 1)[1] for s in sites} == {
        "from sqlalchemy import select, func", "from sqlalchemy.orm import selectinload", "import sqlalchemy",
        ".scalars(", "select(", ".execute(", "text(", "db_session.get(", ".scalar(",
    }


def test_the_scan_allows_what_a_route_needs() -> None:
    source = '''
from sqlalchemy.orm import Session
from sqlalchemy.exc import OperationalError
from newsletter.db import get_row

def page(request, session: Session) -> None:
    incident = get_row(session, Incident, 3)
    q = request.query_params.get("q", "")
    service.update_incident(session, incident, title=q)
'''
    assert query_sites(source) == []
