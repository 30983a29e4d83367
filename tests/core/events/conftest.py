from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.core.events.receiver import Receiver, running_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
def clock() -> FrozenClock:
    # Starts at the real time so that standardwebhooks (which checks the signature's age against the
    # real clock) verifies what is sent before the test moves time on.
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
def clocked(runtime: Runtime, clock: FrozenClock) -> Runtime:
    """The test runtime on a clock the test moves."""
    return dataclasses.replace(runtime, clock=clock)
