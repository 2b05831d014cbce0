"""A TCP proxy the fault tests control: between the phone and the server (a response lost after commit), or between
the server and PostgreSQL (the database going away and coming back).

    proxy = TcpProxy(("127.0.0.1", upstream_port)).start()
    proxy.drop_next_response()   # the next connection reaches the server, its answer never reaches the client
    proxy.cut()                  # every open connection closed, new ones closed as soon as they are accepted
    proxy.resume()               # back to forwarding
    proxy.close()

Threads, not asyncio, so it runs beside any test without an event loop.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, upstream: tuple[str, int], *, host: str = "127.0.0.1"):
        self.upstream = upstream
        self.listener = socket.create_server((host, 0))
        self.host, self.port = self.listener.getsockname()[:2]
        self.dropped: list[bytes] = []  # the answers swallowed, one per dropped connection
        self.accepted = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._down = False
        self._drop = 0
        self._closed = False
        self._answered = threading.Condition(self._lock)

    # -- control -------------------------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True).start()
        return self

    def drop_next_response(self, count: int = 1) -> None:
        with self._lock:
            self._drop += count

    def cut(self) -> None:
        """The far side is gone: close every open connection and refuse new ones until `resume()`."""
        with self._lock:
            self._down = True
            sockets, self._open = list(self._open), set()
        for s in sockets:
            _close(s)

    def resume(self) -> None:
        with self._lock:
            self._down = False

    def wait_dropped(self, count: int = 1, timeout: float = 30.0) -> bool:
        with self._answered:
            return self._answered.wait_for(lambda: len(self.dropped) >= count, timeout)

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self.listener)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                down, drop = self._down, self._drop > 0
                if drop and not down:
                    self._drop -= 1
            if down:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, bytearray() if drop else None),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, swallow: bytearray | None) -> None:
        """Copy src → dst until src ends. With `swallow`, keep what src sends instead and, when it has finished
        (the server closes after its answer), close the client without a byte of it."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if swallow is None:
                    dst.sendall(data)
                else:
                    swallow.extend(data)
        except OSError:
            pass
        finally:
            if swallow is not None:
                with self._answered:
                    self.dropped.append(bytes(swallow))
                    self._answered.notify_all()
                _close(dst)
                _close(src)
            else:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    _close(dst)
            with self._lock:
                self._open.discard(src)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
