"""The delivery commands end to end: subscribers import/export, bounces process, send and send --to."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from newsletter.delivery.service import message_id
from newsletter.flows.send import run_send
from newsletter.models import Delivery, Issue, Subscriber, Suppression
from tests.delivery.helpers import add_subscribers, make_issue, recording_smtp

DSN = (Path(__file__).parent / "data" / "postfix_dsn.eml").read_text()


def flat(result) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def dsn(recipient: str, message_id: str = "<unknown@elsewhere>", *, action: str = "failed", status: str = "5.1.1") -> str:
    return (DSN.replace("{RECIPIENT}", recipient).replace("{MESSAGE_ID}", message_id)
            .replace("{ACTION}", action).replace("{STATUS}", status))


def test_import_never_overrides_suppression_and_keeps_existing(cli, session, tmp_path) -> None:
    session.add(Suppression(email="left@example.org", reason="unsubscribed"))
    add_subscribers(session, 1)
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "email,name,language\n"
        "anna@example.org,Anna,ru\n"
        "LEFT@example.org,Left,en\n"
        "reader0@example.org,Already,en\n"
        "clara@example.org,Clara,\n",
        encoding="utf-8",
    )
    result = cli("subscribers", "import", str(csv_file), "--source", "conference sheet 2026-10")
    out = flat(result)
    assert "line 3: left@example.org is on the suppression list" in out
    assert "2 imported, 1 already subscribed, 1 suppressed" in out
    rows = {s.email: s for s in session.scalars(select(Subscriber))}
    assert set(rows) == {"anna@example.org", "clara@example.org", "reader0@example.org"}
    assert rows["anna@example.org"].state == "confirmed" and rows["anna@example.org"].language == "ru"
    assert rows["anna@example.org"].consent_source == "conference sheet 2026-10"
    assert rows["clara@example.org"].consent_at is not None and rows["clara@example.org"].language == "en"
    assert rows["reader0@example.org"].name is None, "an existing subscriber is left as it is"


def test_import_without_email_column_says_so(cli, session, tmp_path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("mail,name\na@example.org,A\n")
    out = flat(cli("subscribers", "import", str(f), expect=1))
    assert "no 'email' column" in out
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_export_imports_back_with_suppressions(cli, session, tmp_path, runtime) -> None:
    add_subscribers(session, 2)
    add_subscribers(session, 1, state="unsubscribed", prefix="gone")
    session.add(Suppression(email="gone0@example.org", reason="unsubscribed"))
    session.flush()
    out_file = tmp_path / "subs.csv"
    cli("subscribers", "export", str(out_file))
    text = out_file.read_text()
    assert text.splitlines()[0].startswith("email,name,language,state,consent_source")
    assert cli("subscribers", "export").stdout == text
    # A fresh database receives the export: the unsubscribed reader stays suppressed.
    session.execute(Delivery.__table__.delete())
    session.execute(Subscriber.__table__.delete())
    session.execute(Suppression.__table__.delete())
    cli("subscribers", "import", str(out_file))
    states = dict(session.execute(select(Subscriber.email, Subscriber.state)).all())
    assert states == {"reader0@example.org": "confirmed", "reader1@example.org": "confirmed", "gone0@example.org": "unsubscribed"}
    assert session.scalar(select(Suppression.email)) == "gone0@example.org"


def test_bounces_from_file_and_stdin(cli, session, make_runtime, tmp_path) -> None:
    with recording_smtp(keep_raw=False) as (url, _sink):
        rt = make_runtime(smtp_url=url, bounce_threshold=2)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 3)
        run_send(rt, issue)
    d = session.scalar(select(Delivery).join(Subscriber).where(Subscriber.email == "reader0@example.org"))
    f = tmp_path / "bounce.eml"
    f.write_text(dsn("reader0@example.org", d.message_id))
    out = flat(cli("bounces", "process", str(f)))
    assert "1 hard bounce(s)" in out and "0 subscriber(s) now bounced" in out
    session.expire_all()
    assert session.get(Delivery, d.id).state == "bounced"
    sub = session.scalar(select(Subscriber).where(Subscriber.email == "reader0@example.org"))
    assert sub.bounce_count == 1 and sub.state == "confirmed"
    # The same DSN again (e.g. a re-read mailbox) is not counted twice.
    assert "1 already counted" in flat(cli("bounces", "process", str(f)))
    # A second hard bounce, from stdin, without our Message-ID: matched by address, reaches the threshold.
    out = flat(cli("bounces", "process", "-", input=dsn("Reader0@example.org")))
    assert "1 subscriber(s) now bounced" in out
    session.expire_all()
    sub = session.scalar(select(Subscriber).where(Subscriber.email == "reader0@example.org"))
    assert sub.state == "bounced" and sub.bounce_count == 2
    assert session.scalar(select(Suppression.reason).where(Suppression.email == sub.email)) == "bounced"


def test_bounce_mbox_soft_forged_and_mailto_unsubscribe(cli, session, settings, tmp_path) -> None:
    issue = make_issue(session)
    add_subscribers(session, 2)
    token = session.scalar(select(Subscriber.token).where(Subscriber.email == "reader1@example.org"))
    forged = message_id(settings, issue.id, issue.period, 999).replace(">", "").rsplit(".", 1)[0] + ".000000000000@x>"
    mbox = (
        "From MAILER-DAEMON Sun Nov 22 10:00:00 2026\n" + dsn("reader0@example.org", action="delayed", status="4.4.1")
        + "\nFrom MAILER-DAEMON Sun Nov 22 10:00:01 2026\n" + dsn("stranger@example.net", forged)
        + "\nFrom reader1@example.org Sun Nov 22 10:00:02 2026\n"
        + f"From: reader1@example.org\nTo: news@example.org\nSubject: unsubscribe {token}\n\n\n"
        + "From x@example.org Sun Nov 22 10:00:03 2026\nFrom: x@example.org\nSubject: hello\n\nhi\n"
    )
    f = tmp_path / "bounces.mbox"
    f.write_text(mbox)
    out = flat(cli("bounces", "process", str(f)))
    assert "4 message(s)" in out and "1 soft" in out and "1 unknown recipient(s)" in out
    assert "1 unsubscribe request(s)" in out and "1 ignored" in out
    states = dict(session.execute(select(Subscriber.email, Subscriber.state)).all())
    assert states == {"reader0@example.org": "confirmed", "reader1@example.org": "unsubscribed"}


def test_bounces_needs_a_source(cli) -> None:
    result = cli("bounces", "process", expect=2)
    assert "give either FILE" in flat(result)


def test_send_command_and_test_send(cli, session, make_runtime) -> None:
    with recording_smtp() as (url, sink):
        make_runtime(smtp_url=url)
        issue = make_issue(session)
        add_subscribers(session, 5)
        out = flat(cli("send", "2026-W47", "--to", "Editor@Example.org", "--to", "second@example.org"))
        assert "test of issue 1 (2026-W47) sent to editor@example.org, second@example.org" in out
        assert sorted(r for r, _ in sink.seen) == ["editor@example.org", "second@example.org"]
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        session.expire_all()
        assert session.get(Issue, issue.id).state == "approved"
        from email import message_from_bytes
        assert message_from_bytes(sink.raw[0])["Subject"].startswith("[TEST] ")
        out = flat(cli("send", "latest"))
        assert "5 sent now" in out and "issue is sent" in out
        assert len(sink.seen) == 7
        assert "0 sent now" in flat(cli("send", "1"))
    assert "no issue for" in flat(cli("send", "2030-W01", expect=1))
    assert "is not an email address" in flat(cli("send", "1", "--to", "nope", expect=1))


def test_send_refuses_a_draft(cli, session) -> None:
    make_issue(session, state="draft", frozen=False)
    assert "must approve it" in flat(cli("send", "1", expect=1))


def test_bounces_from_an_imap_mailbox(cli, session, monkeypatch) -> None:
    from tests.delivery.imap_server import Mailbox, imap_server

    add_subscribers(session, 2)
    token = session.scalar(select(Subscriber.token).where(Subscriber.email == "reader1@example.org"))
    box = Mailbox("bounces@example.org", "s3cret pass", {
        7: dsn("reader0@example.org").encode(),
        9: f"From: reader1@example.org\r\nSubject: unsubscribe {token}\r\n\r\n".encode(),
    })
    with imap_server(box) as port:
        monkeypatch.setenv("NEWSLETTER_IMAP_URL", f"imap://bounces%40example.org:s3cret%20pass@127.0.0.1:{port}/INBOX")
        out = flat(cli("bounces", "process", "--imap"))
        assert "2 message(s): 1 hard bounce(s)" in out and "1 unsubscribe request(s)" in out
        assert box.seen == {7, 9} and box.logins == 1
        assert "0 message(s)" in flat(cli("bounces", "process", "--imap"))  # seen messages are not read again
        monkeypatch.setenv("NEWSLETTER_IMAP_URL", f"imap://bounces%40example.org:wrong@127.0.0.1:{port}/INBOX")
        out = flat(cli("bounces", "process", "--imap", expect=1))
        assert "IMAP error from 127.0.0.1" in out and "wrong" not in out
    states = dict(session.execute(select(Subscriber.email, Subscriber.state)).all())
    assert states == {"reader0@example.org": "bounced", "reader1@example.org": "unsubscribed"}
