"""`scripts/check_routes.py` (part of `make lint`): it passes on the code and catches what it is for."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_routes.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_routes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_app_follows_the_route_rules() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_depends_in_a_route_and_raw_app_state_are_reported(tmp_path: Path, monkeypatch) -> None:
    rules = _load()
    monkeypatch.setattr(rules, "ROOT", tmp_path)
    route = tmp_path / "route.py"
    route.write_text(
        "from fastapi import Depends, Request\n"
        "from app.web.subscriptions.common import db\n\n"
        "def page(request: Request, session=Depends(db)):\n"
        "    return request.app.state.settings\n"
    )
    problems = rules.check_file(route, route_module=True)
    assert len(problems) == 2
    assert "route.py:4: Depends(...)" in problems[0] and "SessionDep" in problems[0]
    assert "route.py:5: request.app.state" in problems[1]
    # Outside the route packages only the state read counts; an alias module is fine.
    assert len(rules.check_file(route, route_module=False)) == 1
    alias = tmp_path / "alias.py"
    alias.write_text(
        "from typing import Annotated\nfrom fastapi import Depends\n\n"
        "def page(now: 'NowDep') -> None:\n    state_of(request).now()\n"
    )
    assert rules.check_file(alias, route_module=True) == []
