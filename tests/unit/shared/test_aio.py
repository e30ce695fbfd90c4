"""``shared.aio.checkpoint`` re-raises a cancellation that was swallowed below it."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from shared.aio import checkpoint


async def test_checkpoint_is_a_no_op_without_a_cancel_request() -> None:
    checkpoint()  # inside the test's task, nothing pending


async def test_checkpoint_reraises_a_swallowed_cancellation() -> None:
    reached = asyncio.Event()
    after_checkpoint = False

    async def loop_that_loses_its_cancel() -> None:
        nonlocal after_checkpoint
        reached.set()
        with contextlib.suppress(asyncio.CancelledError):  # what 3.11's wait_for can do to us
            await asyncio.sleep(10)
        checkpoint()
        after_checkpoint = True

    task = asyncio.create_task(loop_that_loses_its_cancel())
    await reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert not after_checkpoint


async def test_checkpoint_ignores_a_cancellation_that_was_withdrawn() -> None:
    async def body() -> str:
        current = asyncio.current_task()
        assert current is not None
        current.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(1)
        current.uncancel()  # handled on purpose, the way asyncio.timeout does
        checkpoint()
        return "done"

    assert await asyncio.create_task(body()) == "done"
