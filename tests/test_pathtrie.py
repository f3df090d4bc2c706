"""core/http/pathtrie.py matches exactly as werkzeug's state machine did for the router's rule shapes.

The router used one werkzeug ``Map`` per vhost; the trie replaced it for start-up time and memory.
This compares both on the same rules for every path built from their segments (rule, endpoint or
404, and the methods a 405 reports).
"""
from __future__ import annotations

import itertools

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from core.http.pathtrie import PathTrie

RULES = [
    ("/", "GET"), ("/a", "GET"), ("/a", "POST"), ("/a/<id>", "GET"), ("/a/<id>", "DELETE"), ("/a/b", "PUT"),
    ("/a/<id>/c", "GET"), ("/a/b/c", "POST"), ("/f/<path:wildcard>", "GET"), ("/f/x", "POST"),
    ("/g/<path:wildcard>/meta", "GET"), ("/g/<id>", "GET"), ("/g/<id>/<other>", "OPTIONS"),
    ("/h/<id>/<path:wildcard>", "GET"), ("/h/<id>/z", "POST"), ("/<x>/y", "GET"), ("/b%2fc", "GET"),
]
PIECES = ["a", "b", "c", "x", "y", "z", "f", "g", "h", "meta", "", "b%2fc", "\n", "é"]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]


def _werkzeug(adapter, path, method):
    try:
        endpoint, _ = adapter.match(path, method=method)
        return endpoint, set()
    except MethodNotAllowed as exc:
        return None, set(exc.valid_methods or [])
    except NotFound:
        return None, set()


def test_trie_agrees_with_werkzeug_on_every_generated_path():
    adapter = Map([Rule(rule, endpoint=i, methods=[verb]) for i, (rule, verb) in enumerate(RULES)],
                  strict_slashes=False, merge_slashes=False).bind("localhost")
    trie = PathTrie()
    for i, (rule, verb) in enumerate(RULES):
        trie.add(rule, {verb}, i)
    paths = {"/"}
    for length in (1, 2, 3, 4):
        for combo in itertools.product(PIECES, repeat=length):
            paths.add("/" + "/".join(combo))
    checked = 0
    for path in sorted(paths):
        if len(path) > 1 and path.endswith("/"):
            continue  # the router strips trailing slashes before matching
        for method in METHODS:
            lookup = "/" + path.lstrip("/")  # as the router (and werkzeug) treat leading slashes
            assert trie.match(lookup, method) == _werkzeug(adapter, path, method), (path, method)
            checked += 1
    assert checked > 10_000
