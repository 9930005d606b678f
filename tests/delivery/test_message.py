"""The MIME message: structure, headers, per-recipient link, DKIM signature verified by dkimpy."""

from __future__ import annotations

import base64
import re
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest

from newsletter.config import load_settings
from newsletter.delivery.message import PLACEHOLDER, DkimKeyError, MessageFactory, Recipient
from newsletter.render import render_email
from tests.delivery.helpers import snapshot


class Rendered:
    subject = "Weekly monitor: searches in Almaty — № 3"
    text = f"Hello\n\nUnsubscribe: {PLACEHOLDER}\n.\nFrom here on\n"
    html = f'<html><body><p>Hello</p><a href="{PLACEHOLDER}">Unsubscribe</a></body></html>'


def _dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """A fresh 2048-bit test key (as `openssl genrsa` makes for a real selector) and its DNS TXT record."""
    path = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(path), "2048"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"], check=True,
                            capture_output=True).stdout
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_headers_and_structure(settings_env, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_UNSUBSCRIBE_MAILTO", "leave@example.org")
    monkeypatch.setenv("NEWSLETTER_REPLY_TO", "desk@example.org")
    settings = load_settings()
    factory = MessageFactory(Rendered(), settings)
    raw = factory.build(Recipient("anna@example.org", "Anna Ö.", "tok123tok123tok123tok123"), "<w47.1.2.abc@example.org>")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Test Newsletter <news@example.org>"
    assert msg["To"].addresses[0].addr_spec == "anna@example.org"
    assert msg["Subject"] == Rendered.subject
    assert msg["Date"] and msg["Message-ID"] == "<w47.1.2.abc@example.org>"
    assert msg["Reply-To"] == "desk@example.org"
    assert msg["List-Id"] == '"Monitoring Newsletter" <newsletter.example.org>'
    url = "http://127.0.0.1:8000/unsubscribe/tok123tok123tok123tok123"
    assert msg["List-Unsubscribe"] == f"<{url}>, <mailto:leave@example.org?subject=unsubscribe%20tok123tok123tok123tok123>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]  # text first, HTML last
    assert f"Unsubscribe: {url}" in parts[0].get_content()
    assert f'href="{url}"' in parts[1].get_content()
    assert PLACEHOLDER not in parts[0].get_content() + parts[1].get_content()
    assert ".\nFrom here on" in parts[0].get_content().replace("\r\n", "\n")


def test_each_recipient_gets_their_own_link_without_rerendering(settings) -> None:
    rendered = render_email(snapshot(), settings)
    assert PLACEHOLDER in rendered.html and PLACEHOLDER in rendered.text
    factory = MessageFactory(rendered, settings)
    a = message_from_bytes(factory.build(Recipient("a@example.org", None, "A" * 43), "<1@x>"), policy=policy.default)
    b = message_from_bytes(factory.build(Recipient("b@example.org", None, "B" * 43), "<2@x>"), policy=policy.default)
    html_a, html_b = (m.get_body(("html",)).get_content() for m in (a, b))
    assert "/unsubscribe/" + "A" * 43 in html_a and "B" * 43 not in html_a
    assert "/unsubscribe/" + "B" * 43 in html_b
    assert "/unsubscribe/" + "A" * 43 in a.get_body(("plain",)).get_content()
    # No tracking: no remote images, no redirect links, nothing per reader but the unsubscribe link.
    assert not re.search(r"<img[^>]+src=\"https?://", html_a)
    assert html_a.replace("A" * 43, "X") == html_b.replace("B" * 43, "X")


def test_dkim_signature_verifies_and_covers_unsubscribe_headers(settings_env, monkeypatch, tmp_path) -> None:
    key_path, dns_record = _dkim_key(tmp_path)
    monkeypatch.setenv("NEWSLETTER_DKIM_KEY_FILE", str(key_path))
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "news2026")
    monkeypatch.setenv("NEWSLETTER_DKIM_DOMAIN", "example.org")
    factory = MessageFactory(Rendered(), load_settings())
    raw = factory.build(Recipient("anna@example.org", None, "t" * 43), "<1.2.3@example.org>")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news2026._domainkey.example.org."
        return dns_record

    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=dns)
    signature = message_from_bytes(raw)["DKIM-Signature"]
    signed = re.search(r"h=([^;]+)", signature.replace("\r\n", "").replace(" ", "")).group(1).lower().split(":")
    assert {"list-unsubscribe", "list-unsubscribe-post", "list-id", "from", "subject", "to", "message-id"} <= set(signed)
    tampered = raw.replace(b"<http://127.0.0.1:8000/unsubscribe/", b"<https://evil.example/unsubscribe/")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_unreadable_dkim_key_is_a_clear_error(settings_env, monkeypatch, tmp_path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    monkeypatch.setenv("NEWSLETTER_DKIM_KEY_FILE", str(bad))
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "s")
    monkeypatch.setenv("NEWSLETTER_DKIM_DOMAIN", "example.org")
    with pytest.raises(DkimKeyError, match="not a PEM private key"):
        MessageFactory(Rendered(), load_settings())


