"""Models: classes that validate documents and own their collection's indexes (spec §4).

A model declares ``identity``, ``version``, ``collection_name``, ``data`` (mia's rule dict) and
optionally ``compound_indexes``; validation uses the same compiled rules as preconditions.
"""
from __future__ import annotations

from typing import Any, ClassVar

from core.base import Identified
from core.shared import Shared
from core.validator import CompiledSchema, compile_rules


class BaseModel(Identified):
    """Base for project models; used as a class (all helpers are classmethods)."""

    collection_name: ClassVar[str | None] = None
    db_name: ClassVar[str | None] = None
    data: ClassVar[dict[str, Any]] = {}
    compound_indexes: ClassVar[list[dict[str, Any]]] = []
    _compiled: ClassVar[CompiledSchema | None] = None

    @classmethod
    def schema(cls) -> CompiledSchema:
        if cls.__dict__.get("_compiled") is None:
            cls._compiled = compile_rules(cls.data, where=f"model {cls.identity}")
        return cls._compiled  # type: ignore[return-value]

    @classmethod
    def validate(cls, values: dict[str, Any], partial: bool = False) -> dict[str, Any]:
        """The cleaned document, or raises ``core.errors.ValidationError`` listing every bad field."""
        return cls.schema().validate(values, partial=partial)

    @classmethod
    def collection(cls) -> Any:
        return Shared.db(cls.db_name)[cls.collection_name]
