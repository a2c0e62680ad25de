"""PollingWorker (core/workers.py): stopped in the middle of a round, a worker stops, even when the
round's clean-up turns the cancellation into another error (as a database connection lost while
rolling back does)."""

from __future__ import annotations

import asyncio

from core.workers import PollingWorker, Round


class CleanUpFails(PollingWorker):
    """Each round waits until cancelled; the first then fails while cleaning up (later ones let the
    cancellation through, so that a worker that missed it can still be stopped)."""

    name = "clean-up-fails"

    def __init__(self) -> None:
        super().__init__(poll_seconds=0.01)
        self.rounds = 0
        self.in_round = asyncio.Event()

    async def run_round(self) -> Round:
        self.rounds += 1
        self.in_round.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if self.rounds == 1:
                raise RuntimeError("connection lost while rolling back") from None
            raise
        return Round.DONE


async def test_a_worker_stopped_mid_round_stops_though_its_clean_up_raises() -> None:
    worker = CleanUpFails()
    worker.start()
    await asyncio.wait_for(worker.in_round.wait(), timeout=5)
    await asyncio.wait_for(worker.stop(), timeout=2)
    assert not worker.running
    assert worker.rounds == 1  # no round after the cancelled one
    assert worker.last_error is None  # the clean-up's error is no round failure
