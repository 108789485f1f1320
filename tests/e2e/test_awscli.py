"""The aws CLI (v1, from the test environment) against strato, with no user configuration."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer

AWS = Path(sys.executable).parent / "aws"
MiB = 1024 * 1024


class Aws:
    """Runs `aws ...` against one server, isolated from any configuration on this machine."""

    def __init__(self, server: StratoServer, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        (home / "config").write_text("[default]\n")
        (home / "credentials").write_text("")
        keep = {"PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
        self.env = {name: value for name, value in os.environ.items() if name in keep}
        self.env.update({
            "HOME": str(home), "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "", "PYTHONIOENCODING": "utf-8",
        })
        self.endpoint = server.url

    def __call__(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(AWS), "--endpoint-url", self.endpoint, *map(str, args)]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def json(self, *args: str | Path) -> Any:
        return json.loads(self(*args, "--output", "json").stdout)


@pytest.fixture(scope="module")
def aws(server: StratoServer, tmp_path_factory: pytest.TempPathFactory) -> Aws:
    return Aws(server, tmp_path_factory.mktemp("aws-home"))


@pytest.fixture
def cli_bucket(aws: Aws) -> str:
    name = f"cli-{uuid.uuid4().hex[:16]}"
    made = aws("s3", "mb", f"s3://{name}")
    assert f"make_bucket: {name}" in made.stdout
    return name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_of(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_aws_s3_mb_creates_a_bucket_that_s3_ls_lists(aws: Aws, cli_bucket: str) -> None:
    assert cli_bucket in aws("s3", "ls").stdout
    refused = aws("s3", "mb", f"s3://{cli_bucket}", check=False)
    assert refused.returncode != 0
    assert "BucketAlreadyOwnedByYou" in refused.stderr


def test_a_100_mib_file_goes_up_and_down_with_aws_s3_cp(aws: Aws, cli_bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as handle:
        for _ in range(100):
            handle.write(os.urandom(MiB))
    aws("s3", "cp", source, f"s3://{cli_bucket}/nested/big.bin")
    head = aws.json("s3api", "head-object", "--bucket", cli_bucket, "--key", "nested/big.bin")
    assert head["ContentLength"] == 100 * MiB
    assert head["ETag"].endswith('-13"')  # the CLI's 8 MiB parts: a multipart upload
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{cli_bucket}/nested/big.bin", back)
    assert back.stat().st_size == 100 * MiB
    assert sha256_of(back) == sha256_of(source)


def _make_tree(root: Path) -> None:
    files = {
        "top.txt": b"top level",
        "empty.bin": b"",
        "docs/readme.md": b"# read me\n" * 100,
        "docs/deeper/deepest/note.txt": b"deep",
        "photos/2026/jan/img 001.jpg": os.urandom(300_000),
        "photos/2026/feb/ümlaut+plus.jpg": os.urandom(70_000),
        "code/src/main.py": b"print('hi')\n",
        "code/src/pkg/__init__.py": b"",
        "big/nine-mib.bin": os.urandom(9 * MiB),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_aws_s3_sync_round_trips_a_nested_tree_and_resyncs_nothing(
    aws: Aws, cli_bucket: str, tmp_path: Path
) -> None:
    up = tmp_path / "up"
    _make_tree(up)
    first = aws("s3", "sync", up, f"s3://{cli_bucket}/backup")
    assert first.stdout.count("upload:") == len(tree(up))
    again = aws("s3", "sync", up, f"s3://{cli_bucket}/backup")
    assert again.stdout.strip() == ""
    (up / "docs/deeper/deepest/note.txt").write_bytes(b"changed, and longer than before")
    changed = aws("s3", "sync", up, f"s3://{cli_bucket}/backup")
    assert changed.stdout.count("upload:") == 1
    assert "docs/deeper/deepest/note.txt" in changed.stdout
    down = tmp_path / "down"
    aws("s3", "sync", f"s3://{cli_bucket}/backup", down)
    assert tree(down) == tree(up)
    assert aws("s3", "sync", f"s3://{cli_bucket}/backup", down).stdout.strip() == ""


def test_aws_s3_ls_recursive_and_rm_recursive(aws: Aws, cli_bucket: str, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    _make_tree(root)
    aws("s3", "cp", root, f"s3://{cli_bucket}/", "--recursive")
    listed = aws("s3", "ls", f"s3://{cli_bucket}", "--recursive").stdout.splitlines()
    keys = sorted(line.split(maxsplit=3)[3] for line in listed)
    assert keys == sorted(tree(root))
    sizes = {line.split(maxsplit=3)[3]: int(line.split(maxsplit=3)[2]) for line in listed}
    assert sizes["big/nine-mib.bin"] == 9 * MiB
    top = aws("s3", "ls", f"s3://{cli_bucket}/").stdout
    assert "PRE photos/" in top
    assert "top.txt" in top
    assert "img 001.jpg" not in top
    removed = aws("s3", "rm", f"s3://{cli_bucket}/photos/", "--recursive")
    assert removed.stdout.count("delete:") == 2
    left = aws("s3", "ls", f"s3://{cli_bucket}", "--recursive").stdout
    assert "photos/" not in left
    assert "docs/readme.md" in left
    aws("s3", "rm", f"s3://{cli_bucket}", "--recursive")
    assert aws("s3", "ls", f"s3://{cli_bucket}", "--recursive", check=False).stdout.strip() == ""
    aws("s3", "rb", f"s3://{cli_bucket}")
    assert cli_bucket not in aws("s3", "ls").stdout


def test_aws_s3api_object_commands(aws: Aws, cli_bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"hello": "world"}')
    put = aws.json("s3api", "put-object", "--bucket", cli_bucket, "--key", "dir/obj.json", "--body", body,
                   "--content-type", "application/json", "--metadata", "owner=cli,purpose=test")
    expected_etag = '"' + hashlib.md5(body.read_bytes()).hexdigest() + '"'
    assert put["ETag"] == expected_etag
    head = aws.json("s3api", "head-object", "--bucket", cli_bucket, "--key", "dir/obj.json")
    assert head["ContentLength"] == len(body.read_bytes())
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"owner": "cli", "purpose": "test"}
    assert head["ETag"] == expected_etag
    out = tmp_path / "out.json"
    got = aws.json("s3api", "get-object", "--bucket", cli_bucket, "--key", "dir/obj.json", out)
    assert got["ETag"] == expected_etag
    assert out.read_bytes() == body.read_bytes()
    ranged = tmp_path / "range.bin"
    aws.json("s3api", "get-object", "--bucket", cli_bucket, "--key", "dir/obj.json", "--range", "bytes=2-6",
             ranged)
    assert ranged.read_bytes() == body.read_bytes()[2:7]
    for index in range(3):
        aws("s3api", "put-object", "--bucket", cli_bucket, "--key", f"dir/more-{index}", "--body", body)
    listed = aws.json("s3api", "list-objects-v2", "--bucket", cli_bucket, "--prefix", "dir/")
    assert [item["Key"] for item in listed["Contents"]] == [
        "dir/more-0", "dir/more-1", "dir/more-2", "dir/obj.json",
    ]
    paged = aws.json("s3api", "list-objects-v2", "--bucket", cli_bucket, "--page-size", "2")
    assert len(paged["Contents"]) == 4  # the CLI follows continuation tokens itself
    missing = aws("s3api", "head-object", "--bucket", cli_bucket, "--key", "nope", check=False)
    assert missing.returncode != 0
    assert "404" in missing.stderr


def test_aws_s3_presign_gives_a_url_plain_urllib_can_fetch(aws: Aws, cli_bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "shared file.txt"
    source.write_bytes(b"shared by URL")
    aws("s3", "cp", source, f"s3://{cli_bucket}/share/shared file.txt")
    presigned = aws("s3", "presign", f"s3://{cli_bucket}/share/shared file.txt", "--expires-in", "300")
    url = presigned.stdout.strip()
    assert url.startswith(aws.endpoint)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"shared by URL"
