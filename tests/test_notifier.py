"""The notifier wakes exactly the waiters of the keys written to."""

from __future__ import annotations

import asyncio

from myelin.streams.notifier import Notifier


async def test_wakes_only_interested_waiters():
    n = Notifier()
    a = n.register(["!room1", "@a:x"])
    b = n.register(["!room2"])
    n.notify(["!room1"])
    assert a.woken and not b.woken
    assert await a.wait(0.01) is True
    assert await b.wait(0.01) is False
    n.unregister(a)
    n.unregister(b)
    assert n.waiting == 0


async def test_write_between_register_and_wait_is_not_missed():
    n = Notifier()
    w = n.register(["!room"])
    n.notify(["!room"])  # lands before the waiter starts waiting
    assert await w.wait(5) is True


async def test_wait_wakes_promptly():
    n = Notifier()
    w = n.register(["!room"])
    loop = asyncio.get_running_loop()
    start = loop.time()
    loop.call_later(0.02, n.notify, ["!room"])
    assert await w.wait(5) is True
    assert loop.time() - start < 1
