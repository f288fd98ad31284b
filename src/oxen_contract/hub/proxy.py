"""A small HTTP/1.1 proxy in front of the hub that sends the head of marked answers one byte at a time.

uvicorn writes an answer's status line and headers itself, in one piece, so an app cannot make them trickle in; a
client whose timeout bounds only the body (or resets on every byte read) then waits as long as the hub likes. The
hub marks such an answer with the header ``DRIP_HEAD_HEADER``; this proxy, listening where clients connect, removes
the mark and sends that answer's head one byte per ``drip_seconds``, and everything else as it comes.

It relays bytes without changing them, so it only needs HTTP's framing: where each request and answer ends (a
``Content-Length``, chunks, or the connection's end; no body for HEAD, 1xx, 204 and 304), so that keep-alive
connections carry on past a dripped answer. One upstream connection per client connection; any error on either side
closes both. ``close`` stops listening and ends every connection in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque

__all__ = ["DRIP_HEAD_HEADER", "DripProxy"]

DRIP_HEAD_HEADER = "X-Local-Hub-Drip-Head"
_MARK = DRIP_HEAD_HEADER.lower().encode()
_END_OF_HEAD = b"\r\n\r\n"
# As long as uvicorn's own limit on a request head: past it the connection is dropped.
_MAX_HEAD = 64 * 1024
_PIECE = 64 * 1024


class _Framing:
    """What a head says about the body after it."""

    __slots__ = ("chunked", "length")

    def __init__(self, head: bytes) -> None:
        self.chunked = False
        self.length: int | None = None
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            name = name.strip().lower()
            if name == b"transfer-encoding" and b"chunked" in value.lower():
                self.chunked = True
            elif name == b"content-length" and value.strip().isdigit():
                self.length = int(value.strip())


async def _head(reader: asyncio.StreamReader) -> bytes | None:
    """The next head, CRLFCRLF included; None when the peer closed between messages."""
    try:
        return await reader.readuntil(_END_OF_HEAD)
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise
        return None


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: int) -> None:
    while count > 0:
        piece = await reader.read(min(count, _PIECE))
        if not piece:
            raise asyncio.IncompleteReadError(b"", count)
        writer.write(piece)
        count -= len(piece)
        await writer.drain()


async def _copy_to_end(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while piece := await reader.read(_PIECE):
        writer.write(piece)
        await writer.drain()


async def _copy_chunks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        writer.write(size_line)
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            # Trailers, if any, then the empty line that ends the message.
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                writer.write(line)
            writer.write(line)
            await writer.drain()
            return
        await _copy(reader, writer, size + 2)


async def _copy_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framing: _Framing, *, to_end: bool
) -> None:
    if framing.chunked:
        await _copy_chunks(reader, writer)
    elif framing.length is not None:
        await _copy(reader, writer, framing.length)
    elif to_end:
        # An answer without a length ends with the connection.
        await _copy_to_end(reader, writer)


def _unmarked(head: bytes) -> tuple[bytes, bool]:
    """The head without the drip mark, and whether it had one."""
    lines = head[: -len(_END_OF_HEAD)].split(b"\r\n")
    kept = [line for line in lines if line.partition(b":")[0].strip().lower() != _MARK]
    return b"\r\n".join(kept) + _END_OF_HEAD, len(kept) != len(lines)


class DripProxy:
    """Listens on ``sock`` and relays each connection to the hub at ``upstream`` (host, port)."""

    def __init__(self, sock: socket.socket, upstream: tuple[str, int], drip_seconds: float) -> None:
        self._sock = sock
        self._upstream = upstream
        self._drip = drip_seconds
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accepted, sock=self._sock, limit=_MAX_HEAD)

    async def close(self) -> None:
        """Stop listening and end every connection in progress (dripping or not)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accepted(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream, limit=_MAX_HEAD)
            await self._relay(client_reader, client_writer, upstream_reader, upstream_writer)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # either side went away or spoke something that is not HTTP: close both
        finally:
            self._connections.discard(task)
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(OSError, asyncio.CancelledError):
                        await writer.wait_closed()

    async def _relay(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
        upstream_writer: asyncio.StreamWriter,
    ) -> None:
        # The method of each request sent and not yet answered, in order: a HEAD's answer has no body.
        methods: deque[bytes] = deque()
        requests = asyncio.create_task(self._requests(client_reader, upstream_writer, methods))
        answers = asyncio.create_task(self._answers(upstream_reader, client_writer, methods, requests))
        try:
            await asyncio.wait({requests, answers}, return_when=asyncio.FIRST_COMPLETED)
            if answers.done():
                answers.result()
            else:
                requests.result()
                # The client has sent all it will; its answers may still be on their way. (No EOF is passed on:
                # uvicorn closes a half-closed connection at once, answered or not.)
                if methods:
                    await answers
        finally:
            for task in (requests, answers):
                task.cancel()
            await asyncio.gather(requests, answers, return_exceptions=True)

    async def _requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, methods: deque[bytes]
    ) -> None:
        while (head := await _head(reader)) is not None:
            methods.append(head.split(b" ", 1)[0])
            writer.write(head)
            # A request without a length has no body.
            await _copy_body(reader, writer, _Framing(head), to_end=False)
            await writer.drain()

    async def _answers(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        methods: deque[bytes],
        requests: asyncio.Task[None],
    ) -> None:
        while (head := await _head(reader)) is not None:
            head, marked = _unmarked(head)
            status_word = head.split(b" ", 2)[1] if head.count(b" ") >= 1 else b""
            status = int(status_word) if status_word.isdigit() else 0
            if marked:
                for index in range(len(head)):
                    await asyncio.sleep(self._drip)
                    writer.write(head[index : index + 1])
                    await writer.drain()
            else:
                writer.write(head)
                await writer.drain()
            if 100 <= status < 200:
                if status == 101:
                    await _copy_to_end(reader, writer)
                    return
                continue  # an interim answer: the final one follows, for the same request
            method = methods.popleft() if methods else b""
            if method != b"HEAD" and status not in (204, 304):
                await _copy_body(reader, writer, _Framing(head), to_end=True)
            if requests.done() and not methods:
                return  # the client sent nothing more, and everything it sent is answered
