"""Reading a file the user named without hanging: only regular files, and at most a limit of bytes.

A FIFO blocks an ordinary open() until someone writes to it, and /dev/zero never ends; a size
checked with stat alone says nothing about either. The file is opened non-blocking, its kind checked
on the open handle (no race with a rename), and read up to the limit.
"""
from __future__ import annotations

import errno
import os
import stat

_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


class FileTooLarge(OSError):
    """The file holds more than the limit; `size` is what it holds (or at least limit + 1)."""

    def __init__(self, path: str | os.PathLike, size: int, limit: int):
        super().__init__(errno.EFBIG, f"{size:,} bytes is more than the {limit:,} allowed", str(path))
        self.size, self.limit = size, limit


def read_regular(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The file's bytes. OSError (strerror says why, filename is `path`) for anything but a regular
    file, without blocking; FileTooLarge when it holds more than `limit` bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a plain file")
            raise OSError(errno.EINVAL, f"not a regular file ({kind})", str(path))
        if limit is not None and info.st_size > limit:
            raise FileTooLarge(path, info.st_size, limit)
        data = handle.read(-1 if limit is None else limit + 1)
    if limit is not None and len(data) > limit:  # it grew while being read
        raise FileTooLarge(path, len(data), limit)
    return data

