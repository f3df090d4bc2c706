"""Global init: runs once at start-up before any project's init (mia.js's init/init.js)."""


def init() -> None:
    """Nothing to prepare globally yet; projects seed their own data in projects/<p>/init/."""
