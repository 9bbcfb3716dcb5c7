"""Every feed of the demo data (``kyogikai demo``'s FY2023 sample) reads cleanly everywhere.

icalendar (no component errors), vobject (``validate=True``) and Mozilla's ical.js under node read
every public feed and every member's private feed, and agree on each item's start, end, SEQUENCE
and STATUS.  The demo is built once for the module, on a SQLite file (the PostgreSQL path of the
same code is covered by ``test_feeds.py``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kyogikai.app import Kyogikai
from kyogikai.feeds import FeedService
from kyogikai.projections import feeds as feeds_rm

from .test_feeds_support import icaljs, read_all  # noqa: F401

demo = pytest.importorskip("kyogikai.demo", reason="kyogikai.demo (the FY2023 sample) is not available")


@pytest.fixture(scope="module")
def demo_feeds(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    with Kyogikai(db, actor="demo") as app:
        demo.build_demo(app)
        s = FeedService(app, "https://kyogikai.example.lg.jp")
        s.fresh()
        feeds = {m["key"]: s.feed(m["kind"], m["ref_id"]).body for m in s.public_feeds()}
        members = [r["id"] for r in app.rows(feeds_rm.MEMBERS)]
        for mid in members[:5]:  # private feeds differ from public ones only by non-public bodies
            feeds[f"private:{mid}"] = s.feed("member", mid, private=True).body
    return feeds


def test_every_demo_feed_reads_cleanly_and_parsers_agree(demo_feeds, icaljs, tmp_path):
    seen = read_all(demo_feeds, icaljs, tmp_path)
    everything = seen["all"]
    assert len(everything) >= 50
    assert sum(1 for k in seen if k.startswith("body:")) >= 10
    # every item of every feed is in the feed of everything or in a private one, with the same dates
    for key, items in seen.items():
        for uid, item in items.items():
            if uid in everything:
                assert item == everything[uid], (key, uid)
    kinds = {("date" if len(i["start"]) == 10 else "time") for i in everything.values()}
    assert kinds == {"date", "time"}
    for item in everything.values():
        if len(item["start"]) == 10:
            assert dt.date.fromisoformat(item["end"]) > dt.date.fromisoformat(item["start"])  # exclusive end
