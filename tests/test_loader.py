"""The loader and the registry work without a server: identities, versions, depth, init order."""
from __future__ import annotations

import pytest

from core.app.cli import parse_args
from core.errors import StartupError
from core.shared import RegistryError, Shared
from core.startup.config import load_root_config
from core.startup.loader import Loader, run_init_modules
from core.translator import parse_culture_code, translate


@pytest.fixture
def loaded(tree):
    tree.write("projects/alpha/controllers/deep/er/still/ctrl.py", '''
        from core import Controller
        class Deep(Controller):
            identity = "deep"
            version = "2.1"
        class Helper:  # not a controller: ignored
            identity = "nope"
    ''')
    tree.write("projects/alpha/libs/math.py", '''
        from core import Lib
        class MathLib(Lib):
            identity = "alpha-math"
            factor = 3
            def triple(self, n):
                return n * self.factor
    ''')
    tree.write("projects/alpha/config/settings.py", '''
        from core import Config
        class Settings(Config):
            identity = "alpha-config"
            title = "Alpha"
            nested = {"a": {"b": 42}}
    ''')
    tree.write("projects/alpha/models/thing.py", '''
        from core import BaseModel
        class Thing(BaseModel):
            identity = "alpha-thing"
            collection_name = "things"
            data = {"name": {"type": str, "required": True}}
    ''')
    tree.write("projects/alpha/controllers/test_ignored.py", "raise RuntimeError('test files are not loaded')")
    tree.write("init/init.py", "import builtins\ndef init():\n    builtins.ORDER = ['root']\n")
    tree.write("projects/beta/init/b.py", "import builtins\ndef init():\n    builtins.ORDER.append('beta')\n")
    tree.write("projects/alpha/init/a.py", "import builtins\ndef init():\n    builtins.ORDER.append('alpha')\n")
    Shared.reset()
    Shared.system, Shared.environment, Shared.translations = load_root_config(tree.root, "test")
    return Loader(tree.root).load()


def test_registry_by_identity_and_version(loaded):
    assert Shared.controllers("deep", "2.1").identity == "deep"
    assert Shared.controllers("deep").version == "2.1"  # the only version
    assert Shared.libs("alpha-math").triple(2) == 6
    assert Shared.libs("alpha-math.factor") == 3
    assert Shared.models("alpha-thing").collection_name == "things"
    assert Shared.config("alpha-config.title") == "Alpha"
    assert Shared.config("alpha-config.nested.a.b") == 42
    assert Shared.config("environment.mode") == "test"
    assert Shared.config("system.defaultCulture.language") == "en"
    assert Shared.config("nothing.here") is None
    with pytest.raises(RegistryError, match="controller 'nope' is not registered"):
        Shared.controllers("nope")
    with pytest.raises(RegistryError, match="has no version '9.9'"):
        Shared.controllers("deep", "9.9")


def test_init_runs_global_first_then_projects_by_name(loaded):
    import builtins

    assert [m.project for m in loaded.init_modules] == [None, "alpha", "beta"]
    run_init_modules(loaded.init_modules)
    assert builtins.ORDER == ["root", "alpha", "beta"]


def test_failing_init_names_its_file(tree):
    path = tree.write("projects/alpha/init/bad.py", "def init():\n    raise ValueError('boom')\n")
    with pytest.raises(StartupError) as info:
        tree.app()
    assert "init() failed: ValueError: boom" in str(info.value) and str(path) in str(info.value)


def test_duplicate_within_one_project_fails(tree):
    tree.write("projects/alpha/libs/one.py", "from core import Lib\nclass A(Lib):\n    identity = 'dup'\n")
    tree.write("projects/alpha/libs/sub/two.py", "from core import Lib\nclass B(Lib):\n    identity = 'dup'\n")
    with pytest.raises(StartupError, match="Identity 'dup' with version '1.0' is already registered"):
        tree.app()


def test_module_folder_names_come_from_system_config(tree):
    tree.write("config/system.py", "system = {'path': {'modules': {'controllers': 'ctrl'}}}")
    tree.write("projects/base/ctrl/x.py", """
        from core import Controller
        class X(Controller):
            identity = 'x'
            def all(self, req, res):
                res.send({"from": "ctrl"})
    """)
    tree.write("projects/base/routes/r.py", "routes = {'routes': {'/x': {'get': {'controller': [{'name': 'x'}]}}}}")
    assert tree.app().test_client().get("/x").json == {"from": "ctrl"}
    assert not Shared.controller_registry.has("out")  # projects/base/controllers is no longer scanned


def test_unknown_environment_is_a_startup_error(tree):
    with pytest.raises(StartupError, match="unknown environment 'nope'; known: test"):
        tree.app("nope")


@pytest.mark.parametrize("argv, mode, values, cron", [
    ([], "local", {"local": True}, []),
    (["production"], "production", {"production": True}, []),
    (["local", "cron=A, B", "nocron"], "local", {"local": True, "cron": "A, B", "nocron": True}, ["A", "B"]),
    (["local", "a=b=c", "hot"], "local", {"local": True, "a": "b", "hot": True}, []),
])
def test_argument_parsing_like_mia(argv, mode, values, cron):
    args = parse_args(argv)
    assert (args.mode, args.values, args.cron_jobs) == (mode, values, cron)


def test_commands_after_the_mode():
    args = parse_args(["local", "docs", "--format", "md"])
    assert args.command == "docs" and args.command_args == ["--format", "md"]


def test_translation_fallback_chain(loaded):
    Shared.translations = {"Hello": {"de": "Hallo", "en": {"us": "Howdy", "gb": "Hello"}}}
    assert translate(None, "Hello", "de", "de") == "Hallo"
    assert translate(None, "Hello", "en", "us") == "Howdy"
    assert translate(None, "Hello", "fr", "us") == "Howdy"  # default language, requested region
    assert translate(None, "Hello", "fr", "fr") == "Hello"  # default culture
    assert translate(None, "NotFound", "fr", "fr") == "Whatever you are looking for it is not here"
    assert translate(None, "Nope", "en", "gb") == "Missing translation for key Nope"
    assert translate("no-such-group", "Hello") == "group no-such-group is not found"
    Shared.translations = {"Count": {"en": "[0] of [1]"}}
    assert translate("system", "Count", "en", "gb", [3, 7]) == "3 of 7"
    assert parse_culture_code("xx DE-de yy") == ("de", "de")
    assert parse_culture_code("nope") is None


def test_access_log_lines_do_not_carry_keys_from_the_query(tree):
    import logging

    tree.app()
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
                               ("GET /demo-auth/v1/todo?limit=2&key=9cd43d5622a2fa78b67b3412a2d8c614 HTTP/1.1",
                                "200", "-"), None)
    for log_filter in logging.getLogger("werkzeug").filters:
        log_filter.filter(record)
    assert record.getMessage() == '"GET /demo-auth/v1/todo?limit=2&key=*** HTTP/1.1" 200 -'