def test_header_injection_in_names_is_neutralised(settings) -> None:
    factory = MessageFactory(Rendered(), settings)
    raw = factory.build(Recipient("a@example.org", "Eve\r\nBcc: victim@example.org", "t" * 43), "<1@x>")
    msg = message_from_bytes(raw)
    assert msg["Bcc"] is None


def test_piecewise_quoted_printable_decodes_to_the_substituted_body() -> None:
    """The body is encoded once in pieces and joined around each reader's link: same result as encoding it whole."""
    import binascii
    import random

    from newsletter.delivery.message import _qp_piece, _qp_pieces

    rnd = random.Random(20261122)
    alphabet = "ab= \t.ü€\n\r<>\"x"
    for _ in range(2000):
        segments = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 200))) for _ in range(rnd.randint(1, 4))]
        url = "https://news.example.org/unsubscribe/" + "t" * rnd.randint(1, 60)
        pieces, slots = _qp_pieces(PLACEHOLDER.join(segments))
        assert slots == [PLACEHOLDER] * (len(segments) - 1)
        encoded = _qp_piece(url, last=False).join(pieces)
        expected = url.join(segments).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        expected += "" if expected.endswith("\r\n") else "\r\n"
        assert binascii.a2b_qp(encoded).decode() == expected
        lines = encoded.split(b"\r\n")
        assert all(b"\n" not in line and b"\r" not in line for line in lines)
        # 76 per RFC 2045; binascii itself emits 77 when it encodes a blank at the very end of a full line.
        assert max(len(line) for line in lines) <= 77


def test_two_kinds_of_link_are_filled_in_their_own_gaps() -> None:
    """Editions: the unsubscribe link and the "Change language" link, each where its placeholder stood."""
    import binascii

    from newsletter.delivery.message import PREFERENCES_PLACEHOLDER, _fill, _qp_piece, _qp_pieces

    body = f"Read on.\nUnsubscribe: {PLACEHOLDER}\nChange language: {PREFERENCES_PLACEHOLDER}\nAgain: {PLACEHOLDER}\n"
    pieces, slots = _qp_pieces(body)
    assert slots == [PLACEHOLDER, PREFERENCES_PLACEHOLDER, PLACEHOLDER]
    encoded = _fill(pieces, slots, {PLACEHOLDER: _qp_piece("https://x.example/u/t1", last=False),
                                    PREFERENCES_PLACEHOLDER: _qp_piece("https://x.example/preferences/t1", last=False)})
    assert binascii.a2b_qp(encoded).decode() == (
        "Read on.\r\nUnsubscribe: https://x.example/u/t1\r\nChange language: https://x.example/preferences/t1\r\n"
        "Again: https://x.example/u/t1\r\n")


def _dot_unstuff(wire: bytes) -> bytes:
    """What an SMTP server stores from DATA: the final "." line gone, a leading dot of each line removed."""
    assert wire.endswith(b"\r\n.\r\n")
    lines = wire[:-3].split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines)


def test_base64_pieces_decode_to_the_substituted_body() -> None:
    """A base64 part is encoded once in pieces; per reader only the lines around each link are: the result
    decodes to the body with the links in, whatever the links' lengths (any alignment of the 57-byte lines)."""
    import binascii
    import random

    from newsletter.delivery.message import _Base64Pieces

    rnd = random.Random(20261202)
    alphabet = "абв gde.\r\n€üx"
    for _ in range(1500):
        pieces = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 300))).encode()
                  for _ in range(rnd.randint(1, 5))]
        encoder = _Base64Pieces(pieces)
        for _ in range(3):  # the same encoder, links of other lengths (cached alignments)
            links = [("https://x.example/u/" + "t" * rnd.randint(0, 80)).encode() for _ in pieces[1:]]
            encoded = encoder.fill(links)
            expected = pieces[0] + b"".join(link + piece for link, piece in zip(links, pieces[1:]))
            assert binascii.a2b_base64(encoded) == expected
            if not expected:
                assert encoded == b""
                continue
            lines = encoded.split(b"\r\n")
            assert lines[-1] == b"" and all(len(line) == 76 for line in lines[:-2]) and len(lines[-2]) <= 76
            assert b"\n" not in encoded.replace(b"\r\n", b"")


