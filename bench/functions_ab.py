"""Two strato builds side by side on warm invokes: A/B for changes too small for a full run.

Both builds run at once with boto3's floor (bench/functions_bench.py's canned server); each
call to a build is followed by a call to the floor, and the order of the builds alternates call
by call (A, floor, B, floor, then B, floor, A, floor). Without that, the second build in a fixed
order paid for what the first one did after answering (~0.05x here: the server's own post-answer
work and the controller's reports share the CPUs with the next call). Each round prints both
ratios to the floor and their difference; the machine's load moves the ratios, not much the
difference. Run: `python bench/functions_ab.py REF_A REF_B [--rounds N] [--calls N]`.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from typing import Any

from functions_bench import CannedLambda, echo_zip, invoke, lambda_client, timed
from servers import start_strato, strato_source


def deploy(client: Any) -> None:
    client.create_function(FunctionName="echo", Runtime=f"python{sys.version_info[0]}.{sys.version_info[1]}",
                           Role="arn:aws:iam::000000000000:role/bench", Handler="handler.handler",
                           Code={"ZipFile": echo_zip()}, MemorySize=128, Timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", nargs=2, metavar="REF", help="the two git refs to compare")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=300, help="calls to each build per round")
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args(argv)
    servers = []
    try:
        clients = []
        for index, ref in enumerate(opts.refs):
            src, _ = strato_source(ref, sys.executable)
            servers.append(start_strato(opts.workers, sys.executable, src, label=f"-ab{index}"))
            clients.append(lambda_client(servers[-1].base_url))
            deploy(clients[-1])
        floor_client = lambda_client(CannedLambda().url)
        for _ in range(100):  # every worker lent its environment, every cache warm
            for client in (*clients, floor_client):
                invoke(client, "echo")
        differences = []
        print(f"{opts.refs[0]:>12} {opts.refs[1]:>12}   B - A")
        for _ in range(opts.rounds):
            times: list[list[float]] = [[], []]
            floor: list[float] = []
            for call in range(opts.calls):
                for index in (0, 1) if call % 2 == 0 else (1, 0):
                    times[index].append(timed(functools.partial(invoke, clients[index], "echo")))
                    floor.append(timed(functools.partial(invoke, floor_client, "echo")))
            base = statistics.median(floor)
            ratios = [statistics.median(t) / base for t in times]
            differences.append(ratios[1] - ratios[0])
            print(f"{ratios[0]:>11.3f}x {ratios[1]:>11.3f}x  {differences[-1]:+.3f}x   (floor {base:.3f} ms)",
                  flush=True)
        print(f"median difference B - A: {statistics.median(differences):+.3f}x over {opts.rounds} rounds")
    finally:
        for server in servers:
            server.child.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
