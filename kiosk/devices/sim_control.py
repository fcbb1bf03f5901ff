"""The stdin control loop shared by the ``hall sim <kind>`` simulator processes."""

from __future__ import annotations

import sys
from collections.abc import Callable


def serve_stdin(handle: Callable[[str], str], stop: Callable[[], None]) -> int:
    """Answer one control line at a time (``OK ...``/``ERR ...``) until ``quit`` or end of input."""
    try:
        for line in sys.stdin:
            if line.strip() == "quit":
                print("OK bye", flush=True)  # noqa: T201 - the control channel is stdout
                break
            if line.strip():
                print(handle(line), flush=True)  # noqa: T201
    finally:
        stop()
    return 0
