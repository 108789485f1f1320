"""`strato serve` as an operator meets it: first-start credentials, signals, admin paths,
several worker processes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.lambda_helpers import call, deploy
from tests.servers import StratoServer


def client_for(server: StratoServer, access_key: str, secret_key: str) -> Any:
    return make_client(server.url, access_key=access_key, secret_key=secret_key, retries={"max_attempts": 1})


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    """Poll a condition about another process until it holds (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


# -- credentials ------------------------------------------------------------------------------


def test_a_first_start_without_root_keys_generates_prints_and_stores_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = StratoServer(data, root_keys=False).start()
    try:
        access = re.search(r"root access key: (\S+)", first.text)
        secret = re.search(r"root secret key: (\S+)", first.text)
        assert access is not None, first.text
        assert secret is not None, first.text
        stored = data / "credentials.json"
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700, "no other local user reads the objects or keys"
        saved = json.loads(stored.read_text())
        assert saved == {"access_key": access.group(1), "secret_key": secret.group(1)}
        assert first.text.count(secret.group(1)) == 1
        owner = client_for(first, access.group(1), secret.group(1))
        owner.create_bucket(Bucket="first-start")
        owner.put_object(Bucket="first-start", Key="k", Body=b"kept")
        with pytest.raises(ClientError) as raised:
            make_client(first.url).list_buckets()  # the test suite's usual keys mean nothing here
        assert raised.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    finally:
        assert first.stop() == 0
    stored_text = stored.read_text()

    second = StratoServer(data, root_keys=False).start()
    try:
        assert secret.group(1) not in second.text
        assert "root secret key" not in second.text
        assert str(stored.resolve()) in second.text
        owner = client_for(second, access.group(1), secret.group(1))
        assert owner.get_object(Bucket="first-start", Key="k")["Body"].read() == b"kept"
    finally:
        assert second.stop() == 0
    assert stored.read_text() == stored_text
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["{bad", "{}", "[]"])
def test_a_damaged_credentials_file_is_refused_in_one_line_naming_it(tmp_path: Path, content: str) -> None:
    """Not a traceback, and never new keys written over the old ones."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "credentials.json").write_text(content)
    command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--edge-port", "0", "--data-dir", str(data)]
    done = subprocess.run(command, env=StratoServer(data, root_keys=False).env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert done.stderr.startswith(f"strato: cannot read the root keys in {data / 'credentials.json'}"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert (data / "credentials.json").read_text() == content


def test_keys_from_the_environment_are_used_and_never_printed(tmp_path: Path) -> None:
    server = StratoServer(tmp_path / "data", env={"STRATO_ROOT_ACCESS_KEY": "ENVKEY0000000000",
                                                  "STRATO_ROOT_SECRET_KEY": "env-secret-value-123"}).start()
    try:
        assert "env-secret-value-123" not in server.text
        assert "STRATO_ROOT_ACCESS_KEY" in server.text
        client_for(server, "ENVKEY0000000000", "env-secret-value-123").create_bucket(Bucket="from-env")
        assert not (tmp_path / "data" / "credentials.json").exists()
    finally:
        assert server.stop() == 0


def test_only_one_of_the_two_root_key_variables_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in StratoServer(tmp_path).env.items() if k != "STRATO_ROOT_SECRET_KEY"}
    command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--data-dir", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "STRATO_ROOT_SECRET_KEY" in done.stderr


def test_a_data_dir_that_is_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--edge-port", "0",
               "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(command, env=StratoServer(tmp_path).env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr == f"strato: cannot use the data dir {tmp_path / 'data'}: File exists\n"


def test_an_edge_access_log_that_cannot_be_opened_is_refused_before_serving(tmp_path: Path) -> None:
    """Not an edge that fails at every restart while the rest serves."""
    target = tmp_path / "no-such-dir" / "access.log"
    command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--edge-port", "0", "--data-dir", str(tmp_path)]
    done = subprocess.run(command, env={**StratoServer(tmp_path).env, "STRATO_EDGE_ACCESS_LOG": str(target)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.endswith(f"strato: cannot open the edge access log {target}: No such file or directory\n")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("name", "value"), [("STRATO_REQUEST_TIMEOUT", "nan"), ("STRATO_EDGE_CACHE_SIZE", "inf"),
                                           ("STRATO_EDGE_RATE", "-5")])
def test_a_bad_setting_is_refused_in_one_line_before_serving(tmp_path: Path, name: str, value: str) -> None:
    """Not a traceback, nor a server whose edge restarts forever on it."""
    env = {**StratoServer(tmp_path).env, name: value}
    command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--edge-port", "0", "--data-dir", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith(f"strato: {name}"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


# -- stopping -------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_the_server_with_status_0(
    tmp_path: Path, sig: signal.Signals, workers: int
) -> None:
    server = StratoServer(tmp_path / "data", "--workers", str(workers)).start()
    client = make_client(server.url)
    client.create_bucket(Bucket="busy")
    client.put_object(Bucket="busy", Key="k", Body=b"x")  # leaves an idle keep-alive connection open
    workers_before = psutil.Process(server.pid).children()
    assert server.stop(sig, timeout=20) == 0, server.text
    assert "Traceback" not in server.text
    _, alive = psutil.wait_procs(workers_before, timeout=20)
    assert alive == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def stop_by_terminal(server: StratoServer) -> None:
    """Ctrl-C: SIGINT to every process of the terminal's foreground group at once."""
    os.killpg(server.pid, signal.SIGINT)


