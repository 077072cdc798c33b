"""Reserve, then complete: readers see only positions below which everything is done."""

from __future__ import annotations

import pytest

from myelin.storage.stream_ids import StreamIdGenerator


def test_positions_increase_from_the_current_one():
    gen = StreamIdGenerator("events", current=41)
    assert gen.current == 41
    assert gen.reserve() == 42
    assert gen.reserve() == 43


def test_current_waits_for_the_oldest_in_flight_position():
    gen = StreamIdGenerator("events")
    seen: list[tuple[str, int]] = []
    gen.add_listener(lambda name, pos: seen.append((name, pos)))
    a, b, c = gen.reserve(), gen.reserve(), gen.reserve()
    gen.complete(c)
    assert gen.current == 0  # a and b still in flight: 3 must stay invisible
    gen.complete(a)
    assert gen.current == a
    gen.complete(b)
    assert gen.current == c
    assert seen == [("events", a), ("events", c)]


async def test_context_manager_completes_even_on_failure():
    gen = StreamIdGenerator("events")
    with pytest.raises(RuntimeError):
        async with gen.get_next() as pos:
            assert gen.current == pos - 1
            raise RuntimeError
    assert gen.current == pos  # an abandoned position is a gap, not a blocker
    async with gen.get_next() as pos2:
        assert pos2 == pos + 1
    assert gen.current == pos2
