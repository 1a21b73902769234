"""Bounded answers: one deadline for a whole answer, and a size limit, enforced as the socket is read.

requests' read timeout bounds each socket read, so a server that trickles a byte at a time holds a
request for ever; and an answer of any size, or a small compressed one that inflates to gigabytes,
is read whole. While recording, vcrpy reads the whole answer inside its patched connection before
the client sees any of it, so the bound must sit below vcrpy: the transport adapter the client
mounts gives each real connection a response class whose reads count against a deadline (the read
part of ``SUNCO_TIMEOUT``, from the moment the request was sent) and against
``SUNCO_MAX_RESPONSE_BYTES``, on the wire and decompressed. Past either, reading stops.
Replay answers from the cassette and never reaches a socket.
"""

from __future__ import annotations

import functools
import http.client
import io
import math
import socket
import time
import zlib
from typing import Any, TypeVar

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

E = TypeVar("E", bound=BaseException)
# The most one decompression step inflates at a time: memory stays near this, whatever the ratio.
STEP = 64 * 1024
ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class AnswerTooLarge(Exception):
    """The answer passed SUNCO_MAX_RESPONSE_BYTES. Not an OSError, so no layer above retries it or calls it
    a broken connection: the client turns it into a server fault."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(f"the answer was larger than {limit} bytes {what} (SUNCO_MAX_RESPONSE_BYTES); reading stopped")
        self.limit = limit


class AnswerDeadline(TimeoutError):
    """No whole answer (headers and body) within the read part of SUNCO_TIMEOUT."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"no whole answer within {seconds:g} s: SUNCO_TIMEOUT's read part bounds the whole answer, headers and body"
        )


class _Counted(io.RawIOBase):
    """The socket's reader, each read bounded by the time left and the bytes left."""

    def __init__(self, sock: socket.socket, seconds: float | None, limit: int) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._seconds = seconds
        self._deadline = math.inf if seconds is None else time.monotonic() + seconds
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        if self._seconds is not None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise AnswerDeadline(self._seconds)
            self._sock.settimeout(left)
        # Never more from the wire than one byte past the limit.
        view = memoryview(buffer)[: self._limit + 1 - self._read]
        try:
            count = self._raw.readinto(view)
        except TimeoutError:
            raise AnswerDeadline(self._seconds or 0.0) from None
        self._read += count or 0
        if self._read > self._limit:
            raise AnswerTooLarge(self._limit, "on the wire")
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Inflated:
    """Counts what a compressed body inflates to, a step at a time, without keeping it; ``then`` undoes
    the encoding applied before this one (``gzip, gzip``), fed as this one inflates."""

    def __init__(self, encoding: str, limit: int, then: _Inflated | None = None) -> None:
        self._wbits = ENCODINGS.get(encoding.strip().lower())
        self._inflater = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self._limit = limit
        self._then = then
        self._count = 0

    def feed(self, data: bytes) -> None:
        if self._inflater is None:
            return self._counted(data)
        try:
            while data:
                self._counted(self._inflater.decompress(data, STEP))
                data = self._inflater.unconsumed_tail
                if self._inflater.eof and self._inflater.unused_data:
                    # gzip may hold several members one after another.
                    data = self._inflater.unused_data + data
                    self._inflater = zlib.decompressobj(self._wbits or zlib.MAX_WBITS)
        except zlib.error:
            if self._wbits == zlib.MAX_WBITS and not self._count:
                # "deflate" is sent raw by some servers, as urllib3 also allows.
                self._wbits, self._inflater = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data)
            # A body that does not inflate: urllib3 says so when it decodes; what follows counts as it comes.
            self._inflater = None
        return None

    def _counted(self, data: bytes) -> None:
        self._count += len(data)
        if self._count > self._limit:
            raise AnswerTooLarge(self._limit, "once decompressed")
        if self._then is not None and data:
            self._then.feed(data)


class BoundedResponse(http.client.HTTPResponse):
    """http.client's response over a counted socket reader; the body is also counted decompressed."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
        *,
        limit: int,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        # The read timeout urllib3 just set is the budget of the whole answer, from now on.
        self.fp.close()
        self.fp = io.BufferedReader(_Counted(sock, sock.gettimeout(), limit))
        self._limit = limit
        self._stage: _Inflated | None = None

    def _inflated(self, data: bytes) -> bytes:
        if self._stage is None:
            # Encodings apply in the order listed; the last one applied is undone first.
            names = [name for name in (self.getheader("Content-Encoding") or "").split(",") if name.strip()]
            stage: _Inflated | None = None
            for name in names or [""]:
                stage = _Inflated(name, self._limit, stage)
            assert stage is not None
            self._stage = stage
        self._stage.feed(data)
        return data

    def read(self, amt: int | None = None) -> bytes:
        if amt is not None and amt <= STEP:
            return self._inflated(super().read(amt))
        # A step at a time: http.client would allocate the whole announced length (200 MB, say) at once.
        parts: list[bytes] = []
        size = 0
        while amt is None or size < amt:
            part = super().read(STEP if amt is None else min(STEP, amt - size))
            if not part:
                break
            parts.append(self._inflated(part))
            size += len(part)
        if amt is None and self.length:
            # A whole read that ended short of Content-Length is cut off, as http.client's own says.
            raise http.client.IncompleteRead(b"".join(parts), self.length)
        return b"".join(parts)

    def read1(self, n: int = -1) -> bytes:
        return self._inflated(super().read1(n))


class _Pools:
    """Connection pools whose connections answer with :class:`BoundedResponse`."""

    def __init__(self, limit: int) -> None:
        response_class = functools.partial(BoundedResponse, limit=limit)

        def bounded(base: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
            def _new_conn(self: HTTPConnectionPool) -> Any:
                # vcrpy's patched connection forwards the attribute to the real one it wraps.
                connection: Any = base._new_conn(self)
                connection.response_class = response_class
                return connection

            return type(f"Bounded{base.__name__}", (base,), {"_new_conn": _new_conn})

        self.by_scheme: dict[str, type[HTTPConnectionPool]] = {
            "http": bounded(HTTPConnectionPool),
            "https": bounded(HTTPSConnectionPool),
        }

    def install(self, manager: PoolManager) -> PoolManager:
        manager.pool_classes_by_scheme = self.by_scheme
        return manager


class BoundedAdapter(HTTPAdapter):
    """requests' HTTP adapter, its answers bounded in time (the read timeout) and size (``limit`` bytes)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pools = _Pools(limit)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._pools.install(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # A SOCKS proxy has pool classes of its own.
        return manager if proxy.lower().startswith("socks") else self._pools.install(manager)


def too_large(error: BaseException) -> AnswerTooLarge | None:
    """The size limit an error reports, wherever it sits in the error's causes."""
    return _find(error, AnswerTooLarge)


def deadline(error: BaseException) -> AnswerDeadline | None:
    """The deadline an error reports, wherever it sits in the error's causes."""
    return _find(error, AnswerDeadline)


def _find(error: BaseException, kind: type[E]) -> E | None:
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None
