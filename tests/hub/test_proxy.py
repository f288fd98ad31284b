"""The drip proxy relays HTTP/1.1 as it comes, answer after answer, and drips only the heads the hub marks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from oxen_contract.hub.proxy import DRIP_HEAD_HEADER, DripProxy
from oxen_contract.hub.serve import bind

# What the fake upstream answers, by request path: a marked head, chunks with a trailer, no body, an interim answer.
ANSWERS = {
    b"/plain": b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    b"/marked": f"HTTP/1.1 200 OK\r\n{DRIP_HEAD_HEADER}: 1\r\ncontent-length: 2\r\n\r\nok".encode(),
    b"/chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nt: 1\r\n\r\n",
    b"/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    b"/head": b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n",
    b"/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n",
}
# How many connections the fake upstream has seen end.
ENDED: list[int] = []


async def _upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Reads each request (a body only with content-length) and answers from ANSWERS, until the client leaves.
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            body = await reader.readexactly(length)
            path = head.split(b" ")[1]
            writer.write(ANSWERS.get(path, b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)))
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()
        ENDED.append(1)


def _through_proxy(
    drip: float, client: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bytes]]
) -> bytes:
    """What ``client`` reads through a proxy in front of the fake upstream."""

    async def run() -> bytes:
        upstream = await asyncio.start_server(_upstream, "127.0.0.1", 0)
        host, port = upstream.sockets[0].getsockname()[:2]
        front = bind("127.0.0.1", 0)
        proxy = DripProxy(front, (host, port), drip)
        await proxy.start()
        try:
            reader, writer = await asyncio.open_connection(*front.getsockname()[:2])
            try:
                return await asyncio.wait_for(client(reader, writer), 30)
            finally:
                writer.close()
        finally:
            await proxy.close()
            upstream.close()
            await upstream.wait_closed()
            front.close()

    return asyncio.run(run())


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, answer: bytes) -> bytes:
    writer.write(request)
    await writer.drain()
    return await reader.readexactly(len(answer))


def _get(path: bytes, method: bytes = b"GET") -> bytes:
    return method + b" " + path + b" HTTP/1.1\r\nhost: x\r\n\r\n"


def test_answers_of_every_framing_come_through_whole_one_after_another_on_one_connection() -> None:
    sequence = [
        (_get(b"/plain"), ANSWERS[b"/plain"]),
        (_get(b"/chunked"), ANSWERS[b"/chunked"]),
        (_get(b"/empty"), ANSWERS[b"/empty"]),
        # A HEAD's answer announces a length but has no body: the next answer follows at once.
        (_get(b"/head", b"HEAD"), ANSWERS[b"/head"]),
        (b"POST /echo HTTP/1.1\r\ncontent-length: 4\r\n\r\nabcd", b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nabcd"),
        (_get(b"/continue"), ANSWERS[b"/continue"]),
        (_get(b"/plain"), ANSWERS[b"/plain"]),
    ]

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        return b"".join([await _ask(reader, writer, request, answer) for request, answer in sequence])

    assert _through_proxy(0.0, client) == b"".join(answer for _, answer in sequence)


def test_a_marked_head_loses_its_mark_and_drips_then_the_body_comes_at_once() -> None:
    unmarked = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"
    arrivals: list[float] = []

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(_get(b"/marked"))
        started = time.monotonic()
        received = b""
        while len(received) < len(unmarked) + 2:
            received += await reader.read(1)
            arrivals.append(time.monotonic() - started)
        return received

    assert _through_proxy(0.02, client) == unmarked + b"ok"
    # Loose: each byte of the head waits at least its pause, whatever else the machine does.
    assert arrivals[len(unmarked) - 1] >= 0.8 * len(unmarked) * 0.02


def test_a_client_that_leaves_mid_drip_ends_the_connection_upstream_too() -> None:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        ended = len(ENDED)
        writer.write(_get(b"/marked"))
        first = await reader.readexactly(1)
        writer.close()
        # The drip stops when it next writes to the client that left, and the upstream connection ends with it.
        while len(ENDED) == ended:
            await asyncio.sleep(0.01)
        return first

    assert _through_proxy(0.01, client) == b"H"


def test_garbage_instead_of_a_request_closes_the_connection() -> None:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        # Longer than a head may be, without its end: the proxy drops the connection.
        writer.write(b"x" * 70_000)
        return await reader.read()

    assert _through_proxy(0.0, client) == b""
