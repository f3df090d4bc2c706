"""FastAPI + uvicorn serving the same answers as bench/apps.py: what a Python user picks for declarative
validation and OpenAPI. Routes are ``async def`` and uvicorn runs with uvloop and httptools, as FastAPI is
deployed for speed (``def`` routes go through a thread pool). (No ``from __future__ import annotations``:
FastAPI reads the annotations.)"""
import time
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bench.apps import CORS, _device_for, _jsonable, _store


class Flavour(StrEnum):
    cookies = "cookies and cream"
    vanilla = "vanilla"
    strawberry = "strawberry"


class Address(BaseModel):
    city: str
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")


class Item(BaseModel):
    sku: str
    qty: int | None = Field(default=None, ge=1)


class Person(BaseModel):
    name: str = Field(min_length=2, max_length=40)
    age: int | None = Field(default=None, ge=0, le=150)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    address: Address
    items: list[Item] = []


def app() -> FastAPI:
    """The factory uvicorn calls (``--factory bench.fastapi_app:app``)."""
    db = _store()
    api = FastAPI()

    @api.get("/icecream/v1/flavours")
    async def flavours(request: Request, flavour: str = Query(...)) -> Any:
        try:
            value = Flavour(flavour.lower())
        except ValueError:
            return JSONResponse({"status": 400, "errors": [{"code": "ValueNotAllowed", "id": "flavour"}]}, 400)
        headers = dict(CORS)
        if request.headers.get("origin"):
            headers["Access-Control-Allow-Origin"] = request.headers["origin"]
        return JSONResponse({"status": 200, "response": f"I love {value.value} icecream"}, headers=headers)

    @api.get("/demo-auth/v1/todo")
    async def todos(request: Request, key: str = Header(...), limit: int = Query(25, ge=0, le=100),
              skip: int = Query(0, ge=0), sort: str = Query("created"), ascending: bool = True) -> Any:
        device = _device_for(db, key, request.client.host if request.client else "127.0.0.1")
        if device is None:
            return JSONResponse({"status": 401, "errors": [{"code": "KeyInvalid"}]}, status_code=401)
        direction = 1 if ascending else -1
        found = db["todos"].find({}, sort=[(sort, direction), ("_id", direction)], skip=skip, limit=limit or 25)
        return JSONResponse({"status": 200, "response": [_jsonable(t) for t in found]},
                            headers={"timestamp": str(int(time.time() * 1000)), "About": "This is a demo api"})

    @api.post("/icecream/v1/rules/{code}")
    async def rules(person: Person, code: str = Path(pattern=r"^[a-zA-Z]{2}\d{2}$")) -> Any:
        body = person.model_dump()
        body["email"] = (body["email"] or "").lower() or None
        return {"status": 200, "response": {"query": {"limit": 25, "sort": "created"},
                                            "path": {"code": code.upper()}, "body": body}}

    return api
