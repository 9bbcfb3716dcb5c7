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

from ..i18n import M

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ENV = "KYOGIKAI_BASE_URL"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,128}")


class BaseURLError(ValueError):
    """A base URL refused; its one argument is the reason, an :class:`~kyogikai.i18n.M` naming the URL."""


# what a base URL may hold: RFC 3986's unreserved characters, its sub-delimiters except the apostrophe,
# ':', '/', '@', '[', ']' and %-escapes — never a quote, angle bracket, backslash, space or control
# character (it is written raw into iCalendar SOURCE/URL properties, HTML attributes and headers)
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&()*+,;=:/@\[\]%]*")
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?"
                   r"|\[[0-9a-f:.]+\]")
MAX_BASE_URL = 500


def base_url(value: str | None, default: str = DEFAULT_BASE_URL) -> str:
    """Validate and normalise a base URL (``--base-url``, else ``KYOGIKAI_BASE_URL``, else ``default``).

    http or https only, a host name or IP address, an optional port and path; nothing a feed,
    page or header could not carry as it is.
    """
    raw = (value if value is not None else os.environ.get(ENV) or default).strip()
    url: M | str = repr(raw) if len(raw) <= 80 else M("{start}… ({length:,} characters)", start=repr(raw[:80]),
                                                       length=len(raw))
    if len(raw) > MAX_BASE_URL:
        raise BaseURLError(M("{url} is longer than {limit} characters", url=url, limit=MAX_BASE_URL))
    bad = next((c for c in raw if not _URL_CHARS.fullmatch(c)), None)
    if bad is not None:
        if bad.isspace():
            raise BaseURLError(M("{url}: a space is not allowed in a base URL (write it as %20)", url=url))
        if bad.isprintable():
            raise BaseURLError(M("{url}: the character {character!r} is not allowed in a base URL (use punycode and "
                                 "%-escapes)", url=url, character=bad))
        raise BaseURLError(M("{url}: U+{code} is not allowed in a base URL", url=url, code=format(ord(bad), "04X")))
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        raise BaseURLError(M("{url}: '%' must start a %-escape such as %20", url=url))
    try:
        u = urlsplit(raw)
        host = u.hostname
    except ValueError as exc:  # an unclosed IPv6 bracket …
        raise BaseURLError(M("{url} is not a URL ({problem})", url=url, problem=str(exc))) from None
    if u.scheme not in ("http", "https") or not host:
        raise BaseURLError(M("{url} is not an http:// or https:// URL with a host", url=url))
    hostport = u.netloc.lower().rsplit("@", 1)[-1]
    if not _HOST.fullmatch(hostport[:hostport.find("]") + 1] if hostport.startswith("[") else hostport.split(":", 1)[0]):
        raise BaseURLError(M("{url}: the host {host!r} is not a host name or IP address", url=url, host=host))
    if u.query or u.fragment or u.username or u.password:
        raise BaseURLError(M("{url}: give scheme, host, optional port and path only (no query, fragment or user)",
                             url=url))
    try:
        u.port
    except ValueError:
        raise BaseURLError(M("{url}: the port is not a number from 0 to 65535", url=url)) from None
    if any(c.isspace() for c in raw) or not raw.isascii():
        raise BaseURLError(M("{url}: spaces and non-ASCII characters are not allowed (use punycode / %-escapes)",
                             url=url))
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
