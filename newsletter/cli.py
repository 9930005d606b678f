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
console = Console(stderr=True, soft_wrap=True)


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


class _Main(click.Group):
    """The one place where environment failures every command shares become one or two lines and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        from newsletter.db import unreachable_message

        try:
            return super().invoke(ctx)
        except SettingsError as exc:  # e.g. a SQLite URL into a folder that does not exist
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            state = ctx.find_object(State)
            url = state._runtime.settings.database_url if state and state._runtime else load_settings().database_url
            message = unreachable_message(url, exc)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
    from newsletter.exchange import ImportFailed
    from newsletter.flows.intake import import_incidents as run_import

    rt.migrate()
    try:
        with rt.session() as session:
            result = run_import(session, file, actor="cli", languages=rt.settings.editions)
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

    from newsletter.web.server import SERVER_OPTIONS

    rt.migrate()
    console.print(f"serving on http://{host}:{port}/  (volunteer form at /submit, desk at /editor/)")
    uvicorn.run(
        "newsletter.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **SERVER_OPTIONS,  # no code path of uvicorn logs a client address (newsletter/web/server.py)
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
            locked = f" login throttled until {u.locked_until:%Y-%m-%d %H:%M} UTC" if u.locked_until else ""
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
            click.echo(f"{u.email}\t{u.role}\t{state}{locked}\tlast login {last}")


@users.command("set")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["editor", "admin"]))
@click.option("--disable/--enable", "disable", default=None, help="end or restore access")
@click.option("--password", "new_password", is_flag=True, help="set a new password (prompt or stdin)")
@click.option("--unlock", is_flag=True, help="clear the login throttle after failed logins")
@pass_runtime
def users_set(rt: Runtime, email: str, role: str | None, disable: bool | None, new_password: bool, unlock: bool) -> None:
    """Change a desk account: role, access, password, login throttle."""
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


@users.command("signout")
@click.option("--email", required=True)
@pass_runtime
def users_signout(rt: Runtime, email: str) -> None:
    """End every open desk session of an account at once (a lost laptop, a shared computer)."""
    from newsletter.editorial import users as accounts

    rt.migrate()
    try:
        with rt.session() as session:
            user = accounts.get_by_email(session, email)
            if user is None:
                raise accounts.UserError(f"no user with the email {email}")
            ended = accounts.sign_out_everywhere(session, user, actor="cli")
            console.print(f"{user.email}: {ended} open session(s) ended")
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None


# ---- delivery


def _resolve(session: Any, ref: str) -> Any:
    from newsletter.issues.service import IssueNotFound, resolve_issue

    try:
        return resolve_issue(session, ref)
    except IssueNotFound as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("issue_ref", metavar="ISSUE")
@click.option("--to", "to", multiple=True, metavar="ADDRESS", help="test send to this address only (repeatable); no subscriber is mailed")
@click.option("--retry-failed", is_flag=True, help="put failed deliveries of still-subscribed readers back in the queue first")
@click.option("--lang", "lang", metavar="LANG", help="with --to: test the edition in this language  [default: the default one]")
@pass_runtime
def send(rt: Runtime, issue_ref: str, to: tuple[str, ...], retry_failed: bool, lang: str | None) -> None:
    """Send ISSUE (2026-W47, a number or latest) to all confirmed subscribers, or a test to --to ADDRESS.

    Safe to interrupt and run again: every subscriber gets exactly one copy. Exits 0 when every
    delivery reached the relay, 3 when some failed or wait for a retry (one line per reason), 1 when
    the run stopped (relay or database unreachable).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from newsletter.delivery.message import DkimKeyError
    from newsletter.flows.send import DatabaseUnavailable, SendAborted, SendRefused, run_send, send_test

    from newsletter.flows.issues import MissingEdition

    if lang is not None and not to:
        raise click.BadParameter("--lang picks the edition of a test send (--to); a send mails each reader "
                                 "the edition of their language", param_hint="--lang")
    if lang is not None and lang not in rt.settings.editions:
        raise click.BadParameter(f"{lang!r} is not an edition; NEWSLETTER_LANGUAGES lists "
                                 f"{', '.join(rt.settings.editions)}", param_hint="--lang")
    rt.migrate()
    with rt.session() as session:
        issue = _resolve(session, issue_ref)
    try:
        if to:
            sent_to = send_test(rt, issue, list(to), lang=lang)
            edition = f" ({lang} edition)" if lang else ""
            console.print(f"test of issue {issue.number} ({issue.period}){edition} sent to {', '.join(sent_to)}")
            return
        with Progress(TextColumn("sending {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]:.0f} msg/s"), TimeRemainingColumn(), console=console,
                      transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task(issue.period, total=None, rate=0.0)

            def progress(stats: Any, total: int) -> None:
                bar.update(task, total=total, completed=stats.sent + stats.failed,
                           rate=stats.sent / stats.elapsed if stats.elapsed else 0.0)

            report = run_send(rt, issue, progress=progress, retry_failed=retry_failed, actor="cli")
    except (SendRefused, DkimKeyError, ValueError, MissingEdition) as exc:
        raise click.ClickException(str(exc)) from None
    except (SendAborted, DatabaseUnavailable) as exc:
        console.print(f"[red]send stopped:[/red] {exc}", markup=True, highlight=False)
        console.print("nothing is lost: run the same command again to continue where it stopped")
        sys.exit(1)
    except OSError as exc:
        raise click.ClickException(f"the SMTP server refused or could not be reached: {exc}") from None
    c = report.counts
    console.print(
        f"issue {issue.number} ({report.issue}): {report.sent} sent now, {report.failed} failed, "
        f"{report.retried} to retry; {report.already_done} done before this run; "
        f"{report.enqueued} new subscriber(s) queued; {report.pace}",
        highlight=False,
    )
    console.print(
        f"outbox: {c.get('sent', 0)} sent, {c.get('failed', 0)} failed, {c.get('bounced', 0)} bounced, "
        f"{c.get('pending', 0)} pending, {c.get('sending', 0)} in flight; issue is {report.issue_state}",
        highlight=False,
    )
    if report.requeued:
        console.print(f"{report.requeued} failed delivery(ies) were queued again", highlight=False)
    _print_undelivered(report, rt.settings)


def _print_undelivered(report: Any, settings: Any) -> None:
    """One line per reason class, then exit 3, so cron and operators notice mail that did not go out."""
    if not report.undelivered_count:
        return
    for kind, reasons in sorted(report.undelivered.items()):
        for reason, n in sorted(reasons.items(), key=lambda r: -r[1]):
            console.print(f"undelivered: {n} {kind}: {reason}", highlight=False)
    pending = report.counts.get("pending", 0)
    if pending:
        when = (f"from {report.next_retry.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}" if report.next_retry else "soon")
        console.print(f"{pending} delivery(ies) wait for a retry {when}: the scheduler's retry job or "
                      "`newsletter send` again picks them up", highlight=False)
    if report.counts.get("failed", 0):
        console.print(f"{report.counts['failed']} delivery(ies) failed; `newsletter send ISSUE --retry-failed` "
                      "queues those of still-subscribed readers again", highlight=False)
    sys.exit(3)


@main.group()
def subscribers() -> None:
    """Import and export subscribers (the suppression list always wins)."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=None, help='how these people consented, e.g. "conference sign-up sheet 2026-10"')
@pass_runtime
def subscribers_import(rt: Runtime, file: Path, source: str | None) -> None:
    """Import subscribers from a CSV FILE (column email required; the export's columns optional). All or nothing."""
    from newsletter.delivery.service import import_subscribers
    from newsletter.delivery.subscriber_csv import CsvRefused

    rt.migrate()
    try:
        with rt.session() as session:
            report = import_subscribers(session, file, source=source, settings=rt.settings)
    except CsvRefused as exc:
        console.print(f"[red]{file.name}: nothing imported[/red] ({len(exc.errors)} problem(s))", highlight=False)
        for line in exc.errors:
            console.print(f"  {line}", markup=False, highlight=False)
        sys.exit(1)
    for line in report.notes:
        console.print(f"  {line}", markup=False, highlight=False)
    console.print(f"{file.name}: {report.created} imported, {report.existing} already subscribed, "
                  f"{report.suppressed} suppressed", highlight=False)


@subscribers.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_runtime
def subscribers_export(rt: Runtime, file: Path | None) -> None:
    """Write all subscribers as CSV to FILE (or stdout); it imports back, suppressions included."""
    from newsletter.delivery.service import export_subscribers

    rt.migrate()
    with rt.session() as session:
        data = export_subscribers(session)
    if file is None:
        click.echo(data, nl=False)
    else:
        file.write_text(data, encoding="utf-8")
        console.print(f"{data.count(chr(10)) - 1} subscriber(s) written to {file}")


@main.group()
def bounces() -> None:
    """Bounce handling."""


@bounces.command("process")
@click.argument("file", required=False, type=click.File("rb"))
@click.option("--imap", is_flag=True, help="read unseen messages from NEWSLETTER_IMAP_URL instead of a file")
@pass_runtime
def bounces_process(rt: Runtime, file: Any, imap: bool) -> None:
    """Apply bounces (RFC 3464 and Exim, qmail, Postfix, webmail formats), spam complaints (ARF) and
    mailto unsubscribes from FILE, - (stdin) or --imap; mbox files work too."""
    from newsletter.delivery.bounces import ImapError, imap_mailbox, split_messages
    from newsletter.delivery.service import process_bounces

    if imap == (file is not None):
        raise click.UsageError("give either FILE (or - for stdin) or --imap")
    rt.migrate()
    try:
        if imap:
            with imap_mailbox(rt.settings) as box:
                messages = box.fetch_unseen()
                with rt.session() as session:
                    report = process_bounces(session, messages, settings=rt.settings)
                box.mark_seen()
        else:
            with rt.session() as session:
                report = process_bounces(session, split_messages(file.read()), settings=rt.settings)
    except ImapError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.details:
        console.print(f"  {line}", markup=False, highlight=False)
    console.print(f"{report.messages} message(s): {report.hard} hard bounce(s), {report.soft} soft, "
                  f"{report.duplicates} already counted, {report.unknown} unknown recipient(s), "
                  f"{report.unsubscribed} unsubscribe request(s), {report.complaints} complaint(s), {report.ignored} ignored; "
                  f"{report.bounced_subscribers} subscriber(s) now bounced", highlight=False)


# ---- render


@main.command("render")
@click.argument("issue_ref", metavar="ISSUE")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="folder to write into  [default: <data dir>/render/<period>, or <period>/<lang> for --lang]")
@click.option("--lang", "lang", metavar="LANG",
              help="one edition (a language of NEWSLETTER_LANGUAGES)  [default: the default edition]")
@pass_runtime
def render_cmd(rt: Runtime, issue_ref: str, out_dir: Path | None, lang: str | None) -> None:
    """Render ISSUE (2026-W47, a number or latest) to email.html, email.txt, subject.txt, index.html, issue.json, issue.pdf.

    A sent or published issue is rendered from its frozen snapshot; a draft from its current state
    (with --lang, an item not yet translated shows in the original, flagged, as readers would see it).
    Nothing is published: the archive changes only with `newsletter publish`.
    """
    from newsletter.flows.issues import preview_ref
    from newsletter.issues.errors import ConsentViolation, IssueError, NoSections
    from newsletter.render import InvalidSnapshot, RenderError

    if lang is not None and lang not in rt.settings.editions:
        raise click.BadParameter(f"{lang!r} is not an edition; NEWSLETTER_LANGUAGES lists "
                                 f"{', '.join(rt.settings.editions)}", param_hint="--lang")
    rt.migrate()
    try:
        result = preview_ref(rt, issue_ref, pdf=True, lang=lang)
    except (IssueError, ConsentViolation, NoSections, InvalidSnapshot, RenderError) as exc:
        raise click.ClickException(str(exc)) from None
    rendered, period, frozen = result.rendered, result.period, result.frozen
    default_out = rt.settings.data_dir / "render" / period
    if lang is not None and lang != rt.settings.default_language:
        default_out = default_out / lang
    out = rendered.write(out_dir or default_out)
    for warning in rendered.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    size = len(rendered.email_html.encode()) / 1024
    edition = f" {lang} edition" if lang else ""
    console.print(f"issue {period}{edition} ({'frozen snapshot' if frozen else 'draft, not frozen'}) rendered to {out}/: "
                  f"email.html {size:.0f} KB, email.txt, subject.txt, index.html, issue.json"
                  + (f", issue.pdf {len(rendered.pdf) / 1024:.0f} KB" if rendered.pdf is not None else ""), highlight=False)
    if rendered.pdf_skipped:
        console.print(f"[yellow]issue.pdf skipped:[/yellow] {rendered.pdf_skipped}", highlight=False)


# ---- collect


@main.command()
@click.option("--sources", "sources_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="sources file (default: NEWSLETTER_SOURCES, feeds/sources.toml)")
@click.option("--all", "force_all", is_flag=True, help="fetch every enabled feed, not only those due")
@pass_runtime
def collect(rt: Runtime, sources_file: Path | None, force_all: bool) -> None:
    """Fetch due (or all) feeds now, with progress; one failing feed never stops the others."""
    from newsletter.collect.display import print_report
    from newsletter.collect.service import run_collect
    from newsletter.db import DatabaseUnavailable

    rt.migrate()
    try:
        if console.is_terminal:
            report = _collect_with_bar(rt, sources_file, force_all)
        else:  # cron, a pipe: a transient bar would show nothing (its refresh thread cost ~0.8 s of CPU a run)
            report = run_collect(rt, force_all=force_all, sources_file=sources_file)
    except DatabaseUnavailable as exc:
        console.print(f"[red]collect stopped:[/red] {exc}; feeds not stored yet are due again at once",
                      highlight=False)
        sys.exit(1)
    print_report(console, report)
    if report.all_failed:
        console.print(f"[red]error:[/red] all {len(report.outcomes)} feed(s) tried failed, nothing was collected "
                      "(reasons above)", highlight=False)
        sys.exit(1)


def _collect_with_bar(rt: Runtime, sources_file: Path | None, force_all: bool) -> Any:
    """run_collect under a transient progress bar (a terminal only: rich.progress is not even imported for cron)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from newsletter.collect.service import run_collect

    columns = (TextColumn("collecting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def advance(done: int, total: int, outcome: object) -> None:
            bar.update(task, completed=done, total=total, description=getattr(outcome, "name", "")[:40])

        return run_collect(rt, force_all=force_all, sources_file=sources_file, progress=advance)


@main.group(invoke_without_command=True)
@click.pass_context
def feeds(ctx: click.Context) -> None:
    """List feeds with their health (last success, last error, errors, next check, entries in 7 days)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(feeds_list)


@feeds.command("list")
@pass_runtime
def feeds_list(rt: Runtime) -> None:
    """List feeds with their health."""
    from rich.console import Console as _Console

    from newsletter.collect.display import health_table
    from newsletter.collect.health import feed_health

    rt.migrate()
    with rt.session() as session:
        rows = feed_health(session)
    _Console(width=max(160, console.width)).print(health_table(rows))


@feeds.command("sync")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False, path_type=Path),
              help="sources file (default: NEWSLETTER_SOURCES, feeds/sources.toml)")
