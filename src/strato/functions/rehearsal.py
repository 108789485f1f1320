"""A spare environment's rehearsal of a launch (envprocs.Runtime.wait_for_launch): what the
runtime client runs first, once, on throwaway input, before the cold start that uses the spare.
Apart from the runtime client's module, whose per-invocation loop stays as it is."""

from __future__ import annotations

import os
import shutil
import socket
import sys

from .runtime_client import LambdaLoggerHandler, RuntimeClient, function_names, handle, load_handler

REHEARSAL_MODULE = "strato_rehearsal"
REHEARSAL_VARIABLES = 32  # about as many as a function's environment has
# What the Runtime API answers a rehearsal: an invocation, then its result's 202.
REHEARSAL_ANSWERS = (b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: rehearsal\r\n"
                     b"Lambda-Runtime-Deadline-Ms: 0\r\nContent-Length: 28\r\n\r\n"
                     b'{"rehearsal": [1, 2.5, "x"]}'
                     b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")


def rehearse(directory: str) -> None:
    """Run once, on throwaway input, what a launch runs first: the environment's variables set,
    a handler module imported from a directory, one invocation taken from a canned Runtime API
    on a socket pair, handled and answered. A process forked from the zygote copies every page
    it first writes to (a few µs each on a VM; a first import alone writes ~170): a spare that
    rehearses while it waits has them copied before the cold start that uses it. Leaves
    nothing behind: the variables, module, path entries, cached context names, the request id
    log records are stamped with and files are gone (`directory`, a fresh one, is removed)."""
    kept = dict(os.environ)
    os.environ.clear()
    os.environ.update({f"STRATO_REHEARSAL_{i}": "-" * 64 for i in range(REHEARSAL_VARIABLES)})
    os.environ.clear()
    os.environ.update(kept)
    with open(os.path.join(directory, f"{REHEARSAL_MODULE}.py"), "w") as module:
        module.write("def handler(event, context):\n    return event\n")
    sys.path.insert(0, directory)
    ours, theirs = socket.socketpair()
    try:
        handler = load_handler(f"{REHEARSAL_MODULE}.handler")
        theirs.sendall(REHEARSAL_ANSWERS)
        client = RuntimeClient("127.0.0.1:9001", ours)
        body, headers = client.next()
        handle(client, handler, body, headers)
    finally:
        ours.close()
        theirs.close()
        function_names.cache_clear()
        LambdaLoggerHandler.request_id = ""
        os.environ.clear()
        os.environ.update(kept)
        sys.path.remove(directory)
        sys.path_importer_cache.pop(directory, None)
        sys.modules.pop(REHEARSAL_MODULE, None)
        shutil.rmtree(directory)
