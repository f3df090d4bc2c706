"""For project authors: ``testing`` (the pytest fixtures and helpers of the test kit) and ``scaffold``
(``server.py new-project``).
"""