@pass_runtime
def feeds_sync(rt: Runtime, sources_file: Path | None) -> None:
    """Load the sources file into the database; bad entries are reported by name and field, the rest synced."""
    from newsletter.collect.service import SourcesFileError, sync_file

    rt.migrate()
    try:
        synced = sync_file(rt, sources_file or rt.settings.sources)
    except SourcesFileError as exc:
        raise click.ClickException(str(exc)) from None
    from rich.markup import escape

    for line in synced.errors:
        console.print(f"[red]error[/red] {escape(line)}", highlight=False)
    console.print(f"{len(synced)} feed(s) synced, {len(synced.errors)} problem(s)", highlight=False)
    if synced.errors:
        sys.exit(1)


@feeds.command("enable")
@click.argument("name")
@pass_runtime
def feeds_enable(rt: Runtime, name: str) -> None:
    """Re-enable a feed the collector disabled (e.g. after HTTP 410 Gone)."""
    from newsletter.collect.health import enable_source

    rt.migrate()
    try:
        with rt.session() as session:
            enable_source(session, name)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"feed {name!r} enabled; it is checked on the next collect", highlight=False)


# ---- submissions


@main.group()
def tokens() -> None:
    """API tokens for partner tools posting to /api/incidents."""


@tokens.command("create")
@click.argument("name")
@pass_runtime
def tokens_create(rt: Runtime, name: str) -> None:
    """Create a token for the tool NAME; the token is printed once, on stdout."""
    from newsletter.submissions.tokens import TokenError, create_token

    rt.migrate()
    try:
        with rt.session() as session:
            token, plaintext = create_token(session, name=name, actor="cli")
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"token {token.id} created for {name!r}; it is shown only now:", highlight=False)
    click.echo(plaintext)


