"""The ``kyogikai`` command: parse input, call the application, print.

Exit codes: 0 done; 2 bad input or a broken rule (one line on stderr, nothing written);
3 conflict with a concurrent change (nothing written, try again); 4 the database cannot be used.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Sequence

import click
from pydantic import ValidationError

from .. import i18n
from ..app import ConflictError, DateError, DomainError, FormatError, StoreError, UserError
from ..i18n import _
from ..store import is_lock_timeout, lock_timeout
from .base import cli, lazy

i18n.setup_click()

# command modules register themselves on ``cli`` when first used (see base.LazyGroup)
lazy("kyogikai.cli.organisation", "programme", "body", "member", "bodies", "members")
lazy("kyogikai.cli.meetings", "meeting", "activity", "meetings")
lazy("kyogikai.cli.log", "log", "history", "sync", "rebuild", "follow")
lazy("kyogikai.cli.report", "report", "import-report", "narrative")
lazy("kyogikai.cli.demo", "demo")
lazy("kyogikai.cli.integrity", "verify", "export-log", "import-log")
lazy("kyogikai.cli.feeds", "feed", "serve", "export-feeds", "token")
lazy("kyogikai.cli.participation", "participation")
lazy("kyogikai.cli.council", "council")
lazy("kyogikai.cli.users", "user")
lazy("kyogikai.cli.init", "init")


MAX_QUOTE = 120     # characters of a quoted input shown in an error
MAX_MESSAGE = 400   # characters of an error line
_LONG_QUOTE = re.compile("'[^'\n]{%d,}'|\"[^\"\n]{%d,}\"" % (MAX_QUOTE + 1, MAX_QUOTE + 1))


def _shorten(m: re.Match[str]) -> str:
    q, inner = m.group()[0], m.group()[1:-1]
    return f"{q}{inner[:MAX_QUOTE]}{q}… ({len(inner):,} characters)"


def _one_line(text: str) -> str:
    """An error as one line; a long quoted input shows as a short prefix, and the whole line is bounded."""
    line = " ".join(str(text).split())
    line = _LONG_QUOTE.sub(_shorten, line)
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE] + "…"


def _error(message: str) -> None:
    """The one line on stderr that every failure ends with ('error: …' / 'エラー: …')."""
    click.echo(_("error: {message}").format(message=_one_line(message)), err=True)


def main(argv: Sequence[str] | None = None) -> None:
    code = run(argv)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as e:  # the last buffered output could not be written (a full disk, /dev/full)
        if code == 0:
            _error(_("cannot write the output: {reason}").format(reason=e.strerror or e))
            code = 4
    finally:
        try:  # whatever is still buffered is lost: do not let the interpreter's exit report it again
            if sys.stdout is not None and sys.stdout.fileno() >= 0:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
        except (OSError, ValueError):
            pass
    sys.exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    for i, arg in enumerate(args, start=1):
        if any("\ud800" <= c <= "\udfff" for c in arg):  # bytes the locale could not decode
            _error(_("argument {number} is not valid UTF-8 text").format(number=i))
            return 2
        if "\x00" in arg:  # only possible in-process (a real command line cannot hold one)
            option = args[i - 2] if i >= 2 and args[i - 2].startswith("-") else f"argument {i}"
            _error(_("{option}: the text contains the control character U+0000; remove it").format(option=option))
            return 2
    try:
        rv: Any = cli.main(args=args, prog_name="kyogikai", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        _error(_("aborted"))
        return 1
    except click.ClickException as e:
        _error(e.format_message())
        return e.exit_code
    except (UserError, DomainError, DateError, FormatError) as e:
        _error(str(e))
        return getattr(e, "exit_code", 2)  # 4 for a file system refusal (files.FileSystemError)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err.get("loc", ())) or "input"
        _error(f"{field}: {err.get('msg', 'invalid')}")
        return 2
    except ConflictError as e:
        _error(str(e))
        return 3
    except StoreError as e:
        _error(str(e))
        return 4
    except BrokenPipeError:
        return 0
    except OSError as e:  # writing the output failed (files go through kyogikai.files, which says which)
        if e.filename:  # a file system refusal not foreseen elsewhere: name the file (shortened)
            _error(f"{repr(str(e.filename))}: {e.strerror or type(e).__name__}")
        else:
            _error(_("cannot write the output: {reason}").format(reason=e.strerror or e))
        return 4
    except KeyboardInterrupt:
        _error(_("interrupted"))
        return 130
    except Exception as e:  # a bug of ours: say so in one line; the traceback on request
        if is_lock_timeout(e):  # another process held the database's write lock too long
            _error(_("the database is busy: another process held its write lock for more than {seconds:g} s "
                     "(KYOGIKAI_LOCK_TIMEOUT); try again later ('kyogikai log' shows whether this change was recorded)"
                     ).format(seconds=lock_timeout()))
            return 4
        if os.environ.get("KYOGIKAI_DEBUG"):
            raise
        _error(_("internal error ({detail}); set KYOGIKAI_DEBUG=1 to see the traceback").format(
            detail=f"{type(e).__name__}: {_one_line(str(e))[:300]}"))
        return 1
