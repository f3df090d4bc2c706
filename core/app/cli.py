"""Command-line arguments, parsed the way mia.js does (spec §1.2).

``python server.py local nocron cron=A,B hot`` -> mode ``local`` and
``{"local": True, "nocron": True, "cron": "A,B", "hot": True}``. The first word is the environment
mode; ``key=value`` tokens keep only the first two pieces of a split on ``=``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMMANDS = ("crons", "docs", "new-project", "routes")


@dataclass
class RunArgs:
    mode: str = "local"
    values: dict[str, Any] = field(default_factory=dict)
    command: str | None = None
    command_args: list[str] = field(default_factory=list)

    def list_value(self, name: str) -> list[str]:
        value = self.values.get(name)
        if not isinstance(value, str):
            return []
        return [v for v in "".join(value.split()).split(",")]

    @property
    def cron_jobs(self) -> list[str]:
        return [name for name in self.list_value("cron") if name]

    @property
    def nocron(self) -> bool:
        return "nocron" in self.values

    @property
    def hot(self) -> bool:
        return "hot" in self.values


def parse_args(argv: list[str]) -> RunArgs:
    """Parse ``argv`` (without the program name)."""
    args = RunArgs()
    tokens = list(argv)
    if tokens and "=" not in tokens[0] and not tokens[0].startswith("-") and tokens[0] not in COMMANDS:
        args.mode = tokens.pop(0)
    args.values[args.mode] = True
    while tokens:
        token = tokens.pop(0)
        if token in COMMANDS and args.command is None:
            args.command = token
            args.command_args = tokens
            break
        if "=" in token:
            key, value = token.split("=")[:2]
            args.values[key] = value
        else:
            args.values[token] = True
    return args