@tokens.command("list")
@pass_runtime
def tokens_list(rt: Runtime) -> None:
    """List tokens (never their values): id, name, created, last used, revoked."""
    from newsletter.submissions.tokens import list_tokens

    rt.migrate()
    with rt.session() as session:
        rows = list_tokens(session)
        for t in rows:
            used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never used"
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            click.echo(f"{t.id}\t{t.name}\tcreated {t.created_at:%Y-%m-%d}\t{used}\t{state}")
    if not rows:
        console.print("no API tokens yet: newsletter tokens create NAME")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@pass_runtime
def tokens_revoke(rt: Runtime, token_id: int) -> None:
    """Revoke token TOKEN_ID at once (see `newsletter tokens list`)."""
    from newsletter.submissions.tokens import TokenError, revoke_token

    rt.migrate()
    try:
        with rt.session() as session:
            token = revoke_token(session, token_id, actor="cli")
            name = token.name
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"token {token_id} ({name!r}) revoked", highlight=False)


# ---- issues


@main.command()
@click.option("--period", metavar="PERIOD", help="ISO week such as 2026-W47  [default: the running week or fortnight]")
@pass_runtime
def draft(rt: Runtime, period: str | None) -> None:
    """Assemble the period's draft issue from its accepted incidents (safe to run again)."""
    from newsletter.flows.issues import draft as draft_flow
    from newsletter.issues.errors import IssueError, NoSections, PeriodError

    rt.migrate()
    try:
        with rt.session() as session:
            issue = draft_flow(session, settings=rt.settings, period=period, actor="cli")
            line = (f"issue {issue.number} ({issue.period}, {issue.period_start:%d %b} – {issue.period_end:%d %b %Y}): "
                    f"{len(issue.items)} items, {issue.state}")
    except (IssueError, PeriodError, NoSections) as exc:
        raise click.ClickException(str(exc)) from None
    console.print(line, highlight=False)


