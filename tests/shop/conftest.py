from datetime import UTC, datetime

import pytest
from huey.storage import MemoryStorage

from shop.queue import HUEY


@pytest.fixture
def queued():
    """The queue as in production: tasks wait in it until a worker takes them (here: the test, by `run_queued`)."""
    yield from swapped_storage(lambda: MemoryStorage(HUEY.name))


def swapped_storage(make_storage):
    """Runs the queue on another storage for one test, tasks waiting in it for a worker."""
    original = HUEY.storage
    HUEY.immediate_use_memory = False  # else switching immediate mode off would build a default storage
    HUEY.immediate = False
    HUEY.storage = make_storage()
    try:
        yield HUEY
    finally:
        HUEY.immediate = True
        HUEY.storage = original
        HUEY.immediate_use_memory = True


def run_queued(huey) -> list:
    """Plays the worker: takes every task waiting in the queue and runs the due ones; returns their results."""
    results = []
    while (task := huey.dequeue()) is not None:
        if task.eta is not None and task.eta > datetime.now(UTC).replace(tzinfo=None):
            continue  # a retry for later: a real worker would keep it in its schedule
        results.append(task.execute())
    return results
