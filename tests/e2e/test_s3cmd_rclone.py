"""s3cmd and rclone, installed from PyPI with the test extras, with their default settings."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer

BIN = Path(sys.executable).parent
MiB = 1024 * 1024


def isolated_env(home: Path) -> dict[str, str]:
    """No configuration, CA bundle or credentials of this machine leaks into the tool."""
    home.mkdir(parents=True, exist_ok=True)
    keep = {"PATH", "LANG", "LC_ALL", "TMPDIR"}
    return {**{k: v for k, v in os.environ.items() if k in keep}, "HOME": str(home), "PYTHONIOENCODING": "utf-8"}


def run(command: list[str], env: dict[str, str], stdout_only: bool = False) -> str:
    """The tool's output (stdout and stderr, where rclone logs); fails on a non-zero exit."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout if stdout_only else done.stdout + done.stderr


def write_tree(root: Path) -> dict[str, bytes]:
    files = {"top.txt": b"top", "a/b/c.txt": b"deep", "a/space name.txt": b"spaced", "big.bin": os.urandom(7 * MiB)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def s3cmd_for(server: StratoServer, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The s3cmd command line, configured for `server` alone, and its environment."""
    env = isolated_env(tmp_path / "home")
    config = tmp_path / "s3cfg"
    host = server.url.removeprefix("http://")
    config.write_text(
        f"[default]\naccess_key = {ACCESS_KEY}\nsecret_key = {SECRET_KEY}\nhost_base = {host}\n"
        f"host_bucket = {host}\nuse_https = False\nbucket_location = {REGION}\n"
    )
    return [str(BIN / "s3cmd"), "-c", str(config)], env


class TestS3cmd:
    @pytest.fixture
    def s3cmd(self, server: StratoServer, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
        return s3cmd_for(server, tmp_path)

    def test_put_get_sync_signurl_and_delete_round_trip(
        self, s3cmd: tuple[list[str], dict[str, str]], tmp_path: Path
    ) -> None:
        base, env = s3cmd
        bucket = f"s3cmd-{uuid.uuid4().hex[:12]}"
        source = tmp_path / "src"
        files = write_tree(source)
        run([*base, "mb", f"s3://{bucket}"], env)
        # 7 MiB with 5 MiB chunks: a multipart upload.
        run([*base, "put", "--multipart-chunk-size-mb=5", str(source / "big.bin"), f"s3://{bucket}/one/big.bin"], env)
        run([*base, "get", f"s3://{bucket}/one/big.bin", str(tmp_path / "back.bin")], env)
        assert (tmp_path / "back.bin").read_bytes() == files["big.bin"]

        run([*base, "sync", f"{source}/", f"s3://{bucket}/tree/"], env)
        listed = run([*base, "ls", "-r", f"s3://{bucket}/tree/"], env)
        for name in files:
            assert f"s3://{bucket}/tree/{name}" in listed
        again = run([*base, "sync", f"{source}/", f"s3://{bucket}/tree/"], env)
        assert "upload:" not in again

        url = run([*base, "signurl", f"s3://{bucket}/tree/top.txt", "+600"], env).strip().splitlines()[-1]
        with urllib.request.urlopen(url) as response:
            assert response.read() == b"top"

        run([*base, "del", "--recursive", "--force", f"s3://{bucket}/"], env)
        run([*base, "rb", f"s3://{bucket}"], env)
        assert f"s3://{bucket}" not in run([*base, "ls"], env)


class TestRclone:
    @pytest.fixture
    def rclone(self, server: StratoServer, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
        env = isolated_env(tmp_path / "home")
        env.update({
            "RCLONE_CONFIG_STRATO_TYPE": "s3", "RCLONE_CONFIG_STRATO_PROVIDER": "Other",
            "RCLONE_CONFIG_STRATO_ACCESS_KEY_ID": ACCESS_KEY, "RCLONE_CONFIG_STRATO_SECRET_ACCESS_KEY": SECRET_KEY,
            "RCLONE_CONFIG_STRATO_ENDPOINT": server.url, "RCLONE_CONFIG_STRATO_REGION": REGION,
            "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
        })
        return [str(BIN / "rclone")], env

    def test_copy_sync_check_and_purge_round_trip(
        self, rclone: tuple[list[str], dict[str, str]], tmp_path: Path
    ) -> None:
        base, env = rclone
        remote = f"strato:rclone-{uuid.uuid4().hex[:12]}"
        source = tmp_path / "src"
        files = write_tree(source)
        run([*base, "mkdir", remote], env)
        run([*base, "sync", str(source), f"{remote}/tree"], env)
        checked = run([*base, "check", str(source), f"{remote}/tree"], env)
        assert "0 differences found" in checked

        listing = json.loads(run([*base, "lsjson", "--recursive", f"{remote}/tree"], env, stdout_only=True))
        sizes = {entry["Path"]: entry["Size"] for entry in listing if not entry["IsDir"]}
        assert sizes == {name: len(data) for name, data in files.items()}
        modified = {entry["Path"]: entry["ModTime"] for entry in listing if not entry["IsDir"]}
        local = {name: (source / name).stat().st_mtime for name in files}
        assert all(modified[name][:19] == _iso(local[name])[:19] for name in files)  # rclone keeps mtimes

        run([*base, "copyto", f"{remote}/tree/big.bin", str(tmp_path / "back.bin")], env)
        assert hashlib.sha256((tmp_path / "back.bin").read_bytes()).digest() == hashlib.sha256(
            files["big.bin"]
        ).digest()

        purged = run([*base, "purge", remote], env)
        assert "ERROR" not in purged
        assert run([*base, "lsf", "strato:"], env, stdout_only=True).count(remote.split(":", 1)[1]) == 0


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