@main.command("issues")
@pass_runtime
def issues_list(rt: Runtime) -> None:
    """List issues, newest first: number, period, state, items, approvals, publication."""
    from newsletter.issues.service import list_issues

    rt.migrate()
    with rt.session() as session:
        rows = list_issues(session)
        for i in rows:
            approvals = sum(x is not None for x in (i.approved_by_id, i.second_approved_by_id))
            # In the organisation's zone, as the desk takes and shows times, with the zone said.
            tz = rt.settings.tz
            when = (f"published {i.published_at.astimezone(tz):%Y-%m-%d %H:%M %Z}" if i.published_at
                    else f"scheduled {i.scheduled_for.astimezone(tz):%Y-%m-%d %H:%M %Z}" if i.scheduled_for
                    else "not published")
            click.echo(f"{i.number}\t{i.period}\t{i.state}\t{len(i.items)} items\t{approvals} approval(s)\t{when}\t{i.title}")
    if not rows:
        console.print("no issues yet: newsletter draft")


@main.command()
@click.argument("issue_ref", metavar="ISSUE")
@click.option("--user", "email", required=True, metavar="EMAIL", help="the editor who signs the issue off")
@pass_runtime
def approve(rt: Runtime, issue_ref: str, email: str) -> None:
    """Sign ISSUE off as editor EMAIL (a second editor too when NEWSLETTER_REQUIRE_SECOND_APPROVAL is on)."""
    from newsletter.flows.issues import approve_as
    from newsletter.issues.errors import ConsentViolation, IssueError

    rt.migrate()
    try:
        with rt.session() as session:
            issue, user = approve_as(session, issue_ref, email=email, settings=rt.settings)
            line = (f"issue {issue.number} approved by {user.email}" if issue.state == "approved"
                    else f"issue {issue.number}: first approval by {user.email}; a second editor must approve too")
    except (IssueError, ConsentViolation) as exc:
        raise click.ClickException(str(exc)) from None
    console.print(line, highlight=False)


