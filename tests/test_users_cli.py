"""``kyogikai user …``: accounts as events with their actor, passwords outside the log, chain and export."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kyogikai.accounts import CREDENTIALS, Accounts
from kyogikai.app import Kyogikai
from kyogikai.cli import run


def user(db: str, *args: str, stdin: str | None = None, actor: str = "鈴木") -> tuple[int, str, str]:
    runner = CliRunner()
    with runner.isolation(input=stdin) as (out, err, *_):
        code = run(["--db", db, "--actor", actor, *args])
        return code, out.getvalue().decode(), err.getvalue().decode()


def test_user_commands(db, tmp_path):
    code, out, _ = user(db, "user", "add", "ＳＵＺＵＫＩ", "--role", "admin", "--password-stdin",
                        stdin="first-admin-password\n")
    assert code == 0 and "added user suzuki (admin)" in out
    assert user(db, "user", "add", "tanaka", "--role", "clerk", "--password-stdin", stdin="tanaka-password-1\n",
                actor="suzuki")[0] == 0
    # bad input: one line, exit 2, nothing written
    with Kyogikai(db, actor="t") as app:
        n = len(app.log())
    for args, stdin, msg in [
        (("user", "add", "sato", "--role", "clerk", "--password-stdin"), "short\n", "at least 12 characters"),
        (("user", "add", "Tanaka", "--role", "clerk", "--password-stdin"), "another-password-1\n", "already exists"),
        (("user", "add", "a b", "--role", "clerk", "--password-stdin"), "another-password-1\n", "no spaces"),
        (("user", "role", "suzuki", "clerk"), None, "last admin"),
        (("user", "disable", "suzuki"), None, "last admin"),
        (("user", "role", "nobody", "admin"), None, "no user"),
        (("user", "add", "sato", "--role", "clerk"), "", "not a terminal"),
    ]:
        code, out, err = user(db, *args, stdin=stdin)
        assert code == 2 and err.startswith("error: ") and msg in err and err.count("\n") == 1, (args, err)
    with Kyogikai(db, actor="t") as app:
        assert len(app.log()) == n

    assert user(db, "user", "role", "tanaka", "admin", actor="suzuki")[0] == 0
    assert user(db, "user", "disable", "TANAKA", actor="suzuki")[0] == 0
    code, out, _ = user(db, "user", "list", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["role"], r["active"], r["password"]) for r in rows] == [
        ("suzuki", "admin", True, True), ("tanaka", "admin", False, True)]
    code, out, _ = user(db, "user", "list")
    assert "tanaka  admin (管理者)  disabled" in out
    assert user(db, "user", "password", "tanaka", "--password-stdin", stdin="new-password-123\n")[0] == 2

    # who granted what is in the log, with the acting user
    code, out, _ = user(db, "log", "--json")
    log = json.loads(out)
    assert [(r["event"], r["data"]["name"], r["actor"]) for r in log] == [
        ("UserAdded", "suzuki", "鈴木"), ("UserAdded", "tanaka", "suzuki"), ("UserRoleChanged", "tanaka", "suzuki"),
        ("UserDisabled", "tanaka", "suzuki")]
    # passwords: hashed with argon2id in their own table; never in the log, the chain or the export
    with Kyogikai(db, actor="t") as app:
        with app.reads.transaction(write=False) as rows:
            creds = rows.find(CREDENTIALS)
        assert all(c["hash"].startswith("$argon2id$") for c in creds)
    export = tmp_path / "log.jsonl"
    assert user(db, "export-log", str(export))[0] == 0
    text = export.read_text(encoding="utf-8")
    assert "argon2" not in text and "first-admin-password" not in text and '"UserAdded' not in text.replace("kyogikai:UserAdded", "")
    assert user(db, "verify")[0] == 0

    # a new password works and ends the sessions opened with the old one
    with Kyogikai(db, actor="t") as app:
        acc = Accounts(app)
        login = acc.login("suzuki", "first-admin-password", "127.0.0.1")
        assert login.ok and acc.session(login.token) is not None
    assert user(db, "user", "password", "Suzuki", "--password-stdin", stdin="second-admin-password\n")[0] == 0
    with Kyogikai(db, actor="t") as app:
        acc = Accounts(app)
        assert acc.session(login.token) is None
        assert not acc.login("suzuki", "first-admin-password", "127.0.0.2").ok
        assert acc.login("suzuki", "second-admin-password", "127.0.0.2").ok


def test_session_idle_timeout_and_limits(sqlite_url):
    now = [1_000_000.0]
    with Kyogikai(sqlite_url, actor="鈴木") as app:
        acc = Accounts(app, clock=lambda: now[0])
        acc.add("admin", "admin", "admin-password-123")
        r = acc.login("admin", "admin-password-123", "10.0.0.1")
        now[0] += 29 * 60
        assert acc.session(r.token) is not None           # touched: idle counts from here
        now[0] += 29 * 60
        assert acc.session(r.token) is not None
        now[0] += 31 * 60
        assert acc.session(r.token) is None               # 31 minutes idle
        # per address: 20 failures over different names lock the address, not the names elsewhere
        for i in range(20):
            assert not acc.login(f"user{i}", "wrong-password-00", "10.0.0.9").limited
        assert acc.login("admin", "admin-password-123", "10.0.0.9").limited
        assert acc.login("admin", "admin-password-123", "10.0.0.8").ok
        # the window passes
        now[0] += 16 * 60
        assert acc.login("admin", "admin-password-123", "10.0.0.9").ok


def test_user_add_prompts_without_echo(sqlite_url):
    """Without --password-stdin the password is asked twice on the terminal, not echoed."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    def session(args: list[str], answers: list[str]) -> tuple[int, bytes]:
        master, slave = pty.openpty()
        def controlling_terminal() -> None:   # the pty is the child's terminal, whatever runs the tests
            import fcntl
            import termios

            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen([sys.executable, "-m", "kyogikai", "--db", sqlite_url, "--actor", "鈴木", *args],
                                stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                preexec_fn=controlling_terminal)
        os.close(slave)
        out, pending = b"", list(answers)
        deadline = time.time() + 60
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                # the prompt ends with the space getpass writes once echo is off (click writes "…:" first)
                if pending and out.endswith(b": "):
                    os.write(master, pending.pop(0).encode() + b"\n")
            elif proc.poll() is not None:
                break
        proc.wait(30)
        os.close(master)
        return proc.returncode, out

    code, out = session(["user", "add", "admin", "--role", "admin"], ["typed-secret-123", "typed-secret-123"])
    assert code == 0, out
    assert b"added user admin (admin)" in out and b"typed-secret-123" not in out
    code, out = session(["user", "add", "bob", "--role", "clerk"], ["typed-secret-123", "typed-secret-124"])
    assert code == 2 and b"the two entries differ" in out
    with Kyogikai(sqlite_url, actor="t") as app:
        assert Accounts(app).login("admin", "typed-secret-123", "127.0.0.1").ok
        assert [u["name"] for u in Accounts(app).users()] == ["admin"]
