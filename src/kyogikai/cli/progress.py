"""Progress bars for long work (issue 13, point 8): import-report, import-log, rebuild, sync and a
command's first catch-up of a large log.

The bar is drawn on stderr, and only when stderr is a terminal and ``--json`` was not given: piped
or redirected output, and every ``--json`` answer, carry no trace of it.  It redraws in place at
most ten times a second and clears its line when the work ends, so the command's own output
follows on a clean line.  ``delay`` keeps it hidden until the work has lasted that long (the
catch-up a command does before it answers is usually a handful of events: no bar for those).
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, Callable

from .base import wants_json

ProgressFn = Callable[[int, int], None]
WIDTH = 30


class Bar:
    """A ``progress(done, total)`` callback that draws ``label [#####-----]  42%  1,234/2,900``."""

    def __init__(self, label: str, stream: Any, delay: float = 0.0) -> None:
        self.label, self.stream, self.delay = label, stream, delay
        self.started: float | None = None   # the first report: the work is under way
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.started is None:
            self.started = now
        if now - self.started < self.delay:
            return
        finished = total <= 0 or done >= total
        if now - self.last < 0.1 and not finished:
            return
        self.last = now
        frac = 1.0 if total <= 0 else min(1.0, max(0.0, done / total))
        filled = int(WIDTH * frac)
        line = f"{self.label} [{'#' * filled}{'-' * (WIDTH - filled)}] {100 * frac:3.0f}%  {done:,}/{total:,}"
        columns = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + line[: max(10, columns - 1)] + "\x1b[K")
        self.drawn = True
        if finished:
            self.close()
        else:
            self.stream.flush()

    def close(self) -> None:
        """Clear the bar's line (when one was drawn), leaving the cursor at its start."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def progress(label: str, delay: float = 0.0) -> Bar | None:
    """A bar on stderr for ``label``, or None when stderr is not a terminal or ``--json`` was given."""
    stream = sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty or wants_json():
        return None
    return Bar(label, stream, delay)