@main.command()
@click.argument("issue_ref", metavar="ISSUE")
@pass_runtime
def publish(rt: Runtime, issue_ref: str) -> None:
    """Freeze ISSUE's snapshot (consent applied) and write it into the static archive with the index and feed."""
    from sqlalchemy.exc import OperationalError

    from newsletter.flows.issues import pdf_note
    from newsletter.flows.issues import publish as publish_flow
    from newsletter.issues.errors import ConsentViolation, IssueError
    from newsletter.issues.service import resolve_issue
    from newsletter.render import ArchiveWriteError, InvalidSnapshot, RenderError

    rt.migrate()
    try:
        with rt.session() as session:
            issue = resolve_issue(session, issue_ref)
            folder = publish_flow(session, issue, settings=rt.settings, actor="cli")
            number = issue.number
    except (IssueError, ConsentViolation, InvalidSnapshot, RenderError) as exc:
        raise click.ClickException(str(exc)) from None
    except ArchiveWriteError as exc:
        raise click.ClickException(f"not published: {exc}") from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise click.ClickException(f"not published: the database refused the change ({reason}); "
                                   "the archive is unchanged") from None
    console.print(f"issue {number} published to {folder}/ (archive index and feed.xml updated)", highlight=False)
    if (note := pdf_note()) is not None:
        console.print(f"[yellow]{note}[/yellow]", highlight=False)


