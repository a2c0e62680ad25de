"""Background workers of a server process: a task that runs rounds of work over and over.

A worker runs a round again at once while the round reports more work, otherwise after
``poll_seconds`` or as soon as it is woken. After a failed round (one that raised, or reported a
failure) it waits ``retry_seconds``, doubled after every further failure up to
``max_retry_seconds``; a round that raises is logged and the loop goes on. ``stop`` cancels the
task and waits for it. Jobs are claimed with SELECT ... FOR UPDATE SKIP LOCKED by the rounds, so
every process runs the same workers and they share the work."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging


class Round(enum.Enum):
    DONE = "done"  # wait for the next poll or a wake
    MORE = "more"  # work is left: run the next round at once
    FAILED = "failed"  # something went wrong that the round handled itself: back off


class PollingWorker:
    """Subclasses implement ``run_round``; ``start``/``stop`` run it in a task named ``name``."""

    name = "worker"

    def __init__(
        self,
        poll_seconds: float,
        *,
        retry_seconds: float | None = None,
        max_retry_seconds: float = 5.0,
    ) -> None:
        self.poll_seconds = poll_seconds
        self.retry_seconds = poll_seconds if retry_seconds is None else retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.last_error: str | None = None
        self._log = logging.getLogger(type(self).__module__)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_round(self) -> Round:
        raise NotImplementedError

    def log_level(self, exc: Exception) -> int:
        """How loudly a round that raised ``exc`` is logged."""
        return logging.ERROR

    def wake(self) -> None:
        """Run the next round now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def delay(self, failures: int) -> float:
        """Seconds to wait before the next round after ``failures`` failed rounds in a row."""
        if not failures:
            return self.poll_seconds
        return float(min(self.max_retry_seconds, self.retry_seconds * 2 ** (failures - 1)))

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                outcome = await self.run_round()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or a remote may be away: keep the loop alive
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Cancelled mid-round, and the clean-up raised something else: stop anyway,
                    # or stop() would wait for ever.
                    raise asyncio.CancelledError from exc
                outcome = Round.FAILED
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._log.log(
                    self.log_level(exc), "%s round failed (attempt %d): %s", self.name, failures + 1, exc
                )
            if outcome is Round.MORE:
                failures = 0
                continue
            failures = failures + 1 if outcome is Round.FAILED else 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.delay(failures))
            self._wake.clear()
