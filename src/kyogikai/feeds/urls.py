"""The URL scheme of feeds and pages, the base URL, and subscribe links.

Paths (stable: ids never change, a rename keeps them):

=====================================  =============================================================
``/``                                  the web page: bodies, programmes, subscribe links, upcoming
``/bodies/<body id>``                  a body's page: its past and upcoming meetings
``/programmes/<programme id>``         a programme's page
``/feeds/all.ics``                     everything public
``/feeds/body/<body id>.ics``          a body with its sub-bodies and groups
``/feeds/programme/<programme id>.ics``  a programme
``/feeds/member/<member id>.ics``      a member organisation (public items of its bodies/programmes)
``/private/<token>/calendar.ics``      a member organisation's private feed (with non-public bodies)
=====================================  =============================================================

The base URL (``--base-url`` or ``KYOGIKAI_BASE_URL``) is where people reach the server, e.g.
``https://kyogikai.example.lg.jp`` or ``https://example.lg.jp/kyogikai`` behind a reverse proxy.
Every absolute URL (feed links back to pages, subscribe links, webcal and Google links) is built on
it.  Default: ``http://<host>:<port>`` of ``kyogikai serve`` (``localhost`` for a wildcard host),
and ``http://127.0.0.1:8000`` (what ``kyogikai serve`` answers on by default) for commands that
write feeds without serving them.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple
from urllib.parse import quote, urlsplit

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ENV = "KYOGIKAI_BASE_URL"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,128}")


class BaseURLError(ValueError):
    pass


def base_url(value: str | None, default: str = DEFAULT_BASE_URL) -> str:
    """Validate and normalise a base URL (``--base-url``, else ``KYOGIKAI_BASE_URL``, else ``default``)."""
    raw = (value if value is not None else os.environ.get(ENV) or default).strip()
    u = urlsplit(raw)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise BaseURLError(f"{raw!r} is not an http:// or https:// URL with a host")
    if u.query or u.fragment or u.username or u.password:
        raise BaseURLError(f"{raw!r}: give scheme, host, optional port and path only (no query, fragment or user)")
    try:
        u.port
    except ValueError:
        raise BaseURLError(f"{raw!r}: the port is not a number from 0 to 65535") from None
    if any(c.isspace() for c in raw) or not raw.isascii():
        raise BaseURLError(f"{raw!r}: spaces and non-ASCII characters are not allowed (use punycode / %-escapes)")
    return f"{u.scheme}://{u.netloc.lower()}{u.path.rstrip('/')}"


def serve_default(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def feed_path(kind: str, ref_id: str | None = None) -> str:
    return "/feeds/all.ics" if kind == "all" else f"/feeds/{kind}/{ref_id}.ics"


def private_path(token: str) -> str:
    return f"/private/{token}/calendar.ics"


def page_path(kind: str, ref_id: str | None = None) -> str:
    return {"body": f"/bodies/{ref_id}", "programme": f"/programmes/{ref_id}"}.get(kind, "/")


class Subscribe(NamedTuple):
    """The three ways to subscribe to one feed."""

    url: str       # the feed itself (https on a production base URL)
    webcal: str    # webcal:// — opens the calendar application
    google: str    # Google Calendar's "add by URL" link

    @classmethod
    def of(cls, url: str) -> "Subscribe":
        webcal = "webcal://" + url.split("://", 1)[1]
        return cls(url, webcal, "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""))


def is_loopback(url: str) -> bool:
    """Whether a base URL points at this machine only (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
