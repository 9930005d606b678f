"""API tokens: plaintext shown once, only a hash stored, revocation takes effect at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.models import ApiToken, AuditLog
from newsletter.submissions.tokens import TokenError, authenticate, create_token, list_tokens, revoke_token


def test_create_stores_only_hash_and_authenticates(session) -> None:
    token, plaintext = create_token(session, name="Telegram bot", actor="cli")
    session.commit()
    assert plaintext.startswith("nlt_") and len(plaintext) > 40
    row = session.get(ApiToken, token.id)
    assert row.token_hash != plaintext and plaintext not in row.token_hash
    assert authenticate(session, plaintext).id == token.id
    assert session.get(ApiToken, token.id).last_used_at is not None
    assert authenticate(session, plaintext + "x") is None
    assert authenticate(session, "") is None
    assert authenticate(session, None) is None
    actions = session.scalars(select(AuditLog.action)).all()
    assert "api_token.create" in actions
    assert all(plaintext not in str(a.changes) for a in session.scalars(select(AuditLog)))


def test_revoke_blocks_token_and_lists_active_first(session) -> None:
    old, old_plain = create_token(session, name="Form service", actor="cli")
    new, new_plain = create_token(session, name="Bot", actor="cli")
    revoke_token(session, old.id, actor="cli")
    first_revoked_at = old.revoked_at
    revoke_token(session, old.id, actor="cli")
    assert old.revoked_at == first_revoked_at
    session.commit()
    assert authenticate(session, old_plain) is None
    assert authenticate(session, new_plain).id == new.id
    assert [t.id for t in list_tokens(session)] == [new.id, old.id]


def test_bad_names_and_unknown_ids_are_refused(session) -> None:
    with pytest.raises(TokenError, match="needs a name"):
        create_token(session, name="  ", actor="cli")
    with pytest.raises(TokenError, match="at most"):
        create_token(session, name="x" * 201, actor="cli")
    with pytest.raises(TokenError, match="no API token with id 999"):
        revoke_token(session, 999, actor="cli")
