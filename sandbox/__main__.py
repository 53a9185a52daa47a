"""`python -m sandbox [flags]`: play Meta for the app until Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys

from sandbox.config import load_config
from sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> int:
    config = load_config(argv)
    logging.basicConfig(level=os.environ.get("SANDBOX_LOG_LEVEL", "INFO"),
                        format="%(asctime)s sandbox %(levelname)s %(message)s")
    # Stop cleanly on Ctrl-C and on SIGTERM, even when started in the background (where SIGINT is ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    sandbox = Sandbox(config)
    print(f"sandbox: Graph API at {sandbox.url}/{config.api_version}/, control API at {sandbox.url}/_sandbox/, "
          f"webhooks to {config.webhook_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop it.
        sandbox.serve_forever()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
