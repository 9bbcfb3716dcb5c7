"""Calendar feeds (iCalendar) for members: building, serving helpers, static export, private tokens.

- :mod:`.ics` — ICS bytes from feed read-model rows (pure; the decisions on how items are shown).
- :mod:`.urls` — the URL scheme, the base URL and subscribe links (https, webcal, Google).
- :mod:`.service` — :class:`FeedService`: feeds, page data, export and tokens over the application.

The read model itself is :mod:`kyogikai.projections.feeds`; the web app is :mod:`kyogikai.web`.
"""

from .service import Feed, FeedService, Issued, write_atomically
from .urls import DEFAULT_BASE_URL, BaseURLError, Subscribe, base_url, feed_path, page_path, private_path

__all__ = ["Feed", "FeedService", "Issued", "write_atomically", "DEFAULT_BASE_URL", "BaseURLError", "Subscribe",
           "base_url", "feed_path", "page_path", "private_path"]
