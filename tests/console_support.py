"""A small HTTP client for console tests: real requests, cookies kept by hand, redirects not followed."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from kyogikai.accounts import Accounts
from kyogikai.app import Kyogikai

ADMIN_PW = "admin-password-123"
CLERK_PW = "clerk-password-456"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    text: str

    def csrf(self) -> str:
        m = re.search(r'name="csrf_token" value="([^"]+)"', self.text)
        assert m, self.text[:2000]
        return m.group(1)

    def version(self) -> str:
        m = re.search(r'name="version" value="(\d+)"', self.text)
        assert m
        return m.group(1)


@dataclass
class Browser:
    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def upload(self, path: str, fields: dict[str, str], name: str, filename: str, content: bytes) -> Answer:
        """A multipart/form-data POST with one file."""
        boundary = "----kyogikai" + "x" * 16
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, raw=(b"".join(parts), f"multipart/form-data; boundary={boundary}"))

    def request(self, method: str, path: str, data: dict[str, Any] | None = None,
                raw: tuple[bytes, str] | None = None) -> Answer:
        u = urlsplit(self.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if raw is not None:
            body, headers["Content-Type"] = raw
        conn.request(method, quote(path, safe="/?=&%#"), body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        set_cookies = r.headers.get_all("set-cookie") or []
        for sc in set_cookies:
            c = SimpleCookie()
            c.load(sc)
            for k, morsel in c.items():
                if morsel["max-age"] == "0" or "expires=Thu, 01 Jan 1970" in sc:
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = morsel.value
        conn.close()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, set_cookies, text)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, Any]) -> Answer:
        return self.request("POST", path, data)

    def login(self, name: str, password: str) -> Answer:
        page = self.get("/console/login")
        assert page.status == 200, page.status
        return self.post("/console/login", {"username": name, "password": password, "csrf_token": page.csrf()})


def count_events(db: str) -> int:
    with Kyogikai(db, actor="test") as app:
        return len(app.log())


def setup_council(db: str, users: bool = True) -> None:
    """A programme, 幹事会 with two members on its roster, and (optionally) an admin and a clerk.

    Built once per session and backend, then copied into ``db`` (tests/templates.py)."""
    from .templates import copy_or_build

    copy_or_build("council" if users else "council-without-users", lambda url: build_council(url, users), db)


def build_council(db: str, users: bool = True) -> None:
    import datetime as dt

    with Kyogikai(db, actor="鈴木") as app:
        app.create_programme("会議運営", "all", 1)
        app.create_body("幹事会", programme="会議運営", kind="board")
        app.create_member("名古屋市", "city", code="231002")
        app.create_member("豊橋市", "city", code="232017")
        for m in ("名古屋市", "豊橋市"):
            app.join(m, body="幹事会", since=dt.date(2020, 4, 1))
        if users:
            acc = Accounts(app)
            acc.add("admin", "admin", ADMIN_PW)
            acc.add("clerk", "clerk", CLERK_PW)
