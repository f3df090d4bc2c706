"""Start-up: everything compiled once before the first request.

``config`` (root config, environment, process-environment overrides), ``loader`` (projects
scanned for identity/version-tagged modules, init modules), ``routes`` (route files -> compiled
route methods with resolved chains and preconditions). Fails loudly, naming the file. May import
the foundations, core.validation, core.data and core.http (it compiles what http runs).
"""
