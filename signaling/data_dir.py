"""The data directory on disk: the server's account alone may read it.

It holds the database (SQLite by default), the secrets, the PKI, agreements and case files, so
it is made 0700 and every file in it 0600 — when created, and again at every start should
someone have loosened them (a copy with ``cp -r``, a restore from a backup, an older version
that relied on the umask). The SQLite file is created 0600 before SQLite opens it: SQLite gives
its ``-wal`` and ``-shm`` files the database file's mode.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from .config import Settings

DIR_MODE = 0o700
FILE_MODE = 0o600
#: What the server's processes create files with: nothing for group or others.
UMASK = 0o077
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def prepare_data_dir(settings: Settings, *, tighten: bool = True) -> None:
    """Create the data directory (0700) and the SQLite file (0600), tightening what is looser
    (``tighten=False``: the caller walks the tree itself later, e.g. the server at start-up, off
    the event loop)."""
    root = settings.data_dir
    root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if tighten:
        tighten_tree(root)
    database = sqlite_file(settings.effective_database_url)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.close(os.open(database, os.O_RDWR | os.O_CREAT, FILE_MODE))  # an empty file is a new SQLite database
        for suffix in _SQLITE_COMPANIONS:
            _tighten(database.with_name(database.name + suffix), FILE_MODE)


def sqlite_file(database_url: str) -> Path | None:
    """The file behind a SQLite URL (``None`` for other databases and in-memory SQLite)."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def tighten_tree(root: Path) -> None:
    """Directories 0700 and files 0600 under ``root`` (symbolic links are left alone)."""
    _tighten(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            _tighten(Path(folder) / name, DIR_MODE)
        for name in files:
            _tighten(Path(folder) / name, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
