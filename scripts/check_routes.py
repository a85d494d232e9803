"""Lint rules import-linter and ruff cannot express; `make lint` runs this script.

1. Routes (`app/web`, `app/api`) take their dependencies through the `Annotated` aliases of
   `app.http` (`SessionDep`, `SettingsDep`, `NowDep`, ...): no `Depends(...)` is written in
   those packages, so there is one session dependency and one clock. A new dependency gets
   its alias in `app/http/deps.py`.
2. Nothing outside `app/http` reads `request.app.state` directly: `state_of(request)` gives
   the typed view (`app.http.state.AppState`).

.venv/bin/python scripts/check_routes.py   # exit 1 with one line per finding
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
ROUTE_PACKAGES = (APP / "web", APP / "api")
PLUMBING = APP / "http"


def _python_files(folder: Path) -> Iterator[Path]:
    yield from sorted(folder.rglob("*.py"))


def _is_depends(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "Depends") or (
        isinstance(func, ast.Attribute) and func.attr == "Depends"
    )


def _is_request_app_state(node: ast.AST) -> bool:
    # request.app.state (any name for the request: it is the `.app.state` chain on a Name)
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "state"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "app"
        and isinstance(node.value.value, ast.Name)
    )


def check_file(path: Path, *, route_module: bool) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT)
    problems = []
    for node in ast.walk(tree):
        if route_module and _is_depends(node):
            problems.append(
                f"{where}:{getattr(node, 'lineno', 0)}: Depends(...) in a route module; "
                "use an Annotated alias from app.http (SessionDep, SettingsDep, NowDep, ...)"
            )
        if _is_request_app_state(node):
            problems.append(
                f"{where}:{getattr(node, 'lineno', 0)}: request.app.state read directly; "
                "use app.http.state_of(request) (typed AppState)"
            )
    return problems


def main() -> int:
    problems: list[str] = []
    for path in _python_files(APP):
        if path.is_relative_to(PLUMBING):
            continue
        route_module = any(path.is_relative_to(folder) for folder in ROUTE_PACKAGES)
        problems.extend(check_file(path, route_module=route_module))
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
