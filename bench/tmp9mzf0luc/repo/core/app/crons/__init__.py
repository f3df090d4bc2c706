"""Cron jobs at run time: ``scheduler`` (the APScheduler-backed manager coordinated through the database)
and ``modes`` (``cron=Job``, ``cron=A,B``, ``nocron`` and the scheduler a serving process starts).
"""
