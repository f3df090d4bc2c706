"""Command-line arguments, parsed the way mia.js does (spec §1.2).

``python server.py local nocron cron=A,B hot`` -> mode ``local`` and
``{"local": True, "nocron": True, "cron": "A,B", "hot": True}``. The first word is the environment
mode; ``key=value`` tokens keep only the first two pieces of a split on ``=`` (runtime values, as in
mia.js). Any other bare word is a mistake (``routs``): :class:`UsageError`, exit code 2 with the usage.
``-h``/``--help`` before a command prints the usage (exit 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMMANDS = ("check", "config", "crons", "docs", "migrate", "new-project", "routes")
FLAGS = ("hot", "nocron")
USAGE = """usage: python server.py [ENV] [hot] [nocron] [cron=JOB[,JOB]] [KEY=VALUE ...] [COMMAND ...]

ENV is a file in config/env/ (default: local). Without a command the server starts.
  hot                     development server that reloads changed project files in place
  nocron                  serve without running cron jobs
  cron=JOB                run that cron job once now and exit (exit code tells success);
                          beside a running embedded server, inside that server
  cron=A,B                run those cron jobs on their schedule, no web server, until SIGTERM
  KEY=VALUE               runtime values for projects (Shared.runtime_values)
commands:
  routes                  print the mounted routes and exit
  config                  print the effective configuration (secrets masked) and exit
  check                   the security self-check: every finding, exit 1 when any is high
  crons                   list the cron jobs: pattern, next run, limits, state, last run (reads only)
  crons suspend|resume|run|stop JOB   act on a job: on MongoDB, or through a running server's
                          loopback endpoint /_mia/crons when it holds the embedded store
  migrate                 bring a mia.js database to mia.py's shapes (idempotent; says what changed)
  docs --format json|yaml|md|html --out FILE   export the API docs and exit
  new-project NAME        create projects/NAME with one working route
  -h, --help              show this help
"""


class UsageError(ValueError):
    """A token the command line does not know; server.py prints the usage and exits 2."""


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
    for token in tokens:
        if token in COMMANDS:
            break
        if token in ("-h", "--help"):
            args.command = "help"
            return args
    if tokens and "=" not in tokens[0] and not tokens[0].startswith("-") and tokens[0] not in COMMANDS \
            and tokens[0] not in FLAGS:
        args.mode = tokens.pop(0)
    args.values[args.mode] = True
    while tokens:
        token = tokens.pop(0)
        if token in COMMANDS and args.command is None:
            args.command = token
            args.command_args = tokens
            break
        if "=" in token and not token.startswith("-") and token.split("=")[0]:
            key, value = token.split("=")[:2]
            args.values[key] = value
        elif token in FLAGS:
            args.values[token] = True
        else:
            raise UsageError(f"unknown argument {token!r}{did_you_mean(token)}")
    return args


def closest(word: str, choices: tuple[str, ...] = COMMANDS + FLAGS) -> str | None:
    """The command or flag ``word`` is a near miss of (``routs`` -> ``routes``), or None."""
    import difflib

    close = difflib.get_close_matches(word.lstrip("-"), choices, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str) -> str:
    """`` (did you mean 'routes'?)`` for a near miss of a command or flag, else ``""``."""
    near = closest(word)
    return f" (did you mean {near!r}?)" if near else ""
