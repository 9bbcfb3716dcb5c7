"""Issue 13, point 8: a progress bar on a terminal for long work (import-report, import-log,
rebuild, sync), silent when piped and never mixed into --json.  The CLI runs as a real process on a
pseudo-terminal (``pty``) for the terminal case, and with pipes otherwise."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

from .conftest import init_store

BAR = "] "        # what a drawn bar contains: ``label [####------] 42%  1,234/2,900``


def on_terminal(argv: list[str], env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    """Run ``kyogikai ARGV`` with stdin, stdout and stderr on a pseudo-terminal; return the exit
    code and everything it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kyogikai", *argv], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:      # EIO: the other side is closed
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def piped(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kyogikai", *argv], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "KYOGIKAI_LANG": "en", "KYOGIKAI_ACTOR": "事務局A", "COLUMNS": "100"}


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.txt"
    path.write_text(resources.files("kyogikai").joinpath("data", "demo_fy2023_report.txt").read_text(encoding="utf-8"),
                    encoding="utf-8")
    return path


def bars(output: str, label: str) -> list[str]:
    """The bar drawings of ``label`` in a terminal's output (each starts after a carriage return)."""
    return [part for part in output.split("\r") if part.startswith(f"{label} [") and BAR in part]


def test_a_bar_on_a_terminal_for_import_report_rebuild_sync_and_import_log(db, env, report, tmp_path):
    code, out = on_terminal(["--db", db, "import-report", str(report)], env)
    assert code == 0, out
    drawn = bars(out, "importing")
    assert drawn and drawn[-1].split("]")[0].endswith("#" * 30) and "100%" in drawn[-1], out[-500:]
    assert "imported report.txt:" in out
    for argv, label in ((["rebuild"], "rebuilding"),):
        code, out = on_terminal(["--db", db, *argv], env)
        assert code == 0 and bars(out, label), out[-500:]
    log = tmp_path / "backup.jsonl"
    assert piped(["--db", db, "export-log", str(log)], env).returncode == 0
    target = init_store(str(tmp_path / "restored.sqlite"))
    code, out = on_terminal(["--db", target, "import-log", str(log)], env)
    assert code == 0 and bars(out, "importing") and "read models built" in out, out[-500:]


def test_sync_draws_a_bar_for_a_backlog(db, env):
    """Events appended without their read models (a bare ``EventStore.append``, as another
    process's bulk load leaves them): ``sync`` on a terminal shows the catch-up."""
    from kyogikai.app import Kyogikai
    from kyogikai.domain import organisation as org

    with Kyogikai(db, actor="t") as k:
        k.store.writer = None         # events and their chain records only
        k.store.append([e for i in range(600) for e in org.Member.create(
            f"団体{i}", org.MemberKind.OTHER, org.MemberClass.MEMBER, None, "t").collect()])
    code, out = on_terminal(["--db", db, "sync"], env)
    assert code == 0 and bars(out, "catching up") and "(600 new event(s) applied)" in out, out[-500:]


def test_no_bar_when_piped_or_with_json(db, env, report, tmp_path):
    r = piped(["--db", db, "import-report", str(report)], env)
    assert r.returncode == 0 and "\r" not in r.stderr + r.stdout and "[#" not in r.stderr and r.stderr == ""
    r = piped(["--db", db, "rebuild"], env)
    assert r.returncode == 0 and r.stderr == "" and "\r" not in r.stdout
    # on a terminal with --json: the JSON alone, no bar anywhere
    target = init_store(str(tmp_path / "second.sqlite"))
    code, out = on_terminal(["--db", target, "import-report", str(report), "--json"], env)
    assert code == 0 and not bars(out, "importing") and "\x1b[K" not in out
    assert json.loads(out.replace("\r\n", "\n"))["created"] > 50
