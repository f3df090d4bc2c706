"""mia.py: a declarative API server in the spirit of mia.js, on Flask and MongoDB.

Project code imports its building blocks from here; these names are the stable public API.
"""
from core.cron import BaseCronJob
from core.data.cache import Cached, cached
from core.data.models import BaseModel
from core.errors import MiaError, ValidationError
from core.shared import Config, Controller, Lib, Shared

__all__ = [
    "BaseCronJob", "BaseModel", "Cached", "Config", "Controller", "Lib", "MiaError", "Shared", "ValidationError",
    "cached",
]