def stop_by_sigterm(server: StratoServer) -> None:
    os.kill(server.pid, signal.SIGTERM)


@pytest.mark.parametrize("stop", [stop_by_sigterm, stop_by_terminal], ids=["SIGTERM", "Ctrl-C"])
def test_an_invoke_in_flight_when_the_server_is_stopped_is_answered_before_it_exits(
    tmp_path: Path, stop: Any
) -> None:
    """As a graceful stop finishes the requests in progress: the functions controller, its
    zygotes and environments are stopped only after the workers, whose invokes they run, are done."""
    server = StratoServer(tmp_path / "data", own_group=True).start()
    lam = make_client(server.url, "lambda", retries={"max_attempts": 0}, read_timeout=60)
    name = deploy(lam, """
        import socket, time
        def handler(event, context):
            socket.create_connection(("127.0.0.1", event["port"])).close()  # it has begun
            time.sleep(2)
            return {"finished": True}
    """)
    answers: list[object] = []
    with socket.socket() as begun:
        begun.bind(("127.0.0.1", 0))
        begun.listen()
        begun.settimeout(60)
        invoking = threading.Thread(target=lambda: answers.append(call(lam, name, {"port": begun.getsockname()[1]})[1]))
        invoking.start()
        begun.accept()[0].close()
        stop(server)
        invoking.join(60)
    assert answers == [{"finished": True}]
    assert server.stop(timeout=60) == 0, server.text
    assert "Traceback" not in server.text


