"""Users, passwords, API tokens and login sessions.

Passwords are hashed with argon2id. API tokens and session cookies are
random 256-bit secrets; only their SHA-256 is stored (a secret that strong
needs no slow hash), so a leaked database holds nothing replayable. A session
carries its own CSRF token, echoed by the browser in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from outdial.errors import AuthError, Conflict, InvalidInput, NotFound
from outdial.models import ApiToken, User, WebSession, as_utc, utcnow
from outdial.roles import Role
from outdial.storage import session_scope
from outdial.text import name_problem

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
TOKEN_PREFIX = "od_"
MIN_PASSWORD = 8
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Identity:
    """Who is calling: resolved from a session cookie or an API token."""

    user_id: int
    username: str
    role: Role
    via: str  # "session" or "token"
    csrf_token: str | None = None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: Role | str,
    display_name: str = "",
    sip_uri: str = "",
) -> User:
    if not _USERNAME.match(username):
        raise InvalidInput("username must be 1-64 letters, digits or . _ @ -", field="username")
    for field, value in (("display_name", display_name), ("sip_uri", sip_uri)):
        if name_problem(value):
            raise InvalidInput(f"{field}: {name_problem(value)}", field=field)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", field="password")
    try:
        role = Role(role)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {role!r} (one of {roles})", field="role") from exc
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        display_name=display_name,
        sip_uri=sip_uri,
    )
    try:
        with session_scope(engine) as s:
            s.add(user)
            s.flush()
            s.refresh(user)
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} already exists", username=username) from exc
    return user


def list_users(engine: Engine) -> list[User]:
    with session_scope(engine) as s:
        return list(s.exec(select(User).order_by(col(User.id))))


def get_user(engine: Engine, username: str) -> User:
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"no user {username!r}", username=username)
        return user


def set_disabled(engine: Engine, username: str, disabled: bool = True) -> User:
    """Disable (or re-enable) a user; a disabled user's sessions end at once."""
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"no user {username!r}", username=username)
        user.disabled = disabled
        s.add(user)
        if disabled:
            for ws in s.exec(select(WebSession).where(WebSession.user_id == user.id)):
                s.delete(ws)
        s.flush()
        s.refresh(user)
        return user


def set_team(engine: Engine, username: str, team: str) -> User:
    """Put a user in a team by its name (QA reports group by it); "" takes them out."""
    team = " ".join(team.split())
    if name_problem(team, 64):
        raise InvalidInput(f"team: {name_problem(team, 64)}", field="team")
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"no user {username!r}", username=username)
        user.team = team
        s.add(user)
        s.flush()
        s.refresh(user)
        return user


def teams(engine: Engine) -> list[str]:
    """The team names in use, sorted."""
    with session_scope(engine) as s:
        return sorted(set(s.exec(select(User.team).where(User.team != ""))))


def count_users(engine: Engine) -> int:
    with session_scope(engine) as s:
        return len(list(s.exec(select(User.id))))


def authenticate(engine: Engine, username: str, password: str) -> User:
    """Check a password. The same error for an unknown user and a wrong password."""
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            _hasher.hash(password)  # spend the same time as a real check
            raise AuthError("wrong username or password")
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError) as exc:
            raise AuthError("wrong username or password") from exc
        if user.disabled:  # the same answer: a disabled account's password is not confirmed
            raise AuthError("wrong username or password")
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            s.add(user)
        return user


# --- sessions ----------------------------------------------------------------------------


def create_session(
    engine: Engine, user: User, hours: float, now: datetime | None = None
) -> tuple[str, str]:
    """Start a login session; return (cookie secret, csrf token)."""
    now = now or utcnow()
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    assert user.id is not None
    with session_scope(engine) as s:
        s.add(
            WebSession(
                user_id=user.id,
                token_hash=_sha256(secret),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return secret, csrf


def resolve_session(engine: Engine, secret: str, now: datetime | None = None) -> Identity | None:
    now = now or utcnow()
    with session_scope(engine) as s:
        row = s.exec(
            select(WebSession, User)
            .join(User, col(User.id) == WebSession.user_id)
            .where(WebSession.token_hash == _sha256(secret))
        ).first()
        if row is None:
            return None
        ws, user = row
        if as_utc(ws.expires_at) <= now or user.disabled:
            s.delete(ws)
            return None
        assert user.id is not None
        return Identity(user.id, user.username, Role(user.role), "session", ws.csrf_token)


def end_session(engine: Engine, secret: str) -> None:
    with session_scope(engine) as s:
        for ws in s.exec(select(WebSession).where(WebSession.token_hash == _sha256(secret))):
            s.delete(ws)


# --- API tokens -------------------------------------------------------------------------


def create_token(engine: Engine, username: str, name: str) -> tuple[ApiToken, str]:
    """Create an API token for a user; return (row, secret). The secret is shown once."""
    user = get_user(engine, username)
    if user.disabled:
        raise InvalidInput(f"user {username!r} is disabled", username=username)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    token = ApiToken(
        user_id=user.id, name=name or "token", token_hash=_sha256(secret), prefix=secret[:10]
    )
    with session_scope(engine) as s:
        s.add(token)
        s.flush()
        s.refresh(token)
    return token, secret


#: the name of a token the CLI makes for one command and revokes right after
#: (dialer/cli_campaign.py, issue 16.10): nobody holds its secret.
ONE_SHOT_PREFIX = "cli: "


def list_tokens(
    engine: Engine, user_id: int | None = None, spent_one_shots: bool = True
) -> list[tuple[ApiToken, str]]:
    """Tokens with their owners' names. ``spent_one_shots=False`` leaves out the CLI's
    revoked one-command tokens: an admin reviewing who holds access has nothing to do with
    them (one per ``outdial campaign start``), while a live one (a command killed before it
    revoked its token) is still listed to be revoked."""
    with session_scope(engine) as s:
        q = select(ApiToken, User.username).join(User, col(User.id) == ApiToken.user_id)
        if user_id is not None:
            q = q.where(ApiToken.user_id == user_id)
        if not spent_one_shots:
            q = q.where(
                ~(
                    col(ApiToken.name).startswith(ONE_SHOT_PREFIX)
                    & col(ApiToken.revoked_at).is_not(None)
                )
            )
        return [(t, u) for t, u in s.exec(q.order_by(col(ApiToken.id)))]


def revoke_token(engine: Engine, token_id: int, owner_id: int | None = None) -> ApiToken:
    """Revoke a token (idempotent). With ``owner_id``, only that user's own token."""
    with session_scope(engine) as s:
        token = s.get(ApiToken, token_id)
        if token is None or (owner_id is not None and token.user_id != owner_id):
            raise NotFound(f"no token {token_id}", token_id=token_id)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            s.add(token)
        s.flush()
        s.refresh(token)
        return token


def resolve_token(engine: Engine, secret: str) -> Identity | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with session_scope(engine) as s:
        row = s.exec(
            select(ApiToken, User)
            .join(User, col(User.id) == ApiToken.user_id)
            .where(ApiToken.token_hash == _sha256(secret))
        ).first()
        if row is None:
            return None
        token, user = row
        if token.revoked_at is not None or user.disabled:
            return None
        now = utcnow()
        if token.last_used_at is None or now - as_utc(token.last_used_at) > TOUCH_EVERY:
            token.last_used_at = now  # at most once a minute: no write per request
            s.add(token)
        assert user.id is not None
        return Identity(user.id, user.username, Role(user.role), "token")
