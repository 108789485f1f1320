"""Deployment packages: a zip is checked, stored once by content and unpacked once into a
read-only tree that every environment of every version with that code shares.

Layout under the functions directory:
    zips/<sha256 hex>.zip    the package as uploaded (GetFunction's Code.Location serves it)
    code/<sha256 hex>/       its unpacked tree: dirs 0755, files 0644 (0755 when executable),
                             symbolic links as the zip has them (never followed here: they
                             resolve inside an environment, as in Lambda)
    opt/<sha256 hex>/        the trees of several layers laid over each other in order (a
                             function's /opt), named by the digest of their names (`merged_name`);
                             hard links to the layers' files

Limits are Lambda's (Lambda quotas page): 50 MB zipped for a direct upload, 250 MB unzipped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import logging
import os
import secrets
import shutil
import stat
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024
MAX_ENTRIES = 100_000
MAX_LINK_TARGET = 4095  # PATH_MAX, less its NUL
_COPY = 1024 * 1024

log = logging.getLogger("strato.functions")


class InvalidPackage(Exception):
    """The zip cannot be a deployment package (Lambda's InvalidParameterValueException)."""


class PackageTooLarge(Exception):
    """A zip over the direct-upload limit (Lambda's RequestEntityTooLargeException, 413)."""


@dataclass(frozen=True, slots=True)
class StoredCode:
    sha256_hex: str  # names the stored zip and its tree
    code_sha256: str  # base64 of the same digest, as Lambda reports CodeSha256
    size: int  # bytes of the zip (CodeSize)


def code_sha256(data: bytes) -> tuple[str, str]:
    """(hex, base64) of the SHA-256 of a package."""
    digest = hashlib.sha256(data).digest()
    return digest.hex(), base64.b64encode(digest).decode()


def _entry_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """Where an entry lands inside the tree; None for the tree's root itself. Refuses what
    could land outside it or be anything but a file or directory."""
    name = info.filename
    if "\\" in name or "\x00" in name:
        raise InvalidPackage(f"Invalid file name in the zip file: {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise InvalidPackage(f"The zip file contains an absolute path: {name!r}")
    if any(part == ".." for part in path.parts):
        raise InvalidPackage(f"The zip file contains a path outside the package: {name!r}")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
        raise InvalidPackage(f"The zip file contains a special file: {name!r}")
    parts = [part for part in path.parts if part != "."]
    return PurePosixPath(*parts) if parts else None


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16) and not info.is_dir()


def _link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A symbolic link's target: its entry's content, as Info-ZIP's `zip -y` stores it."""
    if not 0 < info.file_size <= MAX_LINK_TARGET:
        raise InvalidPackage(f"Invalid symbolic link in the zip file: {info.filename!r}")
    target = archive.read(info)
    if b"\x00" in target:
        raise InvalidPackage(f"Invalid symbolic link in the zip file: {info.filename!r}")
    return target


def check(data: bytes) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The entries of a valid package with where each goes; raises InvalidPackage or PackageTooLarge."""
    if len(data) > MAX_ZIPPED:
        raise PackageTooLarge(f"The zip file is {len(data)} bytes; the limit for a direct upload is {MAX_ZIPPED}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidPackage(f"Could not unzip uploaded file. Please check your file, then try to upload again. "
                             f"({exc})") from None
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise InvalidPackage(f"The zip file has more than {MAX_ENTRIES} entries")
    total = 0
    seen: set[PurePosixPath] = set()
    planned = []
    for info in entries:
        target = _entry_path(info)
        if target is None:
            continue
        if target in seen:
            raise InvalidPackage(f"The zip file names {target} twice")
        seen.add(target)
        total += info.file_size
        if total > MAX_UNZIPPED:
            raise InvalidPackage(f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes")
        planned.append((info, target))
    links = {target for info, target in planned if _is_link(info)}
    for _, target in planned:
        if links and not links.isdisjoint(target.parents):
            # Written through the link, it would land wherever the link leads on this host.
            raise InvalidPackage(f"The zip file puts {target} under a symbolic link")
    return planned


def _unpack(data: bytes, planned: list[tuple[zipfile.ZipInfo, PurePosixPath]], into: Path) -> None:
    """Write the entries under `into`. Each file is read no further than its declared size,
    so a zip that lies about sizes (a bomb) fails its CRC check instead of filling the disk."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    into.mkdir(mode=0o755)
    for info, target in planned:
        destination = into.joinpath(*target.parts)
        mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
        try:
            if info.is_dir():  # a file of the zip where it has a directory too: FileExistsError
                destination.mkdir(mode=0o755, parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if _is_link(info):
                os.symlink(_link_target(archive, info), destination)
                continue
            with archive.open(info) as source, open(destination, "xb") as sink:
                shutil.copyfileobj(source, sink, _COPY)
                sink.flush()
                os.fsync(sink.fileno())
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise InvalidPackage(f"Could not unzip {info.filename!r}: {exc}") from None
        os.chmod(destination, mode)
    for directory, _, _ in os.walk(into):  # links to directories are not walked, nor changed
        os.chmod(directory, 0o755)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def merged_name(hexes: tuple[str, ...]) -> str:
    """The name of the tree that lays the packages `hexes` over each other, in that order."""
    return hashlib.sha256("\n".join(hexes).encode()).hexdigest()


def _clear(path: Path) -> None:
    """Make room at `path` for what a later layer puts there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _overlay(source: Path, into: Path) -> None:
    """Lay the tree `source` over `into`: what both hold, `source`'s wins (a file over a
    directory too, as when Lambda extracts layers into /opt one after the other)."""
    for directory, dirs, files in os.walk(source):
        relative = Path(directory).relative_to(source)
        for name in dirs:
            target = into / relative / name
            if os.path.islink(os.path.join(directory, name)):  # listed with directories, never walked
                _place(Path(directory) / name, target)
            elif not target.is_dir() or target.is_symlink():
                _clear(target)
                target.mkdir()
                os.chmod(target, 0o755)  # not the umask's: every environment's uid reads it
        for name in files:
            _place(Path(directory) / name, into / relative / name)


def _place(source: Path, target: Path) -> None:
    """A file or symbolic link of a layer at `target`; a link is placed itself, never what it
    leads to on this host."""
    _clear(target)
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:  # a filesystem without hard links
        shutil.copy2(source, target, follow_symlinks=False)


def merge_layers(target: Path, sources: tuple[Path, ...]) -> None:
    """Make `target` (once: a tree that exists is complete) from the layers' trees in order.
    The tree is complete before its name exists; another process making it too is no error.
    A layer's tree that is gone (collected) is FileNotFoundError: a tree made without it would
    stay wrong for good (and with one layer, `target` is that layer's own tree)."""
    if target.is_dir():
        _touch(target)
        return
    for source in sources:
        if not source.is_dir():
            raise FileNotFoundError(f"the unpacked layer {source} is gone")
    scratch = target.parent / f".tmp-{secrets.token_hex(8)}"
    try:
        scratch.mkdir()
        os.chmod(scratch, 0o755)
        for source in sources:
            _overlay(source, scratch)
        try:
            scratch.rename(target)
        except OSError:  # made by another process first
            if not target.is_dir():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    _sync_dir(target.parent)


class CodeStore:
    """Packages by content under one directory; safe to share between processes (every
    write goes to a private temporary name and is renamed into place)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.zips = root / "zips"
        self.code = root / "code"
        self.opt = root / "opt"
        for directory in (self.zips, self.code, self.opt):
            directory.mkdir(parents=True, exist_ok=True)

    def zip_path(self, sha256_hex: str) -> Path:
        return self.zips / f"{sha256_hex}.zip"

    def code_dir(self, sha256_hex: str) -> Path:
        return self.code / sha256_hex

    def opt_dir(self, hexes: tuple[str, ...]) -> Path | None:
        """The tree a function with the layers `hexes` sees as /opt: none without layers, the
        layer's own with one, else their merged tree (made by `merge`)."""
        if not hexes:
            return None
        return self.code_dir(hexes[0]) if len(hexes) == 1 else self.opt / merged_name(hexes)

    def unzipped_size(self, sha256_hex: str) -> int:
        """Bytes the stored package unpacks to (as its zip says; checked when it was stored)."""
        with zipfile.ZipFile(self.zip_path(sha256_hex)) as archive:
            return sum(info.file_size for info in archive.infolist())

    def keep(self, hexes: tuple[str, ...]) -> None:
        """Packages about to be used again (the layers a function is being configured with):
        their grace starts over, so that collection leaves them until a version holds them,
        though the layer versions that held them are deleted meanwhile."""
        for sha256_hex in hexes:
            _touch(self.code_dir(sha256_hex), self.zip_path(sha256_hex))

    async def merge(self, hexes: tuple[str, ...]) -> None:
        """Make the merged tree of several layers now, so that no cold start waits for it."""
        target = self.opt_dir(hexes)
        if target is not None and len(hexes) > 1:
            await asyncio.to_thread(merge_layers, target, tuple(self.code_dir(h) for h in hexes))

    async def store(self, data: bytes) -> StoredCode:
        """Check, store and unpack a package (off the event loop); raises InvalidPackage or
        PackageTooLarge. The tree is complete before its name exists."""
        return await asyncio.to_thread(self.store_sync, data)

    def store_sync(self, data: bytes) -> StoredCode:
        planned = check(data)
        hex_digest, b64_digest = code_sha256(data)
        tree = self.code_dir(hex_digest)
        if tree.is_dir():
            _touch(tree, self.zip_path(hex_digest))  # in use again: collection must wait
        else:
            scratch = self.code / f".tmp-{secrets.token_hex(8)}"
            try:
                _unpack(data, planned, scratch)
                try:
                    scratch.rename(tree)
                except OSError:  # another process unpacked the same package first
                    if not tree.is_dir():
                        raise
            finally:
                if scratch.exists():
                    shutil.rmtree(scratch, ignore_errors=True)
            _sync_dir(self.code)
        target = self.zip_path(hex_digest)
        if not target.exists():
            temporary = self.zips / f".tmp-{secrets.token_hex(8)}"
            try:
                with open(temporary, "xb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temporary, 0o644)
                temporary.rename(target)
            finally:
                temporary.unlink(missing_ok=True)
            _sync_dir(self.zips)
        return StoredCode(hex_digest, b64_digest, len(data))

    def collect(self, referenced: set[str], grace: float) -> int:
        """Remove packages and merged layer trees no version refers to that were not stored or
        reused in the last `grace` seconds (one may be on its way into the registry, or still
        mounted by an environment finishing its last invoke), and scratch left by a crash.
        Returns how many."""
        cutoff = time.time() - grace
        removed = 0
        for folder, suffix in ((self.code, ""), (self.zips, ".zip"), (self.opt, "")):
            for entry in os.scandir(folder):
                name = entry.name.removesuffix(suffix)
                if name in referenced or entry.stat(follow_symlinks=False).st_mtime > cutoff:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                removed += 1
        return removed


# Packages unused for this long may go: longer than any invoke (900 s) can keep one mounted.
COLLECT_GRACE = 3600.0
COLLECT_EVERY = 600.0


async def collect_forever(store: CodeStore, referenced: Callable[[], Awaitable[set[str]]],
                          every: float = COLLECT_EVERY, grace: float = COLLECT_GRACE) -> None:
    """The functions controller's sweep: packages of deleted functions and replaced code go."""
    while True:
        try:
            removed = await asyncio.to_thread(store.collect, await referenced(), grace)
        except Exception:  # a sweep that fails is tried again next time; it must not stop
            log.exception("collecting unused function packages failed")
        else:
            if removed:
                log.info("removed %d unused function packages", removed)
        await asyncio.sleep(every)


def _touch(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)
