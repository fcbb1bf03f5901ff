"""The routers' order in ``server.app.ROUTERS`` is chosen for speed; it must not change any answer."""

from __future__ import annotations

import itertools
import re

from fastapi.routing import APIRoute

from server.app import ROUTERS


def _sample(path: str) -> str:
    """A concrete path for a route's template: each ``{parameter}`` filled with a plain value."""
    return re.sub(r"\{[^}]+\}", "A001", path)


def test_no_two_routers_answer_the_same_method_and_path() -> None:
    routes = [
        (module.__name__, route)
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute)
    ]
    assert len(routes) > 50
    overlaps = [
        (a_mod, a.path, b_mod, b.path)
        for (a_mod, a), (b_mod, b) in itertools.combinations(routes, 2)
        if a_mod != b_mod
        and (a.methods or set()) & (b.methods or set())
        and (a.path_regex.match(_sample(b.path)) or b.path_regex.match(_sample(a.path)))
    ]
    assert overlaps == []
