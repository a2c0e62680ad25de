"""The cloud provider adapter: what the workers call to run a request's steps, to release a
service, and to read a service's metrics and the provider's health.

Every call that changes something at the provider carries an idempotency key (request, step and
attempt): a worker that takes over a request whose lease expired mid-step repeats the call with
the same key, and the provider applies its effect once. The default adapter simulates a provider
in this process (``SimulatedProvider``): configurable step durations, failures injected by
settings or by a request's own parameters, and the keys it has seen remembered."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from models.provisioning import StepName

# A request's parameters may ask the simulated provider to fail (tests and the demo):
#   {"simulate": {"failStep": "DEPLOY", "failAttempts": 1, "stepSeconds": 0.5}}
# fails DEPLOY on the first attempt (a retry then succeeds); stepSeconds overrides the duration.
SIMULATE = "simulate"


class ProviderError(Exception):
    """The provider refused or failed the call; the message says why (shown on the step)."""


@dataclass(frozen=True, slots=True)
class StepCall:
    request_id: str
    step: StepName
    attempt: int
    parameters: dict[str, Any]
    instance_id: str | None

    @property
    def idempotency_key(self) -> str:
        return f"{self.request_id}:{self.step.value}:{self.attempt}"


@dataclass(frozen=True, slots=True)
class StepOutcome:
    message: str
    # Set by the step that allocates the service.
    instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    cpu_percent: float
    memory_percent: float
    requests_per_second: float
    uptime_seconds: int


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    name: str
    healthy: bool
    latency_ms: float
    message: str


class CloudProvider(Protocol):
    name: str

    async def run_step(self, call: StepCall) -> StepOutcome: ...

    async def release(self, request_id: str, instance_id: str | None, key: str) -> str: ...

    async def metrics(self, instance_id: str) -> ServiceMetrics: ...

    async def health(self) -> ProviderHealth: ...


class SimulatedProvider:
    """A provider in this process: each step takes ``step_seconds`` (or the request's
    ``simulate.stepSeconds``), fails when ``fail_steps`` names it or the request's
    ``simulate.failStep`` does (for its first ``failAttempts`` attempts, default 1). Each effect
    is applied once per idempotency key (``effects`` counts them, for tests); a repeat of a key,
    even while the first call is still running, gets the first call's outcome."""

    name = "simulated"

    def __init__(self, step_seconds: float = 1.0, fail_steps: frozenset[StepName] = frozenset()) -> None:
        self.step_seconds = step_seconds
        self.fail_steps = fail_steps
        self.effects: Counter[str] = Counter()
        self._calls: dict[str, asyncio.Task[StepOutcome]] = {}
        self._started = time.monotonic()

    async def run_step(self, call: StepCall) -> StepOutcome:
        key = call.idempotency_key
        task = self._calls.get(key)
        if task is None or (task.done() and task.cancelled()):
            task = self._calls[key] = asyncio.ensure_future(self._apply(call))
        # A caller that is cancelled (a worker stopping) leaves the effect to complete.
        return await asyncio.shield(task)

    async def _apply(self, call: StepCall) -> StepOutcome:
        simulate = call.parameters.get(SIMULATE)
        simulate = simulate if isinstance(simulate, dict) else {}
        seconds = simulate.get("stepSeconds", self.step_seconds)
        if isinstance(seconds, int | float) and seconds > 0:
            await asyncio.sleep(min(float(seconds), 60.0))
        fail_attempts = simulate.get("failAttempts", 1)
        fails = call.step in self.fail_steps or (
            simulate.get("failStep") == call.step.value
            and isinstance(fail_attempts, int)
            and call.attempt <= fail_attempts
        )
        if fails:
            raise ProviderError(f"{call.step.value} failed at the provider (simulated).")
        self.effects[call.idempotency_key] += 1
        if call.step == StepName.ALLOCATE:
            instance = "sim-" + hashlib.sha256(call.request_id.encode()).hexdigest()[:12]
            return StepOutcome(f"Allocated {instance}.", instance_id=instance)
        return StepOutcome(f"{call.step.value.capitalize()} done.")

    async def release(self, request_id: str, instance_id: str | None, key: str) -> str:
        if key not in self.effects:
            self.effects[key] += 1
        return f"Released {instance_id or 'nothing'}."

    async def metrics(self, instance_id: str) -> ServiceMetrics:
        # Deterministic per instance and slowly varying with time: "live" but testable.
        seed = int(hashlib.sha256(instance_id.encode()).hexdigest()[:8], 16)
        tick = int(time.time() // 5)
        wobble = ((seed + tick * 7919) % 1000) / 1000
        return ServiceMetrics(
            cpu_percent=round(5 + 60 * wobble, 1),
            memory_percent=round(20 + 50 * ((seed % 997) / 997), 1),
            requests_per_second=round(100 * wobble, 1),
            uptime_seconds=int(time.monotonic() - self._started),
        )

    async def health(self) -> ProviderHealth:
        return ProviderHealth(self.name, True, 0.0, "The simulated provider runs in this process.")


def create_provider(step_seconds: float, fail_steps: str) -> CloudProvider:
    """The configured adapter (today: the simulated one). ``fail_steps``: comma-separated step
    names that always fail (failure injection)."""
    names = {part.strip().upper() for part in fail_steps.split(",") if part.strip()}
    return SimulatedProvider(step_seconds, frozenset(StepName(n) for n in names if n in StepName.__members__))
