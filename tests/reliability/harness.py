"""A real cluster on loopback for fault tests: private PostgreSQL, private NATS, N workers.

Nothing is mocked and nothing shared is touched: PostgreSQL is a fresh ``initdb`` in a temporary
directory on its own port (the Debian binaries, run as the ``postgres`` user when we are root),
NATS a ``nats-server -js`` with its own port and store, and each worker a real
``python -m tocsin serve`` process. Faults are real signals: SIGKILL to a worker or to NATS,
``pg_ctl stop -m immediate`` (a crash, no checkpoint) for PostgreSQL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from tests.reliability.load import SITES
from tocsin.core import seal
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.dispatch import units

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def pg_bin() -> Path | None:
    """Return the newest Debian PostgreSQL bin directory, if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: ``initdb`` in ``root``, listening on its own port."""

    def __init__(self, extra_conf: str = "") -> None:
        self.extra_conf = extra_conf  # appended to postgresql.conf (diagnosis: preload modules)
        binary = pg_bin()
        if binary is None:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql")
        self.bin = binary
        # Its own directory under /tmp: pytest's tmp_path (mode 700, root's) is closed to the
        # ``postgres`` user the server must run as.
        self.root = Path(tempfile.mkdtemp(prefix="tocsin-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/tocsin"

    @property
    def url(self) -> str:
        return self.dsn.replace("postgresql://", "postgresql+psycopg://")

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-instructions")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 200\n"
                "shared_buffers = 64MB\nfsync = on\nsynchronous_commit = on\n"
                "logging_collector = off\n" + self.extra_conf
            )
        self.start()
        with psycopg.connect(self.dsn.replace("/tocsin", "/postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE tocsin")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")

    def crash(self) -> None:
        """Stop without a checkpoint, as a power cut would (recovery replays the WAL)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateNats:
    """A nats-server with JetStream on its own port and store; killed with SIGKILL."""

    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.store = store
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None


@dataclass
class Worker:
    """One ``tocsin serve`` process."""

    port: int
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tocsin", "serve", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the worker mid-flight (no shutdown hook runs)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def rss_mb(self) -> float:
        """Resident memory of the worker process, MiB (from /proc)."""
        if self.proc is None:
            return float("nan")
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")


@dataclass
class Cluster:
    """PostgreSQL + NATS + workers, all private to one test."""

    root: Path
    pg: PrivatePostgres
    nats: PrivateNats
    workers: list[Worker] = field(default_factory=list)
    seal_key: str = field(default_factory=seal.generate_key)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TOCSIN_DATABASE_URL=self.pg.url, TOCSIN_BUS_URL=self.nats.url,
            TOCSIN_BUS_STREAM="TOCSINFAULT", TOCSIN_BUS_PREFIX="tocsinfault",
            TOCSIN_SEAL_KEY=self.seal_key, TOCSIN_VAR_DIR=str(self.root / "var"),
            # One load generator is one address minting a device per SOS: lift the limits.
            TOCSIN_SOS_ADDRESS_NEW_PER_MINUTE="100000000", TOCSIN_SOS_ADDRESS_NEW_BURST="100000000",
            TOCSIN_PUBLIC_RATE_PER_MINUTE="100000000", TOCSIN_DB_POOL_SIZE="10",
            PYTHONUNBUFFERED="1",
        )
        return env


@contextlib.contextmanager
def cluster(root: Path, workers: int = 3,
            before_workers: Callable[[Cluster], None] | None = None,
            pg_conf: str = "") -> Iterator[Cluster]:
    """Start PostgreSQL, NATS, migrate, then ``workers`` workers; tear all down at the end."""
    if not os.path.exists(NATS_SERVER):
        raise RuntimeError("nats-server binary not found (install Debian's nats-server)")
    pg = PrivatePostgres(pg_conf)
    nats = PrivateNats(root / "js")
    pg.init()
    nats.start()
    made = Cluster(root=root, pg=pg, nats=nats)
    try:
        subprocess.run([sys.executable, "-m", "tocsin", "db", "upgrade"], env=made.env(),
                       check=True, capture_output=True, timeout=120)
        if before_workers is not None:
            before_workers(made)
        for n in range(workers):
            worker = Worker(port=free_port(), log=root / f"worker{n}.log", env=made.env())
            worker.start()
            made.workers.append(worker)
        yield made
    finally:
        for worker in made.workers:
            worker.kill()
        nats.kill()
        pg.stop()


def seed_units_on_duty(made: Cluster) -> None:
    """Two units on duty at each site of the evening, so every incident can be offered."""
    seal.configure(seal.Sealer(made.seal_key))
    engine = make_engine(made.pg.url, pool_size=1)
    with session_scope(make_sessionmaker(engine)) as session:
        for n, (lat, lon) in enumerate(SITES * 2):
            units.create_unit(session, callsign=f"PS-{n:02d}", username=None, lat=lat,
                              lon=lon, off_duty=False, now=utcnow())
    engine.dispose()