def test_a_client_that_never_reads_its_download_does_not_hold_up_a_stop(tmp_path: Path) -> None:
    """SIGTERM stops the API within its request timeout (2 s here) whatever a client does; one
    that asked for a large object and read none of it held the server up for good."""
    server = StratoServer(tmp_path / "data", env={"STRATO_REQUEST_TIMEOUT": "2"}).start()
    try:
        s3 = make_client(server.url)
        s3.create_bucket(Bucket="never-read")
        s3.put_object(Bucket="never-read", Key="big", Body=b"x" * (32 * 1024 * 1024))
        url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": "never-read", "Key": "big"}))
        with socket.create_connection(("127.0.0.1", server.port)) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.sendall(f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
            assert client.recv(12) == b"HTTP/1.1 200"
            assert server.stop(timeout=30) == 0, server.text
    finally:
        if server.alive():
            server.kill()


def test_a_server_restarted_after_a_clean_stop_serves_the_same_data(tmp_path: Path) -> None:
    server = StratoServer(tmp_path / "data").start()
    make_client(server.url).create_bucket(Bucket="durable")
    make_client(server.url).put_object(Bucket="durable", Key="k", Body=b"still here")
    assert server.stop() == 0
    again = StratoServer(tmp_path / "data").start()
    try:
        assert make_client(again.url).get_object(Bucket="durable", Key="k")["Body"].read() == b"still here"
    finally:
        assert again.stop() == 0


def test_on_an_ipv6_address_the_printed_endpoints_are_urls_clients_take(tmp_path: Path) -> None:
    """`--host ::1` printed http://::1:PORT, which no client parses; the address is bracketed."""
    env = StratoServer(tmp_path).env
    command = [sys.executable, "-m", "strato", "serve", "--host", "::1", "--port", "0", "--edge-port", "0",
               "--data-dir", str(tmp_path / "data")]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as server:
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(8)]
            endpoint = next(line.split()[0] for line in lines if "AWS_ENDPOINT_URL=" in line).split("=", 1)[1]
            assert re.fullmatch(r"http://\[::1\]:\d+", endpoint), lines
            assert any(f"AWS API (S3):  {endpoint}" in line for line in lines), lines
            assert re.search(r"CDN edge:\s+http://\[::1\]:\d+", "".join(lines)), lines
            wait_for(lambda: _answers(endpoint), timeout=60)
            assert make_client(endpoint).list_buckets()["Buckets"] == []
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0


def _answers(url: str) -> bool:
    try:
        return get(f"{url}/_strato/health")[0] == 200
    except OSError:
        return False


def test_a_busy_port_is_a_clear_error_not_a_traceback(server: StratoServer, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "strato", "serve", "--port", str(server.port), "--data-dir", str(tmp_path)],
        env=server.env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "cannot listen" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_while_waiting_for_the_data_dir_ends_the_start_with_status_0(
    server: StratoServer, sig: signal.Signals
) -> None:
    """Ctrl-C on a start that waits for the first server to let go of its data dir."""
    second = StratoServer(server.data_dir)

    def start_stopped() -> None:
        with pytest.raises(RuntimeError, match="exited during startup"):
            second.start(timeout=60.0)

    waiting = threading.Thread(target=start_stopped)
    waiting.start()
    try:
        wait_for(lambda: "in use by another strato serve" in second.text)
        assert second.stop(sig, timeout=30) == 0, second.text
    finally:
        waiting.join(60)
    assert "Traceback" not in second.text


# -- admin paths ----------------------------------------------------------------------------


def test_health_answers_without_credentials(server: StratoServer) -> None:
    status, content_type, body = get(f"{server.url}/_strato/health")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body)["status"] == "ok"


def test_metrics_are_prometheus_text_counting_responses(server: StratoServer, s3: Any, bucket: str) -> None:
    def count(status: int) -> int:
        code, content_type, body = get(f"{server.url}/_strato/metrics")
        assert code == 200
        assert content_type.startswith("text/plain")
        found = re.search(rf'^strato_http_responses_total{{service="s3",status="{status}"}} (\d+)$',
                          body.decode(), re.MULTILINE)
        return int(found.group(1)) if found else 0

    ok_before, denied_before = count(200), count(403)
    s3.put_object(Bucket=bucket, Key="counted", Body=b"x")
    assert get(f"{server.url}/{bucket}/counted")[0] == 403  # anonymous
    assert count(200) >= ok_before + 1
    assert count(403) >= denied_before + 1
    assert b"# TYPE strato_http_responses_total counter" in get(f"{server.url}/_strato/metrics")[2]


def test_an_unknown_admin_path_is_404(server: StratoServer) -> None:
    assert get(f"{server.url}/_strato/nope")[0] == 404


