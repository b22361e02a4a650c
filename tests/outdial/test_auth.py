"""Users, passwords, tokens and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from outdial import auth
from outdial.errors import AuthError, Conflict, InvalidInput, NotFound
from outdial.models import utcnow
from outdial.roles import Role


def test_password_is_hashed_with_argon2(engine: Engine) -> None:
    auth.create_user(engine, "li.na", "correct horse", Role.AGENT)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert auth.authenticate(engine, "li.na", "correct horse").role == "agent"


def test_wrong_password_unknown_user_and_disabled_are_refused(engine: Engine) -> None:
    auth.create_user(engine, "wang", "password-1", Role.MANAGER)
    with pytest.raises(AuthError, match="wrong username or password"):
        auth.authenticate(engine, "wang", "password-2")
    with pytest.raises(AuthError, match="wrong username or password"):
        auth.authenticate(engine, "nobody", "password-1")
    auth.set_disabled(engine, "wang")
    with pytest.raises(AuthError, match="wrong username or password"):
        auth.authenticate(engine, "wang", "password-1")


def test_user_validation(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="role"):
        auth.create_user(engine, "x", "password-1", "boss")
    with pytest.raises(InvalidInput, match="at least"):
        auth.create_user(engine, "x", "short", Role.AGENT)
    with pytest.raises(InvalidInput, match="username"):
        auth.create_user(engine, "bad name!", "password-1", Role.AGENT)
    auth.create_user(engine, "x", "password-1", Role.AGENT)
    with pytest.raises(Conflict):
        auth.create_user(engine, "x", "password-2", Role.AGENT)
    with pytest.raises(NotFound):
        auth.set_disabled(engine, "nobody")


def test_token_is_stored_hashed_and_revocable(engine: Engine) -> None:
    auth.create_user(engine, "crm", "password-1", Role.MANAGER)
    token, secret = auth.create_token(engine, "crm", "order system")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert secret not in stored and len(stored) == 64
    ident = auth.resolve_token(engine, secret)
    assert ident is not None and ident.username == "crm" and ident.via == "token"
    assert auth.resolve_token(engine, secret + "x") is None
    assert token.id is not None
    auth.revoke_token(engine, token.id)
    assert auth.resolve_token(engine, secret) is None
    auth.revoke_token(engine, token.id)  # idempotent


def test_token_of_disabled_user_stops_working(engine: Engine) -> None:
    auth.create_user(engine, "crm", "password-1", Role.MANAGER)
    _, secret = auth.create_token(engine, "crm", "t")
    auth.set_disabled(engine, "crm")
    assert auth.resolve_token(engine, secret) is None


def test_session_expires_and_ends(engine: Engine) -> None:
    user = auth.create_user(engine, "a1", "password-1", Role.AGENT)
    secret, csrf = auth.create_session(engine, user, hours=1)
    ident = auth.resolve_session(engine, secret)
    assert ident is not None and ident.csrf_token == csrf and ident.role is Role.AGENT
    assert auth.resolve_session(engine, secret, now=utcnow() + timedelta(hours=2)) is None
    assert auth.resolve_session(engine, secret) is None  # the expired row is gone
    secret, _ = auth.create_session(engine, user, hours=1)
    auth.end_session(engine, secret)
    assert auth.resolve_session(engine, secret) is None


def test_disabling_a_user_ends_their_sessions(engine: Engine) -> None:
    user = auth.create_user(engine, "a1", "password-1", Role.AGENT)
    secret, _ = auth.create_session(engine, user, hours=1)
    auth.set_disabled(engine, "a1")
    assert auth.resolve_session(engine, secret) is None
