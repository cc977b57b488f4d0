"""TcpRelay: a TCP relay in front of a real server (PostgreSQL) that a test can cut or freeze."""

from __future__ import annotations

import socket
import threading


class TcpRelay:
    """Forwards connections on 127.0.0.1:port to `target`.

    cut(): closes everything, so the server becomes unreachable (connections refused or reset).
    freeze(): stops forwarding bytes both ways but keeps every socket open and keeps accepting, as a
    frozen (SIGSTOPped) server looks from the network: connections are made, bytes are acknowledged by
    the kernel, and nothing ever answers. thaw(): forwards again, held bytes first.
    """

    def __init__(self, target: tuple[str, int], port: int = 0, *, frozen: bool = False) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        self._flowing = threading.Event()
        if not frozen:
            self._flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()  # frozen: the bytes wait here, the sockets stay open
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        self.open = False
        try:  # close() alone leaves a socket that another thread is accept()ing on listening
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self._flowing.set()  # frozen pipes then find their sockets closed and end
