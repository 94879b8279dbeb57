"""Private Redis and PostgreSQL servers that a test may stop and start at will.

The shared services on 5432/6379 serve every test run on the machine, so a test that restarts
a server gets its own: a redis-server and an initdb'd PostgreSQL cluster in a temporary
directory, each on a free loopback port. initdb refuses to run as root, so as root the
PostgreSQL commands run as the `postgres` OS user. With CI=true a missing binary fails the
test instead of skipping it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from takedown_testing import IN_CI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str) -> None:
    message = f"{what} is not installed"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the restart tests must run)")
    pytest.skip(message)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait(what: str, predicate: Callable[[], bool], limit: float = 60.0) -> float:
    """Seconds until `predicate` held; an AssertionError after `limit`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > limit:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


class PrivateRedis:
    """redis-server on its own port. Without persistence by default, so a restart loses the
    stream and its consumer group, as a Redis replaced by a fresh one would."""

    def __init__(self, workdir: Path, *, persist: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("redis-server")
        self.binary = str(binary)
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.persist = persist
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.workdir), "--save", "",
                "--appendonly", "yes" if self.persist else "no"]
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log)
        _wait("private Redis to listen", lambda: _listening(self.port))

    def kill(self) -> None:
        """SIGKILL: what a crashed or OOM-killed Redis looks like to its clients."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (fsync off: durability of the test's data does not
    matter, and CI machines are slow enough already)."""

    def __init__(self) -> None:
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        pg_config = shutil.which("pg_config")
        if pg_config:
            found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            bindirs.append(found.stdout.strip())
        bindir = next((d for d in reversed(bindirs) if Path(d, "initdb").exists()), None)
        if bindir is None:
            _missing("PostgreSQL server binaries (initdb)")
        self.bindir = Path(str(bindir))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
        # Not under pytest's tmp_path: that is private to the user running pytest (mode 0700),
        # and the server may run as another user.
        self.workdir = Path(tempfile.mkdtemp(prefix="takedown-pg-"))
        if self.as_user:
            shutil.chown(self.workdir, user="postgres")
        self.data = self.workdir / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self.as_user, str(self.bindir / tool), *args],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.workdir / "postgres.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes every connection; `immediate`
        is a crash (recovery runs at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)