# -- several workers ------------------------------------------------------------------------


@pytest.fixture
def two_workers(tmp_path: Path) -> Any:
    server = StratoServer(tmp_path / "data", "--workers", "2").start()
    yield server
    if server.alive():
        assert server.stop() == 0


def roles(server: StratoServer) -> list[str]:
    return sorted(child.name() for child in psutil.Process(server.pid).children())


def test_two_workers_serve_requests_over_many_connections(two_workers: StratoServer) -> None:
    assert roles(two_workers) == ["strato:edge", "strato:function", "strato:worker-0", "strato:worker-1"]
    setup = make_client(two_workers.url)
    setup.create_bucket(Bucket="shared")
    for index in range(40):
        client = make_client(two_workers.url)  # a new connection each time, spread by the kernel
        key = f"k{index}"
        client.put_object(Bucket="shared", Key=key, Body=key.encode())
        got = make_client(two_workers.url).get_object(Bucket="shared", Key=key)
        assert got["Body"].read() == key.encode()
    assert setup.list_objects_v2(Bucket="shared")["KeyCount"] == 40
    assert get(f"{two_workers.url}/_strato/health")[0] == 200


def test_a_worker_that_dies_is_replaced(two_workers: StratoServer) -> None:
    supervisor = psutil.Process(two_workers.pid)
    victim = next(child for child in supervisor.children() if child.name() == "strato:worker-0")
    victim.kill()
    victim.wait(timeout=20)
    wait_for(lambda: victim.pid not in [c.pid for c in supervisor.children()] and len(roles(two_workers)) == 4)
    assert roles(two_workers) == ["strato:edge", "strato:function", "strato:worker-0", "strato:worker-1"]
    client = make_client(two_workers.url)
    name = f"after-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=name)
    assert client.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_workers_stop_when_their_supervisor_is_killed(two_workers: StratoServer) -> None:
    workers = psutil.Process(two_workers.pid).children()
    assert len(workers) == 4  # and the functions controller and the edge
    os.kill(two_workers.pid, signal.SIGKILL)
    two_workers.stop()
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert alive == [], "orphaned workers keep serving the old socket"
    restarted = StratoServer(two_workers.data_dir, "--workers", "2").start()
    try:
        assert get(f"{restarted.url}/_strato/health")[0] == 200
    finally:
        assert restarted.stop() == 0


def test_metrics_sum_every_workers_responses(two_workers: StratoServer) -> None:
    """Each scrape lands on one worker; its counts still cover both."""
    client = make_client(two_workers.url)
    client.create_bucket(Bucket="metered")
    for index in range(40):  # anonymous, so 403; a fresh connection each, spread over both workers
        assert get(f"{two_workers.url}/metered/k{index}")[0] == 403
    served_by = set()
    for _ in range(10):
        _, _, body = get(f"{two_workers.url}/_strato/metrics")
        found = re.search(r'^strato_http_responses_total\{service="s3",status="403"\} (\d+)$',
                          body.decode(), re.MULTILINE)
        assert found is not None
        served_by.add(int(found.group(1)))
    assert served_by == {40}


def test_a_second_server_on_one_data_dir_waits_for_the_first_to_be_gone(tmp_path: Path) -> None:
    """It would run its recovery under the first one's writes; it starts once the first has
    stopped (as a restart right after a crash does)."""
    first = StratoServer(tmp_path / "data").start()
    second = StratoServer(tmp_path / "data")
    waiting = threading.Thread(target=second.start, kwargs={"timeout": 60.0})
    waiting.start()
    try:
        wait_for(lambda: "in use by another strato serve" in second.text)
        assert f"(pid {first.pid})" in second.text
        make_client(first.url).create_bucket(Bucket="first-only")
        assert first.stop() == 0
        waiting.join(60)
        make_client(second.url).head_bucket(Bucket="first-only")
    finally:
        waiting.join(60)
        if second.alive():
            assert second.stop() == 0
