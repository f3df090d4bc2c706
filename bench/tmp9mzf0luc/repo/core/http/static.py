"""Public project assets: ``projects/<name>/public/`` is served at ``/<name>/assets/`` (mia.js's rule).

Why one Flask rule per project that has a public folder (and not a catch-all ``/<p>/assets/``): a
project without assets keeps every path for its own routes, and other methods than GET/HEAD on an
asset path still reach the route pipeline. Files are sent with ``send_from_directory`` (safe joins,
conditional requests, ranges); ``/<name>/assets/`` serves ``index.html``. A missing file is the
usual JSON 404 envelope (core.app.factory's error handlers); an unsatisfiable Range is 416
``RangeNotSatisfiable`` with ``Content-Range: bytes */<size>``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, send_from_directory
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from core.errors import MiaError
from core.shared import Shared


def public_folders(projects_dir: Path, projects: list[str], public_name: str = "public") -> dict[str, Path]:
    """``{project: its public folder}`` for the projects that have one."""
    folders = {}
    for project in projects:
        folder = projects_dir / project / public_name
        if folder.is_dir():
            folders[project] = folder.resolve()
    return folders


def install(app: Flask, root: Path, projects: list[str]) -> dict[str, Path]:
    """Register ``GET /<project>/assets/<path>`` for every project with a public folder.

    Folder names come from ``system.path`` (``projects`` and ``modules.public``), as the loader's do.
    """
    paths = Shared.system.get("path") or {}
    public_name = (paths.get("modules") or {}).get("public", "public")
    folders = public_folders(Path(root) / paths.get("projects", "projects"), projects, public_name)

    def serve(project: str, filename: str = "index.html") -> Any:
        try:
            return send_from_directory(folders[project], filename)
        except RequestedRangeNotSatisfiable as exc:  # a client's bad Range: its own 416 entry, not a 500's
            size = "*" if exc.length is None else str(exc.length)
            raise MiaError(416, code="RangeNotSatisfiable", headers={"Content-Range": f"bytes */{size}"}) from None

    for project in folders:
        base = f"/{project}/assets"
        defaults = {"project": project}
        app.add_url_rule(f"{base}/", f"mia-assets-{project}-index", serve, methods=["GET", "HEAD"],
                         defaults=defaults, provide_automatic_options=False)
        app.add_url_rule(f"{base}/<path:filename>", f"mia-assets-{project}", serve, methods=["GET", "HEAD"],
                         defaults=defaults, provide_automatic_options=False)
    app.config["mia.public"] = folders
    return folders
