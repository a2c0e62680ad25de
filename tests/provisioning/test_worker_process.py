"""`tenantgraph worker` as its own OS process beside a worker of the test's process: they share
the queue through SKIP LOCKED claims and leases, and no step of any request runs twice; a worker
process killed mid-step leaves its request to another once the lease has expired."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from core.settings import Settings
from models.provisioning import ProvisioningStatus, ProvisioningWorkerBeat
from services.provisioning.provider import SimulatedProvider
from services.provisioning.worker import run_steps_once
from tests.conftest import TEST_SIGNING_KEY
from tests.provisioning.conftest import ALL, Cloud
from tests.support.live_server import server_env

S = ProvisioningStatus


async def test_a_worker_process_and_an_in_process_worker_share_the_queue(
    cloud: Cloud, settings: Settings, tmp_path: Path
) -> None:
    owner = await cloud.shop.account()
    env = {
        **os.environ,
        **server_env(settings.database_url, "memory://", TEST_SIGNING_KEY),
        "TENANTGRAPH_PROVISIONING_STEP_SECONDS": "0.1",
        "TENANTGRAPH_PROVISIONING_POLL_SECONDS": "0.1",
    }
    log = (tmp_path / "worker.log").open("w")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "worker", env=env, stdout=log, stderr=subprocess.STDOUT
    )
    local = cloud.worker(SimulatedProvider(step_seconds=0.1), name="test-process")
    try:
        # Once the process beats (it is up and polling), both take work from the same queue.
        for _ in range(600):
            async with cloud.shop.db.session(ALL) as session:
                if await session.scalar(select(ProvisioningWorkerBeat.id)):
                    break
            assert process.returncode is None, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.1)
        requests = [await cloud.request(owner, status=S.RUNNING) for _ in range(8)]
        local.start()
        for _ in range(300):
            rows = [await cloud.row(r) for r in requests]
            if all(r.status == S.ACTIVE for r in rows):
                break
            assert process.returncode is None, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.1)
        assert all(r.status == S.ACTIVE for r in rows), [r.status for r in rows]
        await asyncio.sleep(0.5)  # the next rounds' heartbeats carry the final step counts
        async with cloud.shop.db.session(ALL) as session:
            beats = {b.id: b.steps_completed for b in await session.scalars(select(ProvisioningWorkerBeat))}
        other = [steps for worker_id, steps in beats.items() if worker_id != "test-process"]
        assert len(other) == 1 and other[0] > 0, beats
        assert local.steps_completed > 0
        assert other[0] + local.steps_completed == 8 * 5
        for request in requests:
            assert [s.runs for s in await cloud.steps(request)] == [1] * 5
    finally:
        await local.stop()
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            raise
        log.close()
    assert code == 0, (tmp_path / "worker.log").read_text()
    assert "stopped" in (tmp_path / "worker.log").read_text()
    async with cloud.shop.db.session(ALL) as session:
        assert list(await session.scalars(select(ProvisioningWorkerBeat))) == []


async def test_a_worker_process_killed_mid_step_leaves_the_request_to_another(
    cloud: Cloud, settings: Settings, tmp_path: Path
) -> None:
    owner = await cloud.shop.account()
    env = {
        **os.environ,
        **server_env(settings.database_url, "memory://", TEST_SIGNING_KEY),
        "TENANTGRAPH_PROVISIONING_POLL_SECONDS": "0.1",
        "TENANTGRAPH_PROVISIONING_LEASE_SECONDS": "0.9",
    }
    log = (tmp_path / "worker.log").open("w")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "worker", env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        request = await cloud.request(owner, status=S.RUNNING, parameters={"simulate": {"stepSeconds": 1.0}})
        for _ in range(600):  # until the process runs the first step
            if (await cloud.steps(request))[0].status.value == "RUNNING":
                break
            assert process.returncode is None, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.05)
        assert (await cloud.row(request)).lease_owner is not None
        assert (await cloud.steps(request))[0].status.value == "RUNNING"
        process.kill()  # SIGKILL: no clean-up of any kind
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()
    rescuer = cloud.worker(SimulatedProvider(), lease_seconds=5, name="rescuer")
    for _ in range(100):  # the dead worker's lease runs out
        if await run_steps_once(rescuer):
            break
        await asyncio.sleep(0.1)
    row = await cloud.row(request)
    assert row.status == S.ACTIVE and row.lease_owner is None
    assert [s.runs for s in await cloud.steps(request)] == [2, 1, 1, 1, 1]
