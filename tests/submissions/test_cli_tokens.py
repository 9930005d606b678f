"""`newsletter tokens create | list | revoke`."""

from __future__ import annotations

from newsletter.runtime import Runtime
from newsletter.submissions.tokens import authenticate


def test_tokens_cli_round_trip(cli, runtime: Runtime) -> None:
    created = cli("tokens", "create", "Telegram bot")
    plaintext = created.stdout.strip().splitlines()[-1]
    assert plaintext.startswith("nlt_")
    with runtime.session() as s:
        assert authenticate(s, plaintext) is not None
    listing = cli("tokens", "list").stdout
    assert "Telegram bot" in listing and "active" in listing and plaintext not in listing
    token_id = listing.split("\t", 1)[0]
    cli("tokens", "revoke", token_id)
    assert "revoked" in cli("tokens", "list").stdout
    with runtime.session() as s:
        assert authenticate(s, plaintext) is None
    missing = cli("tokens", "revoke", "999", expect=1)
    assert "no API token with id 999" in missing.output
    blank = cli("tokens", "create", " ", expect=1)
    assert "needs a name" in blank.output
