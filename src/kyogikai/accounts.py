"""Console accounts: the commands (``kyogikai user …`` and the console's users page call these),
password credentials, sessions and the login limiter.

Who has an account and with which role are events (:mod:`kyogikai.domain.users`).  The rest lives in
three tables of the same database, outside the event log, the hash chain and ``export-log``:

``kyogikai_credentials(name, hash, updated_at)``
    argon2id hashes (argon2-cffi's defaults: t=3, m=64 MiB, p=4; a hash made with older
    parameters is replaced at the next successful login).  A password has 12 to 1024 characters
    and is compared after NFC normalisation (so the same characters typed through different input
    methods match).
``kyogikai_sessions(id_hash, name, csrf, created_at, last_seen)``
    server-side sessions.  The cookie carries a random 256-bit id; the table keeps only its
    sha256, so a leaked copy of the table opens no session.  A session ends after
    ``IDLE_TIMEOUT`` (30 minutes) without a request, after ``MAX_AGE`` (12 hours) in any case, at
    logout, and — checked on every request against the account events, whichever process wrote
    them — as soon as its user is disabled.  A role change applies to the next request.
``kyogikai_login_failures(id, k, at)``
    failed logins, counted per login name (``FAILURES_PER_NAME`` = 5 in ``FAILURE_WINDOW`` =
    15 minutes) and per client address (``FAILURES_PER_ADDRESS`` = 20 in the same window).  Past a
    limit every attempt is refused — even with the right password — until the window has passed;
    unknown names are counted like known ones, so the answer never tells whether a name exists.

Writing an account (event) and its password (table) are two transactions: the password is checked
before the event is written, and an account left without a password (a crash between the two)
simply cannot log in until ``kyogikai user password NAME``.

Backing up: ``export-log`` carries the accounts but never the passwords.  Copy the credentials with
the database (``sqlite3 kyogikai.sqlite ".backup copy.sqlite"``, or ``pg_dump -t kyogikai_credentials``);
after ``import-log`` into a fresh store, set each password again with ``kyogikai user password``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from .domain.events import DomainError
from .i18n import M
from .domain.users import Role, UserDirectory, normalize_name, parse_role
from .projections.runtime import Table

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
IDLE_TIMEOUT = 30 * 60
MAX_AGE = 12 * 3600
TOUCH_EVERY = 60
FAILURE_WINDOW = 15 * 60
FAILURES_PER_NAME = 5
FAILURES_PER_ADDRESS = 20

CREDENTIALS = Table("kyogikai_credentials", {"name": "text", "hash": "text", "updated_at": "int"}, ("name",))
SESSIONS = Table("kyogikai_sessions", {"id_hash": "text", "name": "text", "csrf": "text", "created_at": "int",
                                       "last_seen": "int"}, ("id_hash",), (("name",),))
FAILURES = Table("kyogikai_login_failures", {"id": "text", "k": "text", "at": "int"}, ("id",), (("k", "at"),))
TABLES = (CREDENTIALS, SESSIONS, FAILURES)


class PasswordError(DomainError):
    """A password that does not meet the rules."""


def check_password(password: str) -> str:
    pw = unicodedata.normalize("NFC", password or "")
    if len(pw) < MIN_PASSWORD:
        raise PasswordError(M("password: at least {limit} characters", limit=MIN_PASSWORD))
    if len(pw) > MAX_PASSWORD:
        raise PasswordError(M("password: at most {limit} characters", limit=MAX_PASSWORD))
    if any(unicodedata.category(c) == "Cc" for c in pw):
        raise PasswordError(M("password: no control characters"))
    return pw


def _hasher() -> Any:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(type=Type.ID)


_DUMMY: list[str] = []


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Session:
    id_hash: str
    name: str
    role: Role
    csrf: str


@dataclass
class LoginResult:
    ok: bool
    limited: bool = False
    token: str | None = None
    session: Session | None = None


class Accounts:
    """Account commands and checks over a :class:`kyogikai.app.Kyogikai` (its store, tables and actor)."""

    def __init__(self, app: Any, clock: Callable[[], float] = time.time) -> None:
        self.app, self.clock = app, clock
        self._tables = False

    # -- tables -------------------------------------------------------------------------------
    def _rows(self, write: bool = True) -> Any:
        if not self._tables:
            self.app.reads.create(TABLES)
            self._tables = True
        return self.app.reads.transaction(write=write)

    # -- the directory ------------------------------------------------------------------------
    def directory(self) -> UserDirectory:
        return self.app.store.get(UserDirectory, UserDirectory.ID) or UserDirectory()

    def users(self) -> list[dict[str, Any]]:
        d = self.directory()
        with self._rows(write=False) as rows:
            has_pw = {r["name"] for r in rows.find(CREDENTIALS)}
        events = self.app.store.load(UserDirectory.ID)
        added = {e.name: e for e in events if type(e).__name__ == "UserAdded"}
        return [{"name": a.name, "role": a.role.value, "active": a.active, "password": a.name in has_pw,
                 "added_at": added[a.name].timestamp.isoformat() if a.name in added else None,
                 "added_by": added[a.name].actor if a.name in added else None}
                for a in sorted(d.accounts.values(), key=lambda a: a.name)]

    def history(self) -> list[Any]:
        return self.app.store.load(UserDirectory.ID)

    def any_user(self) -> bool:
        return bool(self.app.store.load(UserDirectory.ID))

    # -- commands -----------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str) -> str:
        r = parse_role(role)
        pw = check_password(password)
        d = self.directory()
        n = d.add(name, r, self.app.actor)
        digest = _hasher().hash(pw)
        self.app.store.save(d)
        self.app.sync()
        self._store_hash(n, digest)
        return n

    def set_role(self, name: str, role: str) -> str:
        d = self.directory()
        d.change_role(name, parse_role(role), self.app.actor)
        self.app.store.save(d)
        self.app.sync()
        return normalize_name(name)

    def disable(self, name: str) -> str:
        d = self.directory()
        d.disable(name, self.app.actor)
        self.app.store.save(d)
        self.app.sync()
        n = normalize_name(name)
        with self._rows() as rows:
            rows.execute(f"DELETE FROM {SESSIONS.name} WHERE name = {rows.ph}", (n,))
        return n

    def set_password(self, name: str, password: str) -> str:
        pw = check_password(password)
        acc = self.directory().get(name)
        if acc is None:
            raise DomainError(M("no user {name!r}", name=normalize_name(name)))
        if not acc.active:
            raise DomainError(M("user {name!r} is disabled", name=acc.name))
        self._store_hash(acc.name, _hasher().hash(pw))
        with self._rows() as rows:  # a new password ends the sessions opened with the old one
            rows.execute(f"DELETE FROM {SESSIONS.name} WHERE name = {rows.ph}", (acc.name,))
        return acc.name

    def change_own_password(self, name: str, current: str, new: str, keep_session: str | None = None) -> str:
        """A user changes their own password: the current one is checked first (a wrong one counts
        towards the login limit of the name, and past the limit every attempt is refused), then the
        new one is stored and every other session of the user ends (``keep_session``: the id hash of
        the session making the change, which stays open)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        pw = check_password(new)
        acc = self.directory().get(name)
        if acc is None:
            raise DomainError(M("no user {name!r}", name=normalize_name(name)))
        if not acc.active:
            raise DomainError(M("user {name!r} is disabled", name=acc.name))
        key, now = f"name:{acc.name}", int(self.clock())
        with self._rows() as rows:
            if self._failures(rows, key, now) >= FAILURES_PER_NAME:
                raise DomainError(M("current password: too many failed attempts; wait and try again"))
            cred = rows.get(CREDENTIALS, acc.name)
        hasher = _hasher()
        try:
            ok = cred is not None and hasher.verify(cred["hash"], unicodedata.normalize("NFC", current or "")[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            with self._rows() as rows:
                rows.put(FAILURES, {"id": secrets.token_hex(16), "k": key, "at": now})
            raise DomainError(M("current password: wrong"))
        with self._rows() as rows:
            rows.put(CREDENTIALS, {"name": acc.name, "hash": hasher.hash(pw), "updated_at": now})
            rows.execute(f"DELETE FROM {SESSIONS.name} WHERE name = {rows.ph} AND id_hash <> {rows.ph}",
                         (acc.name, keep_session or ""))
        return acc.name

    def _store_hash(self, name: str, digest: str) -> None:
        with self._rows() as rows:
            rows.put(CREDENTIALS, {"name": name, "hash": digest, "updated_at": int(self.clock())})

    # -- login --------------------------------------------------------------------------------
    def _failures(self, rows: Any, key: str, now: int) -> int:
        return rows.execute(f"SELECT count(*) FROM {FAILURES.name} WHERE k = {rows.ph} AND at > {rows.ph}",
                            (key, now - FAILURE_WINDOW))[0][0]

    def login(self, name: str, password: str, address: str) -> LoginResult:
        """Check a login; on success open a session (the cookie value is ``token``)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        n = normalize_name(name)[:200]
        now = int(self.clock())
        keys = (f"name:{n}", f"addr:{address}")
        with self._rows() as rows:
            rows.execute(f"DELETE FROM {FAILURES.name} WHERE at <= {rows.ph}", (now - FAILURE_WINDOW,))
            if (self._failures(rows, keys[0], now) >= FAILURES_PER_NAME
                    or self._failures(rows, keys[1], now) >= FAILURES_PER_ADDRESS):
                return LoginResult(False, limited=True)
            cred = rows.get(CREDENTIALS, n)
        acc = self.directory().get(n)
        hasher = _hasher()
        ok = False
        pw = unicodedata.normalize("NFC", password or "")[:MAX_PASSWORD]
        if cred is not None and acc is not None and acc.active:
            try:
                ok = hasher.verify(cred["hash"], pw)
            except (VerificationError, InvalidHashError):
                ok = False
        else:  # the same work for an unknown name, so timing does not tell either
            if not _DUMMY:
                _DUMMY.append(hasher.hash(secrets.token_urlsafe(16)))
            try:
                hasher.verify(_DUMMY[0], pw)
            except (VerificationError, InvalidHashError):
                pass
        if not ok:
            with self._rows() as rows:
                for k in keys:
                    rows.put(FAILURES, {"id": secrets.token_hex(16), "k": k, "at": now})
            return LoginResult(False)
        assert acc is not None and cred is not None
        token = secrets.token_urlsafe(32)
        session = Session(_sha(token), acc.name, acc.role, secrets.token_urlsafe(32))
        with self._rows() as rows:
            rows.execute(f"DELETE FROM {FAILURES.name} WHERE k = {rows.ph}", (keys[0],))
            rows.execute(f"DELETE FROM {SESSIONS.name} WHERE last_seen <= {rows.ph} OR created_at <= {rows.ph}",
                         (now - IDLE_TIMEOUT, now - MAX_AGE))
            rows.put(SESSIONS, {"id_hash": session.id_hash, "name": acc.name, "csrf": session.csrf,
                                "created_at": now, "last_seen": now})
            if hasher.check_needs_rehash(cred["hash"]):
                rows.put(CREDENTIALS, {"name": acc.name, "hash": hasher.hash(pw), "updated_at": now})
        return LoginResult(True, token=token, session=session)

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie value, or None (unknown, idle, too old, user disabled)."""
        if not token or len(token) > 200:
            return None
        h, now = _sha(token), int(self.clock())
        with self._rows(write=False) as rows:
            row = rows.get(SESSIONS, h)
        if row is None:
            return None
        acc = self.directory().get(row["name"])
        if (acc is None or not acc.active or now - row["last_seen"] > IDLE_TIMEOUT
                or now - row["created_at"] > MAX_AGE):
            self.logout(token)
            return None
        if now - row["last_seen"] >= TOUCH_EVERY:
            with self._rows() as rows:
                rows.execute(f"UPDATE {SESSIONS.name} SET last_seen = {rows.ph} WHERE id_hash = {rows.ph}", (now, h))
        return Session(h, acc.name, acc.role, row["csrf"])

    def logout(self, token: str) -> None:
        with self._rows() as rows:
            rows.execute(f"DELETE FROM {SESSIONS.name} WHERE id_hash = {rows.ph}", (_sha(token),))


def csrf_ok(expected: str | None, given: Any) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())
