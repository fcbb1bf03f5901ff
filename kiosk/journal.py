"""A small durable list of tickets the kiosk still owes: to print, to report printed, or to cancel."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class JobState(StrEnum):
    """What is still to do for a ticket."""

    UNPRINTED = "unprinted"  # issued by the server, not on paper yet
    PRINTED = "printed"  # on paper, the server not told yet
    CANCEL = "cancel"  # given up printing, the server not told yet


@dataclass
class PrintJob:
    """One ticket the kiosk still owes; ``ticket`` is the server's answer (masked data only)."""

    ticket_no: str
    ticket: dict[str, Any]
    created_at: float
    state: JobState = JobState.UNPRINTED
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Journal:
    """Jobs in issue order, saved as one JSON file replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jobs: list[PrintJob] = []

    def load(self) -> None:
        """Read the file (a missing file is an empty journal; a broken one is kept aside)."""
        if not self.path.exists():
            self.jobs = []
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.jobs = [
                PrintJob(**{**row, "state": JobState(row.get("state", JobState.UNPRINTED))}) for row in raw
            ]
        except (ValueError, TypeError) as err:
            broken = self.path.with_suffix(".broken")
            log.error("unprinted-ticket journal %s unreadable (%s); moved to %s", self.path, err, broken)
            os.replace(self.path, broken)
            self.jobs = []

    def snapshot(self) -> str:
        """The journal as JSON text (taken on the loop, written in a thread)."""
        return json.dumps([asdict(job) for job in self.jobs], ensure_ascii=False)

    def write(self, text: str) -> None:
        """Write a snapshot durably: temp file, fsync, rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def find(self, ticket_no: str) -> PrintJob | None:
        """The job of a ticket, if the kiosk still owes something for it."""
        return next((job for job in self.jobs if job.ticket_no == ticket_no), None)

    def add(self, job: PrintJob) -> PrintJob:
        """Add a job unless one for the same ticket is waiting to be printed (a reissue)."""
        existing = self.find(job.ticket_no)
        if existing is not None and existing.state is JobState.UNPRINTED:
            return existing
        if existing is not None:
            self.jobs.remove(existing)
        self.jobs.append(job)
        return job

    def remove(self, job: PrintJob) -> None:
        """Forget a finished job."""
        if job in self.jobs:
            self.jobs.remove(job)

    def pending(self) -> list[PrintJob]:
        """Jobs still to print (oldest first)."""
        return [job for job in self.jobs if job.state is JobState.UNPRINTED]