# ---- translations (XLIFF 2.0 with outside translators)


@main.group("translations")
def translations_group() -> None:
    """Exchange an issue's further editions with translators as XLIFF 2.0."""


@translations_group.command("export")
@click.argument("issue_ref", metavar="ISSUE")
@click.option("--lang", "language", required=True, metavar="LANG", help="a further edition, e.g. ru")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="write here  [default: stdout]")
@pass_runtime
def translations_export(rt: Runtime, issue_ref: str, language: str, out: Path | None) -> None:
    """Write ISSUE's items for translation into LANG as XLIFF 2.0 (originals as source, translations as target)."""
    from newsletter.issues.errors import IssueError
    from newsletter.issues.xliff import export_xliff

    rt.migrate()
    try:
        with rt.session() as session:
            issue, data = export_xliff(session, issue_ref, language, settings=rt.settings)
            number = issue.number
    except IssueError as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    console.print(f"issue {number}: {language} translation file written to {out}", highlight=False)


@translations_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_runtime
def translations_import(rt: Runtime, file: Path) -> None:
    """Apply a translated XLIFF 2.0 FILE to its issue, all or nothing (every problem reported by line)."""
    from newsletter.issues.errors import IssueError
    from newsletter.issues.xliff import ImportRefused, import_xliff

    rt.migrate()
    try:
        with rt.session() as session:
            report = import_xliff(session, file.read_bytes(), settings=rt.settings, actor="cli")
    except ImportRefused as exc:
        console.print(f"[red]{file.name}: nothing imported[/red]")
        for line in exc.errors:
            console.print(f"  {line}", markup=False, highlight=False)
        sys.exit(1)
    except IssueError as exc:
        raise click.ClickException(f"{file.name}: nothing imported: {exc}") from None
    console.print(f"{file.name}: issue {report.issue_number} ({report.language}): {report.units} item(s) updated "
                  f"({report.done} done, {report.draft} draft), {report.unchanged} unchanged", highlight=False)
    if report.stale:
        console.print(f"  {len(report.stale)} item(s) kept as draft: their original changed since the export "
                      f"(items {', '.join(map(str, report.stale))})", highlight=False)
    if report.issue_texts:
        console.print(f"  the issue's texts: {report.issue_texts}"
                      + (" (kept as draft: an original text changed since the export)" if report.issue_texts_stale
                         else ""), highlight=False)


