"""mia.py: a declarative API server in the spirit of mia.js, on Flask and MongoDB.

Project code imports its building blocks from here; these names are the stable public API.
"""
from core.base import Config, Controller, Lib
from core.cache import Cached, cached
from core.cron import BaseCronJob
from core.errors import MiaError, ValidationError
from core.models import BaseModel
from core.shared import Shared

__all__ = [
    "BaseCronJob", "BaseModel", "Cached", "Config", "Controller", "Lib", "MiaError", "Shared", "ValidationError",
    "cached",
]
