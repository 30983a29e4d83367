"""File storage: bytes kept under a key, behind one small interface (``put`` / ``get`` / ``delete``).

``LocalFileStorage`` keeps each file under ``<data_dir>/files/<key>``: written to a temporary file in
the same directory, flushed to disk and renamed into place, so a reader never sees half a file; files
are mode 0600, directories 0700. A key is ``/``-separated segments of letters, digits, ``.``, ``_`` and
``-`` (no ``.`` or ``..`` segment, no leading ``/``), so no key can reach outside the root.
S3-compatible storage would be a second implementation of ``FileStorage``; it is not built yet.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from anyio import to_thread

from clinicore.kit.errors import InvalidInput, NotFound

MAX_KEY_LENGTH = 300  # stored_files.storage_key
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,100}")
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class FileStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""

    async def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``NotFound`` when there are none."""

    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is not stored)."""


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key, else ``InvalidInput``."""
    segments = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_LENGTH
        or any(segment in (".", "..") or not _SEGMENT.fullmatch(segment) for segment in segments)
    ):
        raise InvalidInput(f"storage key {key!r} is not a safe relative key", field="key")
    return key


class LocalFileStorage:
    """Files on the local filesystem under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        path = self.root.joinpath(*check_key(key).split("/"))
        # Belt and braces: a symlinked directory inside the root must not lead outside it either.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidInput(f"storage key {key!r} leads outside the storage root", field="key")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self.path_of(key)
        await to_thread.run_sync(_write_atomically, path, data)

    async def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return await to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            raise NotFound(f"no stored file under {key!r}") from None

    async def delete(self, key: str) -> None:
        path = self.path_of(key)
        await to_thread.run_sync(_remove_if_present, path)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600 in the target directory (same filesystem: rename is atomic).
    descriptor, temporary = tempfile.mkstemp(prefix=".incoming-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _remove_if_present(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def build_storage(data_dir: Path) -> FileStorage:
    """The storage of the data directory (``Settings.data_dir``): the local filesystem under ``files/``."""
    return LocalFileStorage(data_dir / "files")
