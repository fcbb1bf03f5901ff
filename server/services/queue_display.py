"""What the hall display shows and says: latest calls, waiting counts, spoken announcements."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sqlmodel import Session

from server.errors import HallError
from server.repo import queue_calls as call_repo
from server.repo import queue_stats as stats_repo
from server.repo import registry
from server.services.notify import call_to_dict
from server.services.queue import QueueRules

log = logging.getLogger(__name__)

RECENT_CALLS = 8
ESPEAK_TIMEOUT_S = 20.0


class AudioUnavailableError(HallError):
    """Speech cannot be generated on this host."""


def snapshot(session: Session, rules: QueueRules, now: dt.datetime) -> dict[str, Any]:
    """Latest calls (newest first) and the waiting count of every item."""
    waiting = stats_repo.callable_counts(session, rules.service_day(now))
    return {
        "now": now.astimezone(rules.tz).isoformat(timespec="seconds"),
        "calls": [call_to_dict(c) for c in call_repo.recent_calls(session, RECENT_CALLS)],
        "waiting": [
            {"code": i.code, "name": i.name, "prefix": i.ticket_prefix, "waiting": waiting.get(i.id or 0, 0)}
            for i in registry.all_items(session)
        ],
    }


def spoken_text(ticket_no: str, window_number: int) -> str:
    """The announcement as espeak-ng should read it: characters of the number one by one."""
    return f"请 {' '.join(ticket_no)} 号 到 {window_number} 号 窗口 办理"


def audio_cache_dir() -> Path:
    """Where generated announcements are kept (shared by the server processes of one host)."""
    return Path(tempfile.gettempdir()) / "hall-audio"


def announcement_wav(text: str, cache_dir: Path) -> Path:
    """A WAV file speaking ``text`` in Mandarin, generated once by espeak-ng; blocking."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise AudioUnavailableError("espeak-ng is not installed on the server; spoken calls are off")
    target = cache_dir / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.wav"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
    os.close(fd)
    try:
        subprocess.run(
            [espeak, "-v", "cmn", "-s", "150", "-w", tmp_name, text],
            check=True,
            capture_output=True,
            timeout=ESPEAK_TIMEOUT_S,
        )
        # Rename into place so a concurrent request never serves a half-written file.
        os.replace(tmp_name, target)
    except (OSError, subprocess.SubprocessError) as err:
        Path(tmp_name).unlink(missing_ok=True)
        log.warning("espeak-ng failed: %s", err)
        raise AudioUnavailableError(f"espeak-ng failed: {err}") from err
    return target
