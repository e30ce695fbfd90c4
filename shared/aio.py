"""asyncio helpers for long-running background loops.

Python 3.11's ``asyncio.wait_for`` drops a cancellation that arrives in the same loop iteration as the
awaited result: it returns the result and the task runs on (gh-86296, fixed in 3.12 by rebuilding
``wait_for`` on ``asyncio.timeout``). redis-py wraps every socket write in ``wait_for`` when
``socket_timeout`` is set, so cancelling a task that is inside a Redis command can be lost (measured here:
most cancellations that land while a command opens its connection are). A background loop that loses
its cancellation runs forever, and whoever awaits it after ``task.cancel()`` (a lifespan shutdown, a
test's teardown) waits forever.

The request is not lost from the task itself: ``Task.cancelling()`` still counts it. :func:`checkpoint`
raises it again, so every long-running loop calls it once per iteration (after its awaits). Our own code
uses ``asyncio.timeout`` (correct on 3.11.7) rather than ``wait_for`` in such loops.
"""

from __future__ import annotations

import asyncio


def checkpoint() -> None:
    """Raise :class:`asyncio.CancelledError` if the current task was asked to stop and something
    swallowed the request (see the module docstring). A no-op outside a task."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError("cancellation re-raised at a checkpoint (it was swallowed below)")
