"""The broadcast fast path (services/realtime/direct.py): the shared frame is byte-identical to what the
websockets protocol would send, and the writer refuses whenever the ordinary path must be used."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.protocol import State
from websockets.server import ServerProtocol

from services.realtime.direct import DirectWriter, direct_writer, encode_text_frame


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 200_000])
def test_shared_frame_equals_the_protocols_own_framing(size: int) -> None:
    text = ("héllo wörld " * (size // 12 + 1))[:size]
    proto = ServerProtocol()
    proto.state = State.OPEN
    proto.send_text(text.encode())
    assert encode_text_frame(text) == b"".join(proto.data_to_send())


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing


def _proto(**overrides: Any) -> Any:
    writable = asyncio.Event()
    writable.set()
    proto = SimpleNamespace(
        conn=SimpleNamespace(state=State.OPEN, extensions=[]),
        transport=_Transport(),
        writable=writable,
        disconnected=False,
        close_sent=False,
    )
    for name, value in overrides.items():
        setattr(proto, name, value)
    return proto


def test_writes_when_the_socket_is_open_idle_and_writable() -> None:
    proto = _proto()
    assert DirectWriter(proto).write(b"frame")
    assert proto.transport.written == [b"frame"]


@pytest.mark.parametrize(
    "change",
    [
        lambda p: setattr(p, "disconnected", True),
        lambda p: setattr(p, "close_sent", True),
        lambda p: p.writable.clear(),  # kernel buffer full: uvicorn paused writing
        lambda p: setattr(p.conn, "state", State.CLOSING),
        lambda p: setattr(p.conn, "extensions", ["permessage-deflate"]),
        lambda p: setattr(p.transport, "closing", True),
    ],
    ids=["disconnected", "close-sent", "not-writable", "closing-state", "deflate", "transport-closing"],
)
def test_refuses_whenever_the_ordinary_path_is_needed(change: Any) -> None:
    proto = _proto()
    change(proto)
    assert not DirectWriter(proto).write(b"frame")
    assert proto.transport.written == []


def test_only_for_uvicorns_sansio_protocol() -> None:
    async def plain_send(message: Any) -> None:
        return None

    assert direct_writer(plain_send) is None

    class WebSocketsSansIOProtocol:  # same name, but missing what the fast path relies on
        async def send(self, message: Any) -> None:
            return None

    assert direct_writer(WebSocketsSansIOProtocol().send) is None
