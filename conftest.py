"""pytest at the repository root: loads mia's testing kit (core/app/kit/testing.py) for every test below.

So ``pytest projects/NAME`` runs a project's own tests with the fixtures ``mia_app``, ``mia_client``,
``mia_live``, ``mia_signed_client``, ``mia_memcached`` and ``mia_db`` (README "Testing your project").
"""
pytest_plugins = ["core.app.kit.testing"]
