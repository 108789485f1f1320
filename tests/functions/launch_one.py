"""Start one environment with the IsolatedLauncher in a process of its own (another user, another
PATH), say the protections line, and stop it when stdin closes (printing its exit status).
argv: WORK_DIR HIDDEN_DIR CODE_DIR RUNTIME_API_ADDRESS RUNTIME"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from strato.functions.isolated import IsolatedLauncher
from strato.functions.launcher import LaunchSpec


async def main(work: Path, hidden: Path, code: Path, address: str, runtime: str) -> None:
    launcher = IsolatedLauncher(work, [hidden])
    log = os.open(work / "log", os.O_WRONLY | os.O_CREAT, 0o600)
    environment = {"AWS_LAMBDA_RUNTIME_API": address, "_HANDLER": "app.handler"}
    process = await launcher.launch(LaunchSpec(runtime, "app.handler", code, environment, 128, 16, log))
    os.close(log)
    print(json.dumps({"protections": launcher.protections}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    process.kill()
    status = await process.wait()
    await launcher.close()
    print(json.dumps({"status": status}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], sys.argv[5]))
