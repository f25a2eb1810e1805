"""Console entry point: gevent must patch the standard library before anything imports it."""

from __future__ import annotations

import sys

SERVING_COMMANDS = ("serve", "demo")
# The kiosk PC's commands: they load the kiosk device library only, which may be all
# that is installed there (kiosk/requirements.txt).
DEVICE_COMMANDS = ("kiosk-agent", "kiosk-print-test")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in DEVICE_COMMANDS:
        # Imported here: the server's CLI (below) is not to be loaded for these commands.
        from kiosk.agent_cli import device_cli

        device_cli()
        return
    if len(sys.argv) > 1 and sys.argv[1] in SERVING_COMMANDS:
        from gevent import monkey  # before anything else is imported, so it can patch it

        monkey.patch_all()
    from .cli import cli  # after the patch above (serve, demo) or the kiosk's commands

    cli()
