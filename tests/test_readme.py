"""Issue 13, point 9: the README works when followed literally on a fresh machine.

The walkthrough's shell block runs as written with bash (``-e -o pipefail``: any failing command
fails the test) in an empty folder whose ``.venv`` is this test run's environment, with HOME and
the data directory in that folder; the quick start stays two commands that are true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A clerk's walkthrough"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the walkthrough is one sh block"
    return blocks[0]


def venv_into(folder: Path) -> None:
    """``folder/.venv``: this environment (the quick start's venv when the tests run from it)."""
    if sys.prefix != sys.base_prefix and (Path(sys.prefix) / "bin" / "activate").exists():
        (folder / ".venv").symlink_to(sys.prefix)
    else:  # not in a venv: an activate script that puts this interpreter's scripts first on PATH
        bin_dir = folder / ".venv" / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "activate").write_text(f'PATH="{Path(sys.executable).parent}:$PATH"; export PATH\n')


def test_the_walkthrough_runs_as_written(tmp_path):
    venv_into(tmp_path)
    (tmp_path / "walkthrough.sh").write_text(walkthrough(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYOGIKAI_")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"), KYOGIKAI_LANG="en",
               PATH="/usr/local/bin:/usr/bin:/bin")
    r = subprocess.run(["bash", "-e", "-o", "pipefail", "walkthrough.sh"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr and "error:" not in r.stderr, r.stderr
    out = r.stdout
    assert f"created a store at {tmp_path / 'council.sqlite'}" in out
    assert not (tmp_path / "data").exists() and not (tmp_path / "home").exists()   # KYOGIKAI_DB was used
    ids = re.findall(r"^([0-9a-f]{8})  令和5年(?:5月24日|10月11日)  第[12]回幹事会", out, re.M)
    assert len(ids) == 2                                   # `kyogikai meetings` listed both with their ids
    assert f"recorded as held (id {ids[0]}" in out and f"cancelled (id {ids[1]}" in out
    assert "MeetingRescheduled" in out and "reason=会場の都合により" in out and "鈴木" in out
    assert "recorded attendance of 2 member(s)" in out
    assert "・第1回幹事会（令和5年5月24日、Web会議）" in out and "【中止】" in out
    assert "・第1回訓練（令和5年7月20日～8月4日）" in out
    log = json.loads(out[out.index("\n[\n") + 1:])
    assert [e["event"] for e in log].count("AttendanceRecorded") == 2
    guests = {e["names"].get(e["data"]["member_id"]): e["data"]["guest"] for e in log if e["event"] == "AttendanceRecorded"}
    assert guests == {"名古屋市": False, "豊橋市": True}


def test_the_quick_start_is_two_commands_that_hold():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):text.index("## A clerk's walkthrough")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [b.strip() for b in blocks] == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/kyogikai demo",
        ".venv/bin/pip install '.[test]' && .venv/bin/python -m pytest",
    ]
    # `kyogikai demo` makes its own store (no init needed): tested in test_store_init and test_demo
