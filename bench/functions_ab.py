"""Two strato builds side by side on warm invokes: A/B for changes too small for a full run.

Both builds run at once with boto3's floor (bench/functions_bench.py's canned server); each
call to a build is followed by a call to the floor, and the order of the builds alternates call
by call (A, floor, B, floor, then B, floor, A, floor). Without that, the second build in a fixed
order paid for what the first one did after answering (~0.05x here: the server's own post-answer
work and the controller's reports share the CPUs with the next call). Each round prints both
ratios to the floor and their difference; the machine's load moves the ratios, not much the
difference.

A pair of servers is not symmetric either: an A/A run of one commit against itself once gave the
second server +0.014x to +0.029x in every round, and another time nothing (which worker the
client's connection lands on, where each server's processes run). So the rounds are split
into passes (`--passes`, default 2), each with a fresh pair started in the other order, and the
median is over all rounds; each pass's own median is printed too. Run:
`python bench/functions_ab.py REF_A REF_B [--rounds N] [--calls N] [--passes N]`.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from typing import Any

from functions_bench import CannedLambda, deploy_echo, invoke, lambda_client, timed
from servers import start_strato, strato_source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", nargs=2, metavar="REF", help="the two git refs to compare")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=300, help="calls to each build per round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--passes", type=int, default=2, help="fresh server pairs, started in alternating order")
    opts = parser.parse_args(argv)
    passes = max(1, min(opts.passes, opts.rounds))  # each pass runs a round at least
    floor_client = lambda_client(CannedLambda().url)
    differences: list[float] = []
    print(f"{opts.refs[0]:>12} {opts.refs[1]:>12}   B - A")
    for number in range(passes):
        rounds = opts.rounds // passes + (number < opts.rounds % passes)
        found = run_pass(opts.refs, opts.workers, floor_client, rounds, opts.calls, reverse=number % 2 == 1)
        first = "B" if number % 2 else "A"
        print(f"  pass {number + 1} ({first} started first): median {statistics.median(found):+.3f}x")
        differences += found
    print(f"median difference B - A: {statistics.median(differences):+.3f}x over {len(differences)} rounds")
    return 0


def run_pass(refs: list[str], workers: int, floor_client: Any, rounds: int, calls: int, *,
             reverse: bool) -> list[float]:
    """`rounds` rounds on a fresh pair of servers (B's started first when `reverse`): B - A of each."""
    servers = {}
    try:
        clients = {}
        for index in (1, 0) if reverse else (0, 1):
            src, _ = strato_source(refs[index], sys.executable)
            servers[index] = start_strato(workers, sys.executable, src, label=f"-ab{index}")
            clients[index] = lambda_client(servers[index].base_url)
            deploy_echo(clients[index])
        for _ in range(100):  # every worker lent its environment, every cache warm
            for client in (clients[0], clients[1], floor_client):
                invoke(client, "echo")
        differences = []
        for _ in range(rounds):
            times: list[list[float]] = [[], []]
            floor: list[float] = []
            for call in range(calls):
                for index in (0, 1) if call % 2 == 0 else (1, 0):
                    times[index].append(timed(functools.partial(invoke, clients[index], "echo")))
                    floor.append(timed(functools.partial(invoke, floor_client, "echo")))
            base = statistics.median(floor)
            ratios = [statistics.median(t) / base for t in times]
            differences.append(ratios[1] - ratios[0])
            print(f"{ratios[0]:>11.3f}x {ratios[1]:>11.3f}x  {differences[-1]:+.3f}x   (floor {base:.3f} ms)",
                  flush=True)
        return differences
    finally:
        for server in servers.values():
            server.child.stop()


if __name__ == "__main__":
    sys.exit(main())
