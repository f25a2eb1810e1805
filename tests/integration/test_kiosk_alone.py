"""The kiosk device library runs on a kiosk PC without the server (issue 11).

Importing the agent, or running the kiosk PC's commands through ``xephang``, loads no
``server`` module (beyond the entry point), no SQLAlchemy and no Flask; what the library
needs is listed in kiosk/requirements.txt, with the same bounds as pyproject.toml. A fresh
virtual environment with only that list is checked by hand (docs/kiosk.md, "A kiosk PC").
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_SIDE = ("server", "sqlalchemy", "flask", "alembic", "gevent")


def _loaded(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _server_side(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in SERVER_SIDE]


def test_importing_the_agent_loads_nothing_of_the_server() -> None:
    modules = _loaded(
        "import kiosk.agent, kiosk.agent_cli, kiosk.printing, kiosk.render, kiosk.journal"
    )
    assert "kiosk.agent" in modules and "escpos" in modules  # the probe did import them
    assert _server_side(modules) == []


def test_the_kiosk_commands_run_without_the_server(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    modules = _loaded(
        "import sys\n"
        "sys.argv = ['xephang', 'kiosk-print-test', '--paper', '58',"
        f" '--printer', 'file://{out}']\n"
        "from server.entry import main\n"
        "try:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
    )
    assert out.read_bytes().startswith(b"\x1b@")  # ESC @: an ESC/POS job began
    assert _server_side(modules) == ["server", "server.entry"]


def test_the_kiosk_requirements_are_the_projects() -> None:
    listed = [
        line.strip()
        for line in (ROOT / "kiosk" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert listed and set(listed) <= {d.split("#")[0].strip() for d in project}
