"""The `newsletter` command. Each command parses options, calls a service, prints; nothing more."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from newsletter.config import SettingsError, load_settings
from newsletter.logs import configure_logging
from newsletter.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)


class State:
    """Lazily built runtime so that `--help` works even with broken settings."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            try:
                settings = load_settings()
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from None
            configure_logging(settings)
            self._runtime = Runtime(settings)
        return self._runtime


def pass_runtime(func: F) -> F:
    """Give a command the Runtime as its first argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = click.get_current_context().ensure_object(State)
        return func(state.runtime, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsletter")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Build, publish and send a weekly human-rights monitoring newsletter."""
    ctx.ensure_object(State)


# ------------------------------------------------------------------ database


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_runtime
def db_upgrade(rt: Runtime, revision: str) -> None:
    """Apply migrations (serve and demo do this on start)."""
    from newsletter.config import redact_url
    from newsletter.db import upgrade

    upgrade(rt.settings, revision)
    console.print(f"database at {redact_url(rt.settings.database_url)} is at revision {revision}")


# ------------------------------------------------------------------ incidents import/export


@main.group("import")
def import_() -> None:
    """Import data from files."""


@import_.command("incidents")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_runtime
def import_incidents(rt: Runtime, file: Path) -> None:
    """Import incidents from a JSON or CSV FILE (same fields as the export). All or nothing."""
    from newsletter.exchange import ImportFailed, import_incidents as run_import

    rt.migrate()
    try:
        with rt.session() as session:
            result = run_import(session, file, actor="cli")
    except ImportFailed as exc:
        console.print(f"[red]{file.name}: nothing imported[/red]")
        for line in exc.errors:
            console.print(f"  {line}", markup=False)
        sys.exit(1)
    console.print(f"{file.name}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")


@main.group("export")
def export() -> None:
    """Export data to standard output."""


@export.command("incidents")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--state", type=click.Choice(["new", "accepted", "rejected", "duplicate", "needs_info", "scheduled", "published"]))
@pass_runtime
def export_incidents(rt: Runtime, fmt: str, state: str | None) -> None:
    """Write incidents to stdout as JSON or CSV; the output imports back unchanged."""
    from newsletter.exchange import dump, export_records

    rt.migrate()
    with rt.session() as session:
        click.echo(dump(export_records(session, state=state), fmt), nl=False)


# ------------------------------------------------------------------ web


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="processes (use PostgreSQL for more than one)")
@pass_runtime
def serve(rt: Runtime, host: str, port: int, workers: int) -> None:
    """Run the web app: volunteer form, editor desk, subscribe pages, archive."""
    import uvicorn

    rt.migrate()
    console.print(f"serving on http://{host}:{port}/  (volunteer form at /submit, desk at /editor/)")
    uvicorn.run(
        "newsletter.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_config=None,
    )


# ------------------------------------------------------------------ demo


@main.command()
@pass_runtime
def demo(rt: Runtime) -> None:
    """Run the whole weekly cycle on bundled demo data (collect, submit, triage, draft, render, send)."""
    from newsletter.demo import run_demo

    rt.migrate()
    run_demo(rt, console=console)


# ---- editorial


@main.group()
def users() -> None:
    """Editors' desk accounts."""


def _read_password(confirm: bool = True) -> str:
    """From a hidden prompt on a terminal, else the first line of standard input; never an argument."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return sys.stdin.readline().rstrip("\r\n")


@users.command("add")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor", show_default=True)
@pass_runtime
def users_add(rt: Runtime, email: str, role: str) -> None:
    """Create a desk account; the password comes from a prompt or standard input."""
    from newsletter.editorial.users import UserError, create_user

    password = _read_password()
    rt.migrate()
    try:
        with rt.session() as session:
            user = create_user(session, email=email, password=password, role=role, actor="cli")
            console.print(f"created {user.role} {user.email}")
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


@users.command("list")
@pass_runtime
def users_list(rt: Runtime) -> None:
    """List desk accounts with role, state and last login."""
    from newsletter.editorial.users import list_users

    rt.migrate()
    with rt.session() as session:
        for u in list_users(session):
            state = "active" if u.active else "disabled"
            locked = f" locked until {u.locked_until:%Y-%m-%d %H:%M} UTC" if u.locked_until else ""
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
            click.echo(f"{u.email}\t{u.role}\t{state}{locked}\tlast login {last}")


@users.command("set")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["editor", "admin"]))
@click.option("--disable/--enable", "disable", default=None, help="end or restore access")
@click.option("--password", "new_password", is_flag=True, help="set a new password (prompt or stdin)")
@click.option("--unlock", is_flag=True, help="clear a lockout after failed logins")
@pass_runtime
def users_set(rt: Runtime, email: str, role: str | None, disable: bool | None, new_password: bool, unlock: bool) -> None:
    """Change a desk account: role, access, password, lockout."""
    from newsletter.editorial import users as accounts

    password = _read_password() if new_password else None
    rt.migrate()
    try:
        with rt.session() as session:
            user = accounts.get_by_email(session, email)
            if user is None:
                raise accounts.UserError(f"no user with the email {email}")
            accounts.update_user(session, user, role=role, active=None if disable is None else not disable, actor="cli")
            if password is not None:
                accounts.set_password(session, user, password, actor="cli")
            if unlock:
                accounts.unlock(session, user, actor="cli")
            console.print(f"{user.email}: {user.role}, {'active' if user.active else 'disabled'}")
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None
