"""Console accounts: who may record through the web console, with which role (no I/O).

Decisions:
- **One aggregate for every account** (:class:`UserDirectory`, a fixed id).  A council has tens of
  clerks, not thousands; one aggregate makes a login name unique by construction (two admins adding
  the same name at once: the second save conflicts) and lets a request learn a user's role and
  state with one short read.
- **Names** are NFKC case-folded (``ＳＵＺＵＫＩ`` and ``suzuki`` are one account), 1–64 characters,
  no spaces or control characters.
- **Roles**: ``clerk`` (担当者: records) and ``admin`` (管理者: also manages accounts and settings).
- **Disabled is final** for a name: a disabled account keeps its history and its name (so the log
  never shows two different people under one name); a returning person gets a new name.
- **Passwords are not here.**  The events say who has an account, with which role, and who
  granted it; the argon2id hashes live in a table of their own (:mod:`kyogikai.accounts`), never
  in the log, the hash chain or ``export-log``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum

from ..i18n import M
from .events import Aggregate, DomainError, DomainEvent, stable_id

MAX_NAME = 64


class Role(str, Enum):
    CLERK = "clerk"
    ADMIN = "admin"


ROLE_LABELS = {Role.CLERK: "担当者", Role.ADMIN: "管理者"}


def normalize_name(name: str) -> str:
    """The account name as stored and compared: NFKC, case-folded, NFKC again, trimmed."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name or "").casefold()).strip()


def check_name(name: str) -> str:
    n = normalize_name(name)
    if not n:
        raise DomainError(M("user name: empty"))
    if len(n) > MAX_NAME:
        raise DomainError(M("user name: at most {limit} characters", limit=MAX_NAME))
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in n):
        raise DomainError(M("user name: no spaces or control characters"))
    return n


def parse_role(role: str) -> Role:
    try:
        return Role((role or "").strip().lower())
    except ValueError:
        raise DomainError(M("role: {role!r} is not one of clerk, admin", role=role)) from None


class UserAdded(DomainEvent):
    name: str
    role: Role


class UserRoleChanged(DomainEvent):
    name: str
    role: Role


class UserDisabled(DomainEvent):
    name: str


@dataclass
class Account:
    name: str
    role: Role
    active: bool = True


class UserDirectory(Aggregate):
    ID = stable_id("console-users")

    def __init__(self, id=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(id or self.ID)
        self.accounts: dict[str, Account] = {}

    def get(self, name: str) -> Account | None:
        return self.accounts.get(normalize_name(name))

    def _existing(self, name: str) -> Account:
        acc = self.get(name)
        if acc is None:
            raise DomainError(M("no user {name!r}", name=normalize_name(name)))
        if not acc.active:
            raise DomainError(M("user {name!r} is disabled", name=acc.name))
        return acc

    def active_admins(self) -> list[str]:
        return [a.name for a in self.accounts.values() if a.active and a.role is Role.ADMIN]

    # -- commands ------------------------------------------------------------------------------
    def add(self, name: str, role: Role, actor: str) -> str:
        n = check_name(name)
        if n in self.accounts:
            raise DomainError(M("user {name!r} already exists", name=n) if self.accounts[n].active
                              else M("user {name!r} already exists (disabled)", name=n))
        self.trigger(UserAdded, actor, name=n, role=role)
        return n

    def change_role(self, name: str, role: Role, actor: str) -> None:
        acc = self._existing(name)
        if acc.role is role:
            raise DomainError(M("user {name!r} already has the role {role}", name=acc.name, role=role.value))
        if acc.role is Role.ADMIN and self.active_admins() == [acc.name]:
            raise DomainError(M("user {name!r} is the last admin; make another admin first", name=acc.name))
        self.trigger(UserRoleChanged, actor, name=acc.name, role=role)

    def disable(self, name: str, actor: str) -> None:
        acc = self._existing(name)
        if acc.role is Role.ADMIN and self.active_admins() == [acc.name]:
            raise DomainError(M("user {name!r} is the last admin; make another admin first", name=acc.name))
        self.trigger(UserDisabled, actor, name=acc.name)

    # -- state ---------------------------------------------------------------------------------
    def apply_UserAdded(self, e: UserAdded) -> None:
        self.accounts[e.name] = Account(e.name, e.role)

    def apply_UserRoleChanged(self, e: UserRoleChanged) -> None:
        self.accounts[e.name].role = e.role

    def apply_UserDisabled(self, e: UserDisabled) -> None:
        self.accounts[e.name].active = False
