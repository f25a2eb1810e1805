"""What a server process loads at start-up (issue 13: idle memory per process).

The printer library, the XLSX writer and the online voice load when first used: a site
whose kiosks print through their agents, that exports no report and speaks offline
never pays for them in every process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOADED_WHEN_USED = ("escpos", "usb", "openpyxl", "gtts")

APP_AS_SERVE_BUILDS_IT = """
import json, sys
from server import cli
cli._app(ASYNC_MODE="gevent", EVENTS_WRITE_ONLY=False)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_server_loads_printing_exports_and_gtts_only_when_used(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XEPHANG_DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite3'}",
        "XEPHANG_SECRET_KEY": "x" * 64,
    }
    env.pop("XEPHANG_REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", APP_AS_SERVE_BUILDS_IT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert "server.kiosk_pages.dispatch" in modules  # the probe built the whole app
    assert [m for m in modules if m.split(".")[0] in LOADED_WHEN_USED] == []
