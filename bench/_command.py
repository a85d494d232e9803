"""Timing a whole `papertrend` command as a child process (a helper, not a benchmark).

The figures are the command's own, from process start to exit: wall time, CPU time (user + system)
and peak resident memory, the last two from the kernel's accounting of that one child (`os.wait4`),
so nothing of the benchmark process is counted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CommandRun:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    peak_mib: float  # its peak resident memory
    output: str  # stdout, then stderr


def papertrend(checkout: Path = ROOT) -> list[str]:
    """How to start `papertrend` from a checkout: its venv's console script, else `python -m app.cli`
    run inside it (the checkout's own code comes first on the path)."""
    script = checkout / ".venv" / "bin" / "papertrend"
    if script.exists() and checkout == ROOT:
        return [str(script)]
    return [sys.executable, "-m", "app.cli"]


def run_command(argv: list[str], *, database: Path, cwd: Path = ROOT) -> CommandRun:
    """Run `argv` against the SQLite database at `database`; raise with its output if it fails."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(cwd),
    }
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output = out.read() + err.read()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}:\n{output[-3000:]}")
    # Linux reports ru_maxrss in KiB.
    return CommandRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def run_on_copy(argv: list[str], *, database: Path, scratch: Path, cwd: Path = ROOT) -> CommandRun:
    """`run_command` on a fresh copy of `database` (in `scratch`), so every run starts from the same
    rows; the copy is removed afterwards."""
    copy = scratch / f"run-{os.getpid()}-{time.monotonic_ns()}.db"
    shutil.copyfile(database, copy)
    try:
        return run_command(argv, database=copy, cwd=cwd)
    finally:
        copy.unlink(missing_ok=True)
