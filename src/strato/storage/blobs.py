"""Blob files: written to a temp file, fsync'd, renamed into place, directory fsync'd.

A blob id is random and never derived from a key, so no key can name a path. A blob in
`blobs/` is always complete; partial writes only ever exist under `tmp/`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from strato.fileio import write_all

FANOUT = 256


class BlobWriter:
    """One blob being written. Not thread-safe: one writer per upload, one step at a time.

    Creating a writer does no I/O: the temp file is created by the first write (or commit).
    Discarding removes the temp file, or the blob itself once committed, since nothing
    references a blob before its metadata commits.
    """

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self.blob_id = secrets.token_hex(16)
        self._tmp = store.tmp_dir / self.blob_id
        self._fd: int | None = None
        self._committed = False
        self.size = 0

    def _file(self) -> int:
        assert not self._committed
        if self._fd is None:
            self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return self._fd

    def write(self, data: bytes | memoryview) -> None:
        fd = self._file()
        write_all(fd, data)
        self.size += len(data)

    def commit(self) -> str:
        """Make the blob durable under its final name; returns its id."""
        fd = self._file()
        self._fd = None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        final = self._store.path(self.blob_id)
        os.rename(self._tmp, final)
        self._committed = True
        self._store.sync_dir(final.parent)
        return self.blob_id

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._committed:
            self._store.path(self.blob_id).unlink(missing_ok=True)
        else:
            self._tmp.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for index in range(FANOUT):
            (self.root / f"{index:02x}").mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    @staticmethod
    def sync_dir(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open(self, blob_id: str) -> int:
        """An fd for reading; raises FileNotFoundError if the blob was deleted."""
        return os.open(self.path(blob_id), os.O_RDONLY)

    def delete(self, blob_ids: Iterable[str]) -> None:
        for blob_id in blob_ids:
            self.path(blob_id).unlink(missing_ok=True)

    def stored_ids(self) -> Iterator[str]:
        for shard in self.root.iterdir():
            for entry in os.scandir(shard):
                yield entry.name

    def clear_tmp(self) -> int:
        removed = 0
        for entry in os.scandir(self.tmp_dir):
            os.unlink(entry.path)
            removed += 1
        return removed
