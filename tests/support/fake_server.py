"""A provider fake's HTTP side: its Starlette app served by uvicorn in a thread on a free port, so our
code reaches the fake over real HTTP, exactly as it would reach the provider."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.applications import Starlette

from tests.harness.servers import HOST


class ThreadedServer:
    """Serves one app at ``http://HOST:port`` between ``start`` and ``stop``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: Starlette, port: int) -> None:
        config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
