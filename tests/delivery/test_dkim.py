"""DKIM signatures made with OpenSSL over dkimpy's canonicalisation: dkimpy and OpenDKIM both verify them."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from newsletter.config import SettingsError, load_settings
from newsletter.delivery.dkim import DkimKeyError, DkimSigner, load_private_key
from newsletter.delivery.message import MessageFactory, Recipient
from newsletter.render import render_email
from tests.delivery.helpers import snapshot

VERIFY = Path(__file__).parents[1] / "support" / "opendkim_verify.py"


def _rsa_key(tmp_path: Path, bits: int = 2048) -> tuple[Path, str]:
    """A key as `openssl genrsa` makes it for a real selector, and its DNS TXT record."""
    path = tmp_path / f"rsa{bits}.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(path), str(bits)], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"], check=True,
                            capture_output=True).stdout
    return path, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()


def _ed25519_key(tmp_path: Path) -> tuple[Path, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "ed25519.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return path, "v=DKIM1; k=ed25519; p=" + base64.b64encode(raw).decode()


@pytest.fixture
def signed_issue(settings_env, monkeypatch, tmp_path: Path) -> tuple[list[bytes], dict[str, str]]:
    """Real issue mails (non-ASCII subject, folded List-Unsubscribe) signed with RSA and Ed25519."""
    rsa_path, rsa_record = _rsa_key(tmp_path)
    ed_path, ed_record = _ed25519_key(tmp_path)
    monkeypatch.setenv("NEWSLETTER_DKIM_KEY_FILE", str(rsa_path))
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "news2026")
    monkeypatch.setenv("NEWSLETTER_DKIM_DOMAIN", "example.org")
    monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_KEY_FILE", str(ed_path))
    monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_SELECTOR", "ed2026")
    settings = load_settings()
    factory = MessageFactory(render_email(snapshot(), settings), settings)
    messages = [factory.build(Recipient(f"reader{i}@example.org", name, f"{i}" * 43), f"<w47.{i}@example.org>")
                for i, name in enumerate([None, "Анна Петрова", "A very long reader name " * 4])]
    records = {"news2026._domainkey.example.org": rsa_record, "ed2026._domainkey.example.org": ed_record}
    return messages, records


def _dns(records: dict[str, str]):  # noqa: ANN202 - dkimpy's dnsfunc
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        return records[name.decode().rstrip(".")].encode()
    return lookup


def test_dkimpy_verifies_both_signatures(signed_issue) -> None:
    messages, records = signed_issue
    for raw in messages:
        assert raw.count(b"DKIM-Signature:") == 2
        verifier = dkim.DKIM(raw)
        assert verifier.verify(idx=0, dnsfunc=_dns(records)), "Ed25519 signature"
        assert verifier.verify(idx=1, dnsfunc=_dns(records)), "RSA signature"
        assert b"a=ed25519-sha256" in raw.split(b"DKIM-Signature:")[1]
        assert b"a=rsa-sha256" in raw.split(b"DKIM-Signature:")[2]


def test_a_changed_byte_breaks_the_signature(signed_issue) -> None:
    messages, records = signed_issue
    raw = messages[0]
    for tampered in (raw.replace(b"reader0@", b"reader9@"),  # a signed header
                     raw.replace(b"Weekly", b"Weakly", 1) if b"Weekly" in raw else raw[:-40] + b"X" + raw[-39:]):
        assert tampered != raw
        assert not dkim.verify(tampered, dnsfunc=_dns(records))


def _opendkim(raw: bytes, records: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    result = subprocess.run(["unshare", "-n", "-m", sys.executable, str(VERIFY), str(path)],
                            input=raw, capture_output=True, timeout=60)
    return result.returncode, (result.stdout + result.stderr).decode(errors="replace")


def test_opendkim_verifies_each_signature(signed_issue, tmp_path: Path) -> None:
    """OpenDKIM's library (what milters at receiving servers use) accepts the RSA signature alone,
    the Ed25519 one alone, and both; without the keys in DNS or with one changed byte it does not."""
    if shutil.which("opendkim-testmsg") is None:
        pytest.fail("opendkim-testmsg missing: run .ci/run (it installs Debian's opendkim-tools)")
    messages, records = signed_issue
    rsa_only = {k: v for k, v in records.items() if k.startswith("news2026.")}
    ed_only = {k: v for k, v in records.items() if k.startswith("ed2026.")}
    for raw in messages:
        for table in (records, rsa_only, ed_only):
            code, output = _opendkim(raw, table, tmp_path)
            assert code == 0, (sorted(table), output)
    code, output = _opendkim(messages[0], {}, tmp_path)
    assert code != 0 and "Key retrieval failed" in output  # the keys really came from our DNS server
    code, output = _opendkim(messages[0].replace(b"reader0@", b"reader9@"), records, tmp_path)
    assert code != 0 and "Bad signature" in output


def test_keys_are_checked_when_loaded(tmp_path: Path) -> None:
    with pytest.raises(DkimKeyError, match="is not a PEM private key"):
        load_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", source="K")
    short, _ = _rsa_key(tmp_path, bits=512)
    with pytest.raises(DkimKeyError, match="512 bits: too short"):
        DkimSigner.from_files(domain="example.org", selector="s", key_file=short)


def test_an_ed25519_key_goes_beside_an_rsa_one(settings_env, monkeypatch, tmp_path: Path) -> None:
    """Receivers that know only RSA would see an Ed25519-only mail as unsigned: the setting says so."""
    ed_path, _ = _ed25519_key(tmp_path)
    monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_KEY_FILE", str(ed_path))
    monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_SELECTOR", "ed2026")
    with pytest.raises(SettingsError, match="beside the RSA key"):
        load_settings()