# ---- corrections


@main.group("corrections")
def corrections_group() -> None:
    """Dated corrections of published issues: file, list, notify the readers."""


def _print_notices(reports: list[Any]) -> None:
    """One line per correction; exit 3 (like `send`) when notices failed or wait for a retry."""
    undelivered = 0
    for r in reports:
        c = r.counts
        console.print(f"correction {r.correction_id}: notice {r.sent} sent now, {r.failed} failed, {r.retried} to retry; "
                      f"outbox: {c.get('sent', 0)} sent, {c.get('failed', 0)} failed, {r.remaining} pending",
                      highlight=False)
        undelivered += c.get("failed", 0) + r.remaining
    if undelivered:
        console.print(f"{undelivered} notice(s) not delivered; run `newsletter corrections notify ISSUE` again to retry "
                      "the waiting ones", highlight=False)
        sys.exit(3)


def _notify(rt: Runtime, run: Callable[[], list[Any]]) -> None:
    from newsletter.delivery.message import DkimKeyError
    from newsletter.flows.send import DatabaseUnavailable, SendAborted

    try:
        reports = run()
    except DkimKeyError as exc:
        raise click.ClickException(str(exc)) from None
    except (SendAborted, DatabaseUnavailable) as exc:
        console.print(f"[red]notice stopped:[/red] {exc}", markup=True, highlight=False)
        console.print("nothing is lost: run `newsletter corrections notify ISSUE` to continue where it stopped")
        sys.exit(1)
    except OSError as exc:
        raise click.ClickException(f"the SMTP server refused or could not be reached: {exc}") from None
    _print_notices(reports)


@corrections_group.command("add")
@click.argument("issue_ref", metavar="ISSUE")
@click.option("--incident", "incident_ref", required=True, metavar="ID_OR_EXTERNAL_ID", help="the corrected item's incident")
@click.option("--text", required=True, help="what was wrong and what is right")
@click.option("--notify", is_flag=True, help="then mail the correction once to every reader of the issue")
@pass_runtime
def corrections_add(rt: Runtime, issue_ref: str, incident_ref: str, text: str, notify: bool) -> None:
    """File a dated correction of one item of a published ISSUE (shown in the archive, feed and next issue)."""
    from newsletter.flows import corrections as flow
    from newsletter.issues.errors import IssueError
    from newsletter.render import ArchiveWriteError, InvalidSnapshot, RenderError

    rt.migrate()
    try:
        with rt.session() as session:
            row = flow.file_ref(session, issue_ref, incident_ref=incident_ref, text=text, actor="cli",
                                settings=rt.settings, notify=notify)
            cid, number, period, item = row.id, row.issue.number, row.issue.period, row.item_id
    except (IssueError, InvalidSnapshot, RenderError) as exc:
        raise click.ClickException(str(exc)) from None
    except ArchiveWriteError as exc:
        raise click.ClickException(f"correction not filed: {exc}") from None
    console.print(f"correction {cid} filed on issue {number} ({period}), item {item}; archive updated", highlight=False)
    if notify:
        _notify(rt, lambda: [flow.notify_correction(rt, cid, actor="cli")])


@corrections_group.command("list")
@click.argument("issue_ref", metavar="[ISSUE]", required=False)
@pass_runtime
def corrections_list(rt: Runtime, issue_ref: str | None) -> None:
    """Corrections, oldest first (of ISSUE, or all), with the state of their notices."""
    from newsletter.flows import corrections as flow
    from newsletter.issues.errors import IssueError

    rt.migrate()
    try:
        with rt.session() as session:
            rows = flow.listing(session, issue_ref)
    except IssueError as exc:
        raise click.ClickException(str(exc)) from None
    if not rows:
        console.print("no corrections")
        return
    for r in rows:
        console.print(f"#{r.id}  issue {r.issue_number} ({r.issue_period})  item {r.item_id}  {r.filed_at}  "
                      f"by {r.filed_by}  [{r.notice_state}]", highlight=False, markup=False)
        console.print(f"    {r.headline}: {r.text}", highlight=False, markup=False)