def test_each_part_takes_the_shorter_transfer_encoding(settings) -> None:
    """English stays readable quoted-printable; a Cyrillic edition goes base64 (six bytes a letter in
    quoted-printable, 4/3 of UTF-8 in base64), and both decode to the reader's own links."""
    from tests.render.builders import make_edition, make_snapshot

    issue = make_snapshot(25)
    english = render_email(issue, settings)
    russian = render_email(make_edition(issue, "ru"), settings)
    raws = {}
    for lang, rendered in (("en", english), ("ru", russian)):
        factory = MessageFactory(rendered, settings)
        raws[lang] = raw = factory.build(Recipient("a@example.org", None, "A" * 43), "<1@x>")
        msg = message_from_bytes(raw, policy=policy.default)
        parts = list(msg.iter_parts())
        expected = "quoted-printable" if lang == "en" else "base64"
        assert [p["Content-Transfer-Encoding"] for p in parts] == [expected, expected]
        text, html_part = (p.get_content() for p in parts)
        assert "/unsubscribe/" + "A" * 43 in text and 'href="http://127.0.0.1:8000/unsubscribe/' + "A" * 43 in html_part
        assert PLACEHOLDER not in text + html_part
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert len(raws["ru"]) < 1.7 * len(raws["en"])  # quoted-printable Cyrillic was over twice the size


@pytest.mark.parametrize("dkim_on", [False, True])
def test_wire_form_is_the_message_dot_stuffed(settings_env, monkeypatch, tmp_path, dkim_on) -> None:
    """build_wire stuffs the fixed pieces once per run and the links and headers per reader: unstuffed,
    it is exactly build()'s message (so the DKIM signature made over the plain message verifies)."""
    dotted = type("Dotted", (), {
        "subject": "Dots", "text": f".lead\n..two\n.\n{PLACEHOLDER}\n.after the link {PLACEHOLDER}.\n.",
        "html": f'.<p>x</p>\n.<a href="{PLACEHOLDER}">.</a>\n' + "." * 200 + "\n"})
    if dkim_on:
        key_path, dns_record = _dkim_key(tmp_path)
        monkeypatch.setenv("NEWSLETTER_DKIM_KEY_FILE", str(key_path))
        monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "news2026")
        monkeypatch.setenv("NEWSLETTER_DKIM_DOMAIN", "example.org")
    settings = load_settings()
    from tests.render.builders import make_edition

    for rendered in (dotted(), Rendered(), render_email(snapshot(), settings),
                     render_email(make_edition(snapshot(), "ru"), settings)):
        factory = MessageFactory(rendered, settings)
        recipient = Recipient("anna@example.org", "Anna", "t" * 43)
        wire = factory.build_wire(recipient, "<1.2.3@example.org>")
        plain = _dot_unstuff(wire)
        assert b"\r\n." not in wire.replace(b"\r\n..", b"")[:-3]  # every line starting with a dot is stuffed
        if dkim_on:
            assert dkim.verify(plain, dnsfunc=lambda name, timeout=5: dns_record)
            plain, reference = (re.sub(rb"DKIM-Signature:.*?(?=\r\n\S)", b"", m, flags=re.S)
                                for m in (plain, factory.build(recipient, "<1.2.3@example.org>")))
        else:
            reference = factory.build(recipient, "<1.2.3@example.org>")
        assert plain == reference


def test_message_id_tag_is_the_keyed_hash_for_every_key_and_delivery() -> None:
    """The tag's key is set up once per secret and copied per message; the copy must never carry one
    message's data into the next or mix two secrets (a bounce then would not match its delivery)."""
    import hashlib
    import hmac

    from newsletter.delivery.tokens import message_id_tag

    for secret in ("first-secret-" * 4, "second-secret-" * 4, "first-secret-" * 4):
        for issue_id, delivery_id in ((1, 1), (1, 2), (7, 10_000), (-3, 5)):
            expected = hmac.new(secret.encode(), f"{issue_id}:{delivery_id}".encode(), hashlib.sha256).hexdigest()[:12]
            assert message_id_tag(secret, issue_id, delivery_id) == expected
