"""Regenerate the configuration and command tables of README.md from the code.

.venv/bin/python scripts/update_readme.py          # rewrite the tables in place
.venv/bin/python scripts/update_readme.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import typer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import root  # noqa: E402
from app.config import Settings  # noqa: E402

README = ROOT / "README.md"


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(empty)" if default in ("", None) else f"`{default}`"
        rows.append(f"| `{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def _walk(command: Any, prefix: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if hasattr(command, "commands"):  # a group (typer bundles its own click)
        if command.invoke_without_command and prefix:
            rows.append((prefix, (command.help or "").strip().splitlines()[0]))
        for name in sorted(command.commands):
            rows.extend(_walk(command.commands[name], f"{prefix} {name}".strip()))
        return rows
    params = " ".join(
        (p.name or "").upper() if p.param_type_name == "argument" else f"[{p.opts[-1]}]"
        for p in command.params
        if p.name != "help"
    )
    help_text = (command.help or "").strip().splitlines()[0] if command.help else ""
    rows.append((f"{prefix} {params}".strip(), help_text))
    return rows


def cli_table() -> str:
    group = typer.main.get_command(root)
    rows = ["| command | what it does |", "|---|---|"]
    for usage, help_text in _walk(group, ""):
        rows.append(f"| `papertrend {usage}` | {help_text} |")
    return "\n".join(rows)


def render(text: str) -> str:
    for name, body in (("settings-table", settings_table()), ("cli-table", cli_table())):
        pattern = re.compile(rf"(<!-- {name} -->\n).*?(<!-- /{name} -->)", re.S)
        text = pattern.sub(lambda m, b=body: m.group(1) + b + "\n" + m.group(2), text)
    return text


def main() -> int:
    current = README.read_text()
    updated = render(current)
    if "--check" in sys.argv:
        if updated != current:
            print("README.md is out of date: run .venv/bin/python scripts/update_readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(updated)
    print("README.md tables updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
