"""Base classes project code subclasses: Controller, Lib, Config.

Each carries ``identity`` and ``version`` (default "1.0"); the loader finds subclasses in project
folders, instantiates controllers and libs once, and registers them in :class:`core.shared.Shared`.
"""
from __future__ import annotations

from typing import Any, ClassVar


class Identified:
    """Something the loader registers by identity and version."""

    identity: ClassVar[str | None] = None
    version: ClassVar[str] = "1.0"
    disabled: ClassVar[bool] = False
    # Filled by the loader: the file the class came from and its project folder name.
    source_file: ClassVar[str] = ""
    project: ClassVar[str] = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identity}@{self.version}>"


class Controller(Identified):
    """A step in a route's chain.

    A controller function is ``def fn(self, req, res)``; an error-controller function is
    ``def fn(self, err, req, res)``. ``preconditions`` maps a function name (or a route method key,
    or ``"all"``) to ``{"parameters": {section: rules}, "responses": {status: codes}}``.
    """

    group: ClassVar[str | None] = None
    preconditions: ClassVar[dict[str, Any]] = {}


class Lib(Identified):
    """Reusable functions shared through ``Shared.libs(identity)``."""


class Config(Identified):
    """Project configuration read through ``Shared.config("<identity>.<name>")``.

    Class attributes are the values; ``translations`` (``{key: {lang: text | {region: text}}}``)
    is what ``req.mia.translator(identity, key)`` reads.
    """

    translations: ClassVar[dict[str, Any]] = {}
