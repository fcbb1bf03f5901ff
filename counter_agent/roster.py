"""The window's roster (officers, fingerprint pages, badges, items), fetched and cached offline."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from counter_agent.session import Officer

log = logging.getLogger(__name__)

ROSTER_KEY = "roster"


@dataclass
class Roster:
    """What the window knows of its people, usable while the server is unreachable."""

    window_number: int
    window_name: str = ""
    commitments: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    pages: dict[int, dict[str, Any]] = field(default_factory=dict)
    badges: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, window_number: int, data: dict[str, Any]) -> Roster:
        """Build from the server's ``/api/v1/edge/roster`` answer."""
        window = data.get("window", {})
        return cls(
            window_number=window_number,
            window_name=window.get("name", ""),
            commitments=list(window.get("commitments", [])),
            items=list(data.get("items", [])),
            posts=list(data.get("posts", [])),
            pages={int(f["page"]): f for f in data.get("fingerprints", [])},
            badges={str(b["uid"]).upper(): b for b in data.get("badges", [])},
        )

    def to_json(self) -> dict[str, Any]:
        """The server's form, for the offline cache."""
        return {
            "window": {"name": self.window_name, "commitments": self.commitments},
            "items": self.items,
            "posts": self.posts,
            "fingerprints": list(self.pages.values()),
            "badges": list(self.badges.values()),
        }

    def officer_for_page(self, page: int) -> Officer | None:
        """The officer enrolled on this reader's page, if known."""
        entry = self.pages.get(page)
        if entry is None:
            return None
        return Officer(entry["staff_no"], entry["name"], self.role_of(entry["staff_no"]))

    def officer_for_badge(self, uid: str) -> Officer | None:
        """The officer an active badge belongs to, if this window knows it."""
        entry = self.badges.get(uid.upper())
        if entry is None:
            return None
        return Officer(entry["staff_no"], entry["name"], self.role_of(entry["staff_no"]))

    def role_of(self, staff_no: str) -> str:
        """The officer's post at this window: A, B or ''."""
        return next((p["role"] for p in self.posts if p["staff_no"] == staff_no), "")

    def profile(self, staff_no: str) -> dict[str, Any]:
        """Public details for the window display (亮身份)."""
        for entry in [*self.posts, *self.pages.values(), *self.badges.values()]:
            if entry.get("staff_no") == staff_no:
                return entry
        return {"staff_no": staff_no}


def load_cached(raw: str | None, window_number: int) -> Roster:
    """The roster from the offline cache, or an empty one."""
    if not raw:
        return Roster(window_number)
    try:
        return Roster.from_json(window_number, json.loads(raw))
    except (ValueError, KeyError, TypeError) as err:
        log.warning("ignoring unreadable cached roster: %s", err)
        return Roster(window_number)
