"""Validation: mia.js's rule language compiled once into validators.

``coercion`` (types and conversions), ``rules`` (one field's rule set), ``validator`` (a nested rule
dict -> a compiled schema; ``input_paths`` un-flattens dotted keys), ``preconditions`` (a route's
header/query/path/body rules checked at once), ``schemas`` (the same rules as marshmallow/JSON
Schema for the docs). Free of Flask and of I/O: testable without an app. May import only the
foundations (core.shared, core.errors, core.translator).
"""
