"""Deployment packages: checked, stored once by content, unpacked once into a tree of fixed
modes; anything that could escape the tree or fill the disk is refused. Several layers are laid
over each other into one tree, once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import shutil
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from strato.functions.packages import (
    MAX_UNZIPPED,
    MAX_ZIPPED,
    CodeStore,
    InvalidPackage,
    PackageTooLarge,
    merge_layers,
    merged_name,
)


def zipped(entries: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (modes or {}).get(name, 0o100644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


LINK = stat.S_IFLNK | 0o777  # a symbolic link's mode, as `zip -y` stores it


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> CodeStore:
    return CodeStore(tmp_path / "functions")


class TestStoring:
    def test_a_package_is_named_by_its_sha256_and_reported_as_lambda_does(self, store: CodeStore) -> None:
        data = zipped({"handler.py": b"def handler(e, c): return e\n"})
        code = asyncio.run(store.store(data))
        assert code.code_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert code.sha256_hex == hashlib.sha256(data).hexdigest()
        assert code.size == len(data)
        assert store.zip_path(code.sha256_hex).read_bytes() == data

    def test_the_tree_holds_the_files_with_fixed_modes_and_executables_stay_executable(self, store: CodeStore) -> None:
        data = zipped({"lib/": b"", "lib/util.py": b"X = 1\n", "bootstrap": b"#!/bin/sh\n", "secret.txt": b"s"},
                      modes={"lib/": 0o40700, "bootstrap": 0o100700, "secret.txt": 0o100600})
        tree = store.code_dir(store.store_sync(data).sha256_hex)
        assert (tree / "lib" / "util.py").read_bytes() == b"X = 1\n"
        assert mode(tree) == mode(tree / "lib") == 0o755
        assert mode(tree / "lib" / "util.py") == mode(tree / "secret.txt") == 0o644
        assert mode(tree / "bootstrap") == 0o755

    def test_directories_missing_from_the_zip_are_made(self, store: CodeStore) -> None:
        tree = store.code_dir(store.store_sync(zipped({"a/b/c.txt": b"deep"})).sha256_hex)
        assert (tree / "a" / "b" / "c.txt").read_bytes() == b"deep"
        assert mode(tree / "a" / "b") == 0o755

    def test_symbolic_links_are_kept_as_links_and_never_followed_on_the_host(
        self, store: CodeStore, tmp_path: Path,
    ) -> None:
        """As Lambda unpacks a `zip -y` package: a link resolves inside the environment, so one
        leading out of the tree (to /opt, say) is the function's own business; the host's file
        it names is left as it is (strato unpacks as root)."""
        secret = tmp_path / "secret"
        secret.write_bytes(b"s")
        secret.chmod(0o600)
        (tmp_path / "private").mkdir(mode=0o700)
        data = zipped({"src/real.py": b"X = 1\n", "handler.py": b"src/real.py", "secret": str(secret).encode(),
                       "private": str(tmp_path / "private").encode()},
                      modes={"handler.py": LINK, "secret": LINK, "private": LINK})
        tree = store.code_dir(store.store_sync(data).sha256_hex)
        assert os.readlink(tree / "handler.py") == "src/real.py"
        assert (tree / "handler.py").read_bytes() == b"X = 1\n"
        assert os.readlink(tree / "secret") == str(secret)
        assert mode(secret) == 0o600
        assert mode(tmp_path / "private") == 0o700

    def test_storing_the_same_package_twice_keeps_one_copy(self, store: CodeStore) -> None:
        data = zipped({"handler.py": b"pass\n"})
        first, second = store.store_sync(data), store.store_sync(data)
        assert first == second
        assert len(list(store.zips.iterdir())) == 1
        assert len(list(store.code.iterdir())) == 1


class TestRefusing:
    @pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/cron.d/evil", "C:/evil.py", "a\\..\\b"])
    def test_paths_that_leave_the_tree_are_refused(self, store: CodeStore, name: str) -> None:
        with pytest.raises(InvalidPackage):
            store.store_sync(zipped({name: b"x"}))
        assert list(store.code.iterdir()) == []

    def test_an_entry_under_a_symbolic_link_is_refused(self, store: CodeStore, tmp_path: Path) -> None:
        """Written through the link, it would land wherever the link leads on the host."""
        outside = tmp_path / "outside"
        outside.mkdir()
        data = zipped({"lib": str(outside).encode(), "lib/evil.py": b"x"}, modes={"lib": LINK})
        with pytest.raises(InvalidPackage, match="under a symbolic link"):
            store.store_sync(data)
        assert list(outside.iterdir()) == []
        assert list(store.code.iterdir()) == []

    @pytest.mark.parametrize("target", [b"", b"a\0b", b"x" * 4096])
    def test_a_symbolic_link_with_no_usable_target_is_refused(self, store: CodeStore, target: bytes) -> None:
        with pytest.raises(InvalidPackage, match="symbolic link"):
            store.store_sync(zipped({"link": target}, modes={"link": LINK}))
        assert list(store.code.iterdir()) == []

    def test_a_special_file_is_refused(self, store: CodeStore) -> None:
        with pytest.raises(InvalidPackage, match="special file"):
            store.store_sync(zipped({"fifo": b""}, modes={"fifo": stat.S_IFIFO | 0o644}))

    def test_bytes_that_are_not_a_zip_are_refused(self, store: CodeStore) -> None:
        with pytest.raises(InvalidPackage, match="Could not unzip"):
            store.store_sync(b"definitely not a zip file")

    def test_a_zip_over_the_direct_upload_limit_is_too_large(self, store: CodeStore) -> None:
        with pytest.raises(PackageTooLarge):
            store.store_sync(b"\0" * (MAX_ZIPPED + 1))

    def test_a_package_that_unzips_past_250_mb_is_refused_before_anything_is_written(self, store: CodeStore) -> None:
        buffer = io.BytesIO()
        block = bytes(1024 * 1024)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
                archive.open("zeros.bin", "w", force_zip64=True) as sink:
            for _ in range(MAX_UNZIPPED // len(block) + 1):
                sink.write(block)
        with pytest.raises(InvalidPackage, match="Unzipped size"):
            store.store_sync(buffer.getvalue())
        assert list(store.code.iterdir()) == []

    def test_an_entry_that_inflates_past_its_declared_size_is_refused(self, store: CodeStore) -> None:
        data = bytearray(zipped({"bomb.bin": bytes(1024 * 1024)}))
        # Declare 10 bytes in both the local header and the central directory: the real
        # content inflates to 1 MiB, so reading stops at 10 bytes and the CRC cannot match.
        local = data.index(b"PK\x03\x04")
        struct.pack_into("<I", data, local + 22, 10)
        central = data.index(b"PK\x01\x02")
        struct.pack_into("<I", data, central + 24, 10)
        with pytest.raises(InvalidPackage):
            store.store_sync(bytes(data))
        assert list(store.code.iterdir()) == []

    def test_a_name_given_twice_is_refused(self, store: CodeStore) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", b"one")
            with pytest.warns(UserWarning, match="Duplicate"):
                archive.writestr("handler.py", b"two")
        with pytest.raises(InvalidPackage, match="twice"):
            store.store_sync(buffer.getvalue())


class TestMergingLayers:
    def layers(self, store: CodeStore, *trees: dict[str, bytes], links: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Each tree stored as a layer; names in `links` are symbolic links to their content."""
        return tuple(store.store_sync(zipped(tree, {name: LINK for name in links})).sha256_hex for tree in trees)

    def test_no_layers_are_no_tree_and_one_layer_is_its_own(self, store: CodeStore) -> None:
        (only,) = self.layers(store, {"python/a.py": b"a"})
        assert store.opt_dir(()) is None
        assert store.opt_dir((only,)) == store.code_dir(only)

    def test_a_later_layer_wins_where_both_have_something(self, store: CodeStore) -> None:
        hexes = self.layers(store,
                            {"python/shared.py": b"first", "python/only_first.py": b"1", "bin/tool": b"a file",
                             "lib/dir/inner.so": b"x"},
                            {"python/shared.py": b"second", "bin/tool/inside": b"now a directory",
                             "lib/dir": b"a file"})
        asyncio.run(store.merge(hexes))
        tree = store.opt_dir(hexes)
        assert tree == store.opt / merged_name(hexes)
        assert (tree / "python/shared.py").read_bytes() == b"second"
        assert (tree / "python/only_first.py").read_bytes() == b"1"
        assert (tree / "bin/tool/inside").read_bytes() == b"now a directory"
        assert (tree / "lib/dir").read_bytes() == b"a file"
        assert mode(tree / "python") == 0o755

    def test_a_layers_symbolic_links_are_laid_as_links_and_a_later_directory_replaces_one(
        self, store: CodeStore, tmp_path: Path,
    ) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "host.so").write_bytes(b"the host's")
        hexes = self.layers(store,
                            {"lib/libpq.so.5": b"library", "lib/libpq.so": b"libpq.so.5", "host": str(outside).encode(),
                             "python": str(outside).encode()},
                            {"python/mod.py": b"M = 1"},
                            links=("lib/libpq.so", "host", "python"))
        asyncio.run(store.merge(hexes))
        tree = store.opt / merged_name(hexes)
        assert os.readlink(tree / "lib/libpq.so") == "libpq.so.5"
        assert (tree / "lib/libpq.so").read_bytes() == b"library"
        assert os.readlink(tree / "host") == str(outside)  # the link, not a copy of what it leads to
        assert not (tree / "python").is_symlink()
        assert (tree / "python/mod.py").read_bytes() == b"M = 1"
        assert sorted(path.name for path in outside.iterdir()) == ["host.so"]

    def test_the_order_of_the_layers_names_another_tree(self, store: CodeStore) -> None:
        hexes = self.layers(store, {"v.txt": b"one"}, {"v.txt": b"two"})
        asyncio.run(store.merge(hexes))
        asyncio.run(store.merge(hexes[::-1]))
        assert (store.opt / merged_name(hexes) / "v.txt").read_bytes() == b"two"
        assert (store.opt / merged_name(hexes[::-1]) / "v.txt").read_bytes() == b"one"

    def test_a_merged_tree_is_made_once_and_left_as_it_is(self, store: CodeStore) -> None:
        hexes = self.layers(store, {"a": b"1"}, {"b": b"2"})
        asyncio.run(store.merge(hexes))
        inode = (store.opt / merged_name(hexes) / "a").stat().st_ino
        asyncio.run(store.merge(hexes))
        assert (store.opt / merged_name(hexes) / "a").stat().st_ino == inode
        assert [entry.name for entry in store.opt.iterdir()] == [merged_name(hexes)]  # no scratch left

    def test_a_merged_tree_is_readable_by_every_environment_whatever_the_umask(self, store: CodeStore) -> None:
        hexes = self.layers(store, {"python/a/one.py": b"1"}, {"python/b/two.py": b"2"})
        umask = os.umask(0o077)  # a strict umask: the modes must not come from it
        try:
            asyncio.run(store.merge(hexes))
        finally:
            os.umask(umask)
        tree = store.opt / merged_name(hexes)
        assert [mode(path) for path in (tree, tree / "python", tree / "python/a", tree / "python/b")] == [0o755] * 4
        assert mode(tree / "python/a/one.py") == 0o644

    def test_a_layer_whose_tree_is_gone_is_an_error_and_no_tree_is_made_without_it(self, store: CodeStore) -> None:
        first, second = {"a": b"1"}, {"b": b"2"}
        hexes = self.layers(store, first, second)
        shutil.rmtree(store.code_dir(hexes[1]))
        with pytest.raises(FileNotFoundError):
            merge_layers(store.opt / merged_name(hexes), tuple(store.code_dir(h) for h in hexes))
        assert list(store.opt.iterdir()) == []
        shutil.rmtree(store.code_dir(hexes[0]))  # a function's only layer: its own tree is its /opt
        with pytest.raises(FileNotFoundError):
            merge_layers(store.code_dir(hexes[0]), (store.code_dir(hexes[0]),))
        assert not store.code_dir(hexes[0]).exists()
        store.store_sync(zipped(first))  # published again: whole again
        assert (store.code_dir(hexes[0]) / "a").read_bytes() == b"1"
