"""Input and output files: the one place a command reads a file it is given or writes one it is told to.

Reading (:func:`read_input`): only a regular file is read — a folder, FIFO, socket or device
(``/dev/zero``, ``/dev/urandom``, a terminal) is refused without reading a byte (it is opened
non-blocking, so a FIFO with no writer cannot hang the command) — and its size is checked against
the stated limit before reading, and again while reading (a file that grows).

Writing (:func:`write_output`): a new file is written beside the target, flushed to disk and
renamed over it, so the target is either the old file or the whole new one.  Only a regular file is
ever replaced (a symbolic link to one keeps being a link: the file it points to is replaced); a
folder, device (``/dev/full``), FIFO or socket is left alone and refused; a missing folder is never
created.  Every failure is one line naming the option: exit 2 for a target that cannot be a file,
exit 4 (:class:`FileSystemError`) when the file system refuses (no folder, no permission, disk full).
"""

from __future__ import annotations

import errno
import re
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Callable, TypeVar

from .app import UserError
from .domain.text import short
from .i18n import M

T = TypeVar("T")


class FileSystemError(UserError):
    """The file system refused a read or a write: one line, exit code 4."""

    exit_code = 4


def _kind(mode: int) -> M:
    if stat.S_ISDIR(mode):
        return M("a folder")
    if stat.S_ISFIFO(mode):
        return M("a FIFO (named pipe)")
    if stat.S_ISCHR(mode):
        return M("a character device")
    if stat.S_ISBLK(mode):
        return M("a block device")
    if stat.S_ISSOCK(mode):
        return M("a socket")
    if stat.S_ISREG(mode):
        return M("a file")
    return M("something else")


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def read_input(path: str | os.PathLike[str], *, option: str, limit: int, stdin: bool = False) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``), or ``-`` for standard input when ``stdin``."""
    name = os.fspath(path)
    if stdin and name == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise UserError(M("{option}: standard input is more than {limit:,} bytes, the limit", option=option, limit=limit))
        return data
    shown = short(name, 200)
    if not name:
        raise UserError(M("{option}: the file name is empty", option=option))
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UserError(M("{option}: cannot read {file}: no such file", option=option, file=shown)) from None
    except IsADirectoryError:
        raise UserError(M("{option}: {file} is a folder, not a file", option=option, file=shown)) from None
    except (PermissionError, NotADirectoryError) as exc:
        raise UserError(M("{option}: cannot read {file}: {reason}", option=option, file=shown, reason=_why(exc))) from None
    except (OSError, ValueError) as exc:  # name too long, symlink loop, NUL in the name …
        raise UserError(M("{option}: cannot open {file}: {reason}", option=option, file=shown,
                            reason=_why(exc) if isinstance(exc, OSError) else str(exc))) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(M("{option}: {file} is {kind}, not a regular file; it was not read", option=option, file=shown,
                                kind=_kind(st.st_mode)))
        if st.st_size > limit:  # refused unread
            raise UserError(M("{option}: {file} is {size:,} bytes; the limit is {limit:,}", option=option, file=shown, size=st.st_size,
                                limit=limit))
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileSystemError(M("{option}: cannot read {file}: {reason}", option=option, file=shown, reason=_why(exc))) from None
    finally:
        os.close(fd)
    if size > limit:
        raise UserError(M("{option}: {file} is more than {limit:,} bytes; the limit is {limit:,}", option=option, file=shown, limit=limit))
    return b"".join(chunks)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(path: str | os.PathLike[str], data: bytes | Callable[[IO[bytes]], T], *, option: str,
                 mode: int | None = None, mtime: float | None = None) -> T | None:
    """Replace the regular file ``path`` (or create it in an existing folder) with ``data``, atomically.

    ``data`` is bytes or a function that writes to the open binary file (its result is returned).
    ``mode`` defaults to the replaced file's, else 0666 less the umask.
    """
    name = os.fspath(path)
    shown = short(name, 200)
    if not name:
        raise UserError(M("{option}: the file name is empty", option=option))
    target = Path(name)
    try:
        st: os.stat_result | None = os.stat(target)  # follows a symbolic link
    except FileNotFoundError:
        if os.path.lexists(target):
            raise UserError(M("{option}: {file} is a broken symbolic link; it is left alone", option=option, file=shown)) from None
        st = None
    except (OSError, ValueError) as exc:  # a parent that is a file, a name too long, NUL …
        raise FileSystemError(M("{option}: cannot write {file}: {reason}", option=option, file=shown,
                                  reason=_why(exc) if isinstance(exc, OSError) else str(exc))) from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise UserError(M("{option}: {file} is {kind}, not a regular file; it is left alone", option=option, file=shown,
                                kind=_kind(st.st_mode)))
        target = Path(os.path.realpath(target))
    folder = target.parent
    if not folder.is_dir():
        raise FileSystemError(M("{option}: the folder {folder} does not exist (it is not created); {file} was not written",
                                option=option, folder=short(str(folder), 200), file=shown))
    if mode is None:
        mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileSystemError(M("{option}: cannot write in the folder {folder}: {reason}", option=option,
                                folder=short(str(folder), 200), reason=_why(exc))) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            result = data(fh) if callable(data) else None
            if not callable(data):
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FileSystemError(M("{option}: cannot write {file}: {reason} (the disk is full); nothing was replaced",
                                    option=option, file=shown, reason=_why(exc))) from None
        raise FileSystemError(M("{option}: cannot write {file}: {reason}; nothing was replaced", option=option,
                                file=shown, reason=_why(exc))) from None
    except BaseException:
        _unlink(tmp)
        raise
    return result


def output_folder(path: str | os.PathLike[str], *, option: str) -> Path:
    """The folder ``path``, created when missing (its own parent must exist: nothing above it is created)."""
    name = os.fspath(path)
    shown = short(name, 200)
    if not name or "\x00" in name:
        raise UserError(M("{option}: {folder} is not a usable folder name", option=option, folder=shown))
    folder = Path(name)
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a name too long, a parent that is a file …
        raise FileSystemError(M("{option}: cannot use {folder}: {reason}", option=option, folder=shown, reason=_why(exc))) from None
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise UserError(M("{option}: {folder} is {kind}, not a folder", option=option, folder=shown, kind=_kind(st.st_mode)))
        return folder
    parent = folder.absolute().parent
    if not parent.is_dir():
        raise FileSystemError(M("{option}: the folder {folder} does not exist (it is not created)", option=option,
                                folder=short(str(parent), 200)))
    try:
        folder.mkdir()
    except OSError as exc:
        raise FileSystemError(M("{option}: cannot create {folder}: {reason}", option=option, folder=shown, reason=_why(exc))) from None
    return folder


def _unlink(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")


_JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


def _mostly_utf8(data: bytes) -> bool:
    """Whether nine in ten of the non-ASCII characters decode as UTF-8 (a UTF-8 file with damage)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ch > "\x7f") - bad
    return good > 0 and bad * 9 < good


