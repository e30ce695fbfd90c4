"""The broadcast fast path: one encoded frame written straight to each idle socket.

The ordinary path for a frame is: queue it on the connection, wake the connection's sender task, which
calls uvicorn's ASGI ``send`` coroutine, which frames the text for that connection and writes it. For a
broadcast to 10,000 sockets that is 10,000 task wake-ups and 10,000 identical framings. A server frame
(unmasked, no extension) is the same bytes for every client, so, like ``websockets.broadcast()``, we frame
once and ``transport.write`` the bytes to each socket that can take them at once:

- uvicorn's Sans-I/O websockets protocol (``--ws websockets-sansio``, what ``python -m services.realtime``
  runs) is behind the raw ASGI ``send`` (``send.__self__``);
- the connection is OPEN, no close frame was sent, the client is not gone;
- no extension was negotiated (permessage-deflate compresses per connection: ordinary path);
- the transport is writable (uvicorn clears ``writable`` when the kernel buffer is full) and nothing is
  queued or being sent for this connection (frames stay in order).

Anything else returns False and the caller queues the frame as before, so a slow reader still fills its
bounded queue and is dropped with 1013. Under another server or protocol implementation
:func:`direct_writer` returns None and only the ordinary path is used.
"""

from __future__ import annotations

from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State


def encode_text_frame(text: str) -> bytes:
    """A final, unmasked, uncompressed text frame (what a server sends)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class DirectWriter:
    __slots__ = ("_proto",)

    def __init__(self, proto: Any) -> None:
        self._proto = proto

    def write(self, frame: bytes) -> bool:
        """Write an encoded frame if the socket can take it now; False: use the ordinary path."""
        proto = self._proto
        if (
            proto.disconnected
            or proto.close_sent
            or not proto.writable.is_set()
            or proto.conn.state is not State.OPEN
            or proto.conn.extensions
        ):
            return False
        transport = proto.transport
        if transport.is_closing():
            return False
        transport.write(frame)
        return True


_REQUIRED = ("conn", "transport", "writable", "disconnected", "close_sent")


def direct_writer(send: Any) -> DirectWriter | None:
    """A :class:`DirectWriter` for the protocol behind a raw uvicorn ASGI ``send``, or None when that is
    not uvicorn's Sans-I/O websockets protocol (or it lacks what the fast path relies on)."""
    proto = getattr(send, "__self__", None)
    if proto is None or type(proto).__name__ != "WebSocketsSansIOProtocol":
        return None
    if not all(hasattr(proto, name) for name in _REQUIRED):
        return None
    conn = proto.conn
    if not hasattr(conn, "state") or not hasattr(conn, "extensions"):
        return None
    return DirectWriter(proto)
