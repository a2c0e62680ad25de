"""scripts/install-clients.sh, which scripts/test.sh runs first: quiet when the browser and npm are
there, one clear line and a failure when the browser it is told to use is not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.browser.graphiql_page import CHROMIUM

SCRIPT = Path(__file__).resolve().parent.parent.parent / "scripts" / "install-clients.sh"


def install(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_nothing_to_do_and_nothing_said_when_chromium_and_npm_are_there() -> None:
    done = install(CHROMIUM_PATH=CHROMIUM)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_a_missing_chosen_browser_is_one_clear_failure(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-chromium"
    done = install(CHROMIUM_PATH=str(missing))
    assert done.returncode == 1
    assert done.stderr == f"install-clients.sh: CHROMIUM_PATH={missing} is not an executable\n"
