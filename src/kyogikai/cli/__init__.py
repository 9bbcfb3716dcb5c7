"""The ``kyogikai`` command: parse input, call the application, print.

Exit codes: 0 done; 2 bad input or a broken rule (one line on stderr, nothing written);
3 conflict with a concurrent change (nothing written, try again); 4 the database cannot be used.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

import click
from pydantic import ValidationError

from .. import i18n
from ..app import ConflictError, DateError, DomainError, FormatError, StoreError, UserError
from ..i18n import _
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


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _error(message: str) -> None:
    """The one line on stderr that every failure ends with ('error: …' / 'エラー: …')."""
    click.echo(_("error: {message}").format(message=_one_line(message)), err=True)


def main(argv: Sequence[str] | None = None) -> None:
    code = run(argv)
    sys.exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    for i, arg in enumerate(args, start=1):
        if any("\ud800" <= c <= "\udfff" for c in arg):  # bytes the locale could not decode
            _error(_("argument {number} is not valid UTF-8 text").format(number=i))
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
        return 2
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
    except KeyboardInterrupt:
        _error(_("interrupted"))
        return 130
    except Exception as e:  # a bug of ours: say so in one line; the traceback on request
        if os.environ.get("KYOGIKAI_DEBUG"):
            raise
        _error(_("internal error ({detail}); set KYOGIKAI_DEBUG=1 to see the traceback").format(
            detail=f"{type(e).__name__}: {_one_line(str(e))[:300]}"))
        return 1