def decode_text(data: bytes, *, option: str) -> tuple[str, M | None]:
    """The text of a file people save from Excel or Word: UTF-8 (with or without a BOM), else
    Shift_JIS — Excel's default for 「CSV (コンマ区切り)」 and Windows' for text — read as CP932
    (Microsoft's Shift_JIS, with the NEC and IBM extensions: ①, ㈱, 髙 …).  Returns the text and a
    note when it was not UTF-8; a file that is neither is refused naming the first bad byte."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("cp932")
        # cp932 maps almost any byte to something, so Shift_JIS is taken only for what is plainly
        # Japanese text in it: no binary, some kana or kanji, and not UTF-8 with a few broken bytes
        if _NOT_TEXT.search(text) or not _JAPANESE.search(text) or _mostly_utf8(data):
            raise UnicodeDecodeError("cp932", data, 0, 1, "not Shift_JIS text")
    except UnicodeDecodeError:
        line = data[:first_bad].count(b"\n") + 1
        raise UserError(M("{option}: line {line}: the file is neither UTF-8 nor Shift_JIS text (byte {byte}); "
                          "save it as UTF-8", option=option, line=line, byte=first_bad)) from None
    return text, M("{option}: read as Shift_JIS (CP932), Excel's and Windows' default; saving as UTF-8 is safer",
                   option=option)
