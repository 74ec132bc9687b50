"""Fault injection for the database tests: a local TCP proxy the test controls, and PgBouncer.

:class:`PgProxy` sits between psycopg and a PostgreSQL server (or PgBouncer). It runs in a thread
of its own, so it works the same for sync and async clients, and it can:

* ``cut()``: close every connection and refuse new ones (the server is "down");
  ``restore()`` listens again on the same port (the server is "back");
* ``freeze()``: keep connections open but forward nothing (a frozen server or a partition);
* ``drop_reply_after_commit(marker)``: for the next statement whose text contains ``marker``,
  forward it, swallow the server's whole reply up to and including ReadyForQuery (so the
  transaction has committed), then close the client's connection: the client never learns that
  its write succeeded.

:class:`PgBouncer` starts a real PgBouncer (``pool_mode = transaction``) on a free port in front of
a PostgreSQL server, with its own ini and userlist in a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

READY_FOR_QUERY = b"Z\x00\x00\x00\x05"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PgProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target`` (host, port), controlled by the test."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._frozen = False
        self._drop_marker: bytes | None = None
        self.dropped = 0
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._pending: dict[socket.socket, bytearray] = {}
        self._swallowing: set[socket.socket] = set()
        self._listen()
        self._thread = threading.Thread(target=self._run, name="pg-proxy", daemon=True)
        self._thread.start()

    # -- control (any thread) ---------------------------------------------------------------

    def dsn(self, dsn: str) -> str:
        """``dsn`` pointed at this proxy."""
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        info.update(host="127.0.0.1", port=str(self.port))
        return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]

    def cut(self) -> None:
        """Close every connection and stop listening (connection refused)."""
        self._call(self._do_cut)

    def restore(self) -> None:
        """Listen again on the same port and forward again."""
        self._call(self._do_restore)

    def freeze(self) -> None:
        """Forward nothing, in either direction, until :meth:`restore`."""
        with self._lock:
            self._frozen = True

    def drop_reply_after_commit(self, marker: bytes) -> None:
        """Swallow the reply to the next statement containing ``marker`` (see module doc)."""
        with self._lock:
            self._drop_marker = marker

    def close(self) -> None:
        self._stop.set()
        self._wake()
        self._thread.join(timeout=5)
        self._do_cut()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- the loop (proxy thread) ---------------------------------------------------------------

    def _call(self, action: Any) -> None:
        done = threading.Event()
        with self._lock:
            self._actions = getattr(self, "_actions", [])
            self._actions.append((action, done))
        self._wake()
        if not done.wait(timeout=5):
            raise RuntimeError("the proxy thread did not answer")

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.setblocking(False)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, ("accept", None))

    def _do_cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        for client, server in list(self._pairs):
            self._close_pair(client, server)
        with self._lock:
            self._frozen = False

    def _do_restore(self) -> None:
        with self._lock:
            self._frozen = False
        if self._listener is None:
            self._listen()

    def _close_pair(self, client: socket.socket, server: socket.socket) -> None:
        for sock in (client, server):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            self._pending.pop(sock, None)
            self._swallowing.discard(sock)
        with contextlib.suppress(ValueError):
            self._pairs.remove((client, server))

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                kind, peer = key.data
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if kind == "wake":
                    with contextlib.suppress(OSError):
                        sock.recv(4096)
                    with self._lock:
                        actions, self._actions = getattr(self, "_actions", []), []
                    for action, done in actions:
                        action()
                        done.set()
                elif kind == "accept":
                    self._accept(sock)
                else:
                    self._forward(sock, peer, kind)

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            server = socket.create_connection(self.target, timeout=2)
        except OSError:
            client.close()
            return
        client.setblocking(False)
        server.setblocking(False)
        self._pairs.append((client, server))
        self._selector.register(client, selectors.EVENT_READ, ("from_client", server))
        self._selector.register(server, selectors.EVENT_READ, ("from_server", client))

    def _forward(self, sock: socket.socket, peer: socket.socket, kind: str) -> None:
        with self._lock:
            frozen = self._frozen
        if frozen:
            time.sleep(0.001)
            return
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        pair = (sock, peer) if kind == "from_client" else (peer, sock)
        if not data:
            self._close_pair(*pair)
            return
        if kind == "from_client":
            with self._lock:
                marker = self._drop_marker
                if marker is not None and marker in data:
                    self._drop_marker = None
                    self._swallowing.add(peer)
            with contextlib.suppress(OSError):
                peer.sendall(data)
            return
        if sock in self._swallowing:
            buffer = self._pending.setdefault(sock, bytearray())
            buffer.extend(data)
            if READY_FOR_QUERY in buffer:  # the server has finished: the commit is done
                self.dropped += 1
                self._close_pair(*pair)
            return
        with contextlib.suppress(OSError):
            peer.sendall(data)


class PgBouncer:
    """A real PgBouncer in transaction mode on a free port, in front of ``target_dsn``'s server.

    Args:
        target_dsn: A DSN of the PostgreSQL server (its host, port and user are used).
        default_pool_size: Server connections per database/user pair.
        max_client_conn: Most client connections accepted.
    """

    def __init__(
        self, target_dsn: str, *, default_pool_size: int = 5, max_client_conn: int = 400
    ) -> None:
        info = psycopg.conninfo.conninfo_to_dict(target_dsn)
        self.port = free_port()
        self.user = str(info.get("user") or "postgres")
        self.dir = Path(tempfile.mkdtemp(prefix="vg-pgbouncer-"))
        (self.dir / "userlist.txt").write_text(f'"{self.user}" ""\n', encoding="utf-8")
        (self.dir / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={info.get('host', '127.0.0.1')} port={info.get('port', '5432')}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    f"unix_socket_dir = {self.dir}",
                    "auth_type = trust",
                    f"auth_file = {self.dir / 'userlist.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {default_pool_size}",
                    f"max_client_conn = {max_client_conn}",
                    "server_reset_query =",
                    "ignore_startup_parameters = extra_float_digits",
                    f"logfile = {self.dir / 'pgbouncer.log'}",
                    f"pidfile = {self.dir / 'pgbouncer.pid'}",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        command = [
            shutil.which("pgbouncer") or "/usr/sbin/pgbouncer",
            str(self.dir / "pgbouncer.ini"),
        ]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            shutil.chown(self.dir, user="postgres")
            for item in self.dir.iterdir():
                shutil.chown(item, user="postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    def _wait_ready(self) -> None:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen within 10 s: {self.log()}")

    def dsn(self, dsn: str) -> str:
        """``dsn`` pointed at this PgBouncer (same database and user)."""
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        info.update(host="127.0.0.1", port=str(self.port))
        return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(encoding="utf-8", errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bin() -> Path:
    """Where initdb and pg_ctl live (Debian's PostgreSQL 15, or whatever is on PATH)."""
    debian = Path("/usr/lib/postgresql/15/bin")
    if (debian / "initdb").exists():
        return debian
    found = shutil.which("initdb")
    return Path(found).parent if found else debian


PG_BIN = _pg_bin()


class ScratchPostgres:
    """A PostgreSQL 15 server of the test's own: ``initdb`` into a temporary directory, started
    with ``pg_ctl`` on a free port, so the test may stop and restart it (never the shared one).
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="vg-scratch-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root
        if self._as_postgres:
            shutil.chown(self.dir, user="postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.start()

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 60) -> None:
        full = ["runuser", "-u", "postgres", "--", *command] if self._as_postgres else list(command)
        subprocess.run(full, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"
        )

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
