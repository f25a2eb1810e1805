"""Console entry point: gevent must patch the standard library before anything imports it."""

from __future__ import annotations

import sys

SERVING_COMMANDS = ("serve", "demo")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in SERVING_COMMANDS:
        from gevent import monkey

        monkey.patch_all()
    from .cli import cli

    cli()