@corrections_group.command("notify")
@click.argument("issue_ref", metavar="ISSUE")
@pass_runtime
def corrections_notify(rt: Runtime, issue_ref: str) -> None:
    """Mail every correction of ISSUE once to each reader it was sent to (safe to run again)."""
    from newsletter.flows import corrections as flow
    from newsletter.issues.errors import IssueError

    rt.migrate()
    try:
        with rt.session() as session:
            flow.listing(session, issue_ref)  # an unknown issue is refused before any mail
    except IssueError as exc:
        raise click.ClickException(str(exc)) from None

    def run() -> list[Any]:
        try:
            return flow.notify_issue(rt, issue_ref, actor="cli")
        except IssueError as exc:
            raise click.ClickException(str(exc)) from None

    _notify(rt, run)


# ---- scheduler


@main.command("scheduler")
@click.option("--lease-seconds", default=60.0, show_default=True, type=click.FloatRange(min=3),
              help="how long the active scheduler's lease lasts; a waiting one takes over this long after it dies")
@pass_runtime
def scheduler_cmd(rt: Runtime, lease_seconds: float) -> None:
    """Run the recurring jobs: collect, weekly draft, scheduled sends, retries, bounces, editors' digest.

    Start one per machine if you like: only one is active (a lease in the database); the others
    wait and take over when it stops. Stop with SIGTERM or Ctrl-C.
    """
    from newsletter.scheduler import Scheduler

    rt.migrate()
    Scheduler(rt, lease_seconds=lease_seconds).run()


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--check", is_flag=True, help="exit with status 1 when something needs attention (for monitoring)")
@pass_runtime
def status_cmd(rt: Runtime, as_json: bool, check: bool) -> None:
    """Source health, reports waiting for triage, the outbox, and the next and last run of every job."""
    import json

    from newsletter.db import utcnow
    from newsletter.cli_display import print_status
    from newsletter.flows.status import gather

    rt.migrate()
    status = gather(rt, now=utcnow())
    if as_json:
        click.echo(json.dumps(status.as_dict(), indent=2))
    else:
        print_status(Console(), status, rt.settings.tz)
    if check and status.problems:
        sys.exit(1)


@main.command("backup")
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@pass_runtime
def backup_cmd(rt: Runtime, dest: Path | None) -> None:
    """Copy the SQLite database consistently (while it is in use) to DEST  [default: <data dir>/backups/]."""
    from newsletter.backup import BackupError, backup_sqlite

    try:
        path = backup_sqlite(rt.settings, dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"backup written to {path} ({path.stat().st_size / 1e6:.1f} MB)", highlight=False)


@main.group("jobs")
def jobs_group() -> None:
    """The scheduler's jobs; each also runs by hand."""


@jobs_group.command("list")
@pass_runtime
def jobs_list(rt: Runtime) -> None:
    """Every job with its schedule, next run and last outcome."""
    from newsletter.db import utcnow
    from newsletter.cli_display import print_jobs
    from newsletter.flows.status import gather

    rt.migrate()
    status = gather(rt, now=utcnow())
    print_jobs(Console(), status.jobs, rt.settings.tz, status.now)


@jobs_group.command("run")
@click.argument("name")
@pass_runtime
def jobs_run(rt: Runtime, name: str) -> None:
    """Run job NAME now (collect, draft, send, retry, duplicates, bounces, digest, housekeeping), recorded like a scheduled run."""
    from newsletter.flows.jobs import JOBS, run_by_hand

    if name not in JOBS:
        raise click.ClickException(f"no job named {name!r}; the jobs are: {', '.join(JOBS)}")
    rt.migrate()
    result = run_by_hand(rt, name)
    console.print(f"job {name} {result.outcome} in {result.seconds:.1f}s: {result.detail}", markup=False, highlight=False)
    if result.outcome == "error":
        sys.exit(1)
