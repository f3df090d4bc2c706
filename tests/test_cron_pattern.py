"""mia.js's time pattern (cron npm 1.4.1) translated to APScheduler's CronTrigger, field by field."""
from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core import BaseCronJob
from core.cron import PatternError, apscheduler_fields, cron_trigger, expand, normalise_config, parse_field

EVERY_SECOND = list(range(60))

# (field, mia value, values mia.js fires on (mia's numbering), APScheduler's field text)
TABLE = [
    ("second", "*", EVERY_SECOND, "*"),
    ("second", "*/15", [0, 15, 30, 45], "0,15,30,45"),
    ("second", "0-59/10", [0, 10, 20, 30, 40, 50], "0,10,20,30,40,50"),
    ("second", "5,10,70", [5, 10, 59], "5,10,59"),  # 70 clamped to 59
    ("second", "5/15", [5], "5"),  # cron 1.4.1: a step without an upper bound is just the start
    ("second", "50-10", [50], "50"),  # an end below the start yields the start
    ("second", "3/0", [3], "3"),  # step 0 counts as 1
    ("second", 7, [7], "7"),  # numbers are allowed
    ("minute", "0-59", list(range(60)), "*"),
    ("minute", "1-5,30", [1, 2, 3, 4, 5, 30], "1,2,3,4,5,30"),
    ("hour", "0-23/2", list(range(0, 24, 2)), ",".join(str(h) for h in range(0, 24, 2))),
    ("hour", "22-30", [22, 23], "22,23"),  # clamped to 23
    ("dayOfMonth", "0-31", list(range(1, 32)), "*"),  # 0 clamped to 1: every day
    ("dayOfMonth", "0", [1], "1"),
    ("dayOfMonth", "15", [15], "15"),
    ("month", "0-12", list(range(12)), "*"),  # months from 0; 12 clamped to 11: every month
    ("month", "0", [0], "1"),  # January is 0 in mia.js, 1 in APScheduler
    ("month", "11", [11], "12"),
    ("month", "jan,Dec", [0, 11], "1,12"),  # names, any case
    ("month", "mar-may", [2, 3, 4], "3,4,5"),
    ("month", "*/3", [0, 3, 6, 9], "1,4,7,10"),
    ("dayOfWeek", "0-7", list(range(7)), "*"),  # 7 clamped to 6 (cron 1.4.1): every day
    ("dayOfWeek", "0", [0], "6"),  # Sunday: 0 in mia.js, 6 in APScheduler (Monday = 0)
    ("dayOfWeek", "1", [1], "0"),  # Monday
    ("dayOfWeek", "6", [6], "5"),  # Saturday
    ("dayOfWeek", "sun,sat", [0, 6], "5,6"),
    ("dayOfWeek", "mon-fri", [1, 2, 3, 4, 5], "0,1,2,3,4"),
    ("dayOfWeek", "7", [6], "5"),
]


@pytest.mark.parametrize("field, value, values, aps", TABLE)
def test_every_field_translates_like_mia(field, value, values, aps):
    expanded = expand({field: value, **({"second": "0"} if field != "second" else {})})
    assert expanded[field] == values
    target = {"second": "second", "minute": "minute", "hour": "hour", "dayOfMonth": "day", "month": "month",
              "dayOfWeek": "day_of_week"}[field]
    assert apscheduler_fields(expanded)[target] == aps


def test_missing_fields_use_cron_defaults_second_0_and_every_other():
    expanded = expand({"minute": "*/5"})
    assert expanded["second"] == [0]
    assert expanded["hour"] == list(range(24)) and expanded["dayOfWeek"] == list(range(7))


def test_random_seconds_are_drawn_from_0_to_60_and_clamped():
    draws = {tuple(expand({"second": "RANDOM,RANDOM"}, random.Random(seed))["second"]) for seed in range(200)}
    values = {v for draw in draws for v in draw}
    assert values <= set(range(60)) and len(values) > 30
    assert all(1 <= len(draw) <= 2 for draw in draws)
    with pytest.raises(PatternError, match="RANDOM is only allowed in 'second'"):
        expand({"minute": "RANDOM"})


@pytest.mark.parametrize("value, message", [
    ("june", "Unknown alias: e"), ("foo", "Unknown alias: foo"), ("1-", "cannot be parsed"), ("", "empty field"),
])
def test_unparsable_fields_are_refused_like_mia(value, message):
    with pytest.raises(PatternError, match=message):
        parse_field(value, 0, 59) if value == "" else expand({"minute": value})


def test_day_of_month_and_day_of_week_must_both_match():
    # mia.js (cron 1.4.1) ANDs them: the 13th only when it is a Friday (no Vixie OR).
    trigger = cron_trigger({"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "13", "dayOfWeek": "fri",
                            "timezone": "UTC"})
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    assert (fire.year, fire.month, fire.day, fire.weekday()) == (2026, 2, 13, 4)


def test_timezone_is_honoured_and_checked():
    trigger = cron_trigger({"second": "0", "minute": "0", "hour": "3", "timezone": "CET"})
    fire = trigger.get_next_fire_time(None, datetime(2026, 6, 1, tzinfo=ZoneInfo("UTC")))
    assert fire.astimezone(ZoneInfo("UTC")).hour == 1  # 03:00 CEST is 01:00 UTC
    with pytest.raises(PatternError, match="timezone"):
        cron_trigger({"timezone": "Mars/Olympus"})


def test_months_from_zero_fire_in_the_right_month():
    trigger = cron_trigger({"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "1", "month": "0",
                            "timezone": "UTC"})
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 5, tzinfo=ZoneInfo("UTC")))
    assert (fire.year, fire.month, fire.day) == (2027, 1, 1)


def test_a_broken_pattern_fails_when_the_class_is_defined():
    with pytest.raises(PatternError, match="cron job badJob: time.hour"):
        class Bad(BaseCronJob):
            identity = "badJob"
            time = {"hour": "noon"}

            def worker(self):
                return None


def test_config_checks_types_and_keeps_mia_keys():
    config = normalise_config({"time": {"second": "*/2"}, "maxInstanceNumberTotal": "2", "allowedHosts": "a"})
    assert config["maxInstanceNumberTotal"] == 2 and config["allowedHosts"] == ["a"]
    assert config["isSuspended"] is False and config["forceRun"] is False
    for bad in ({"time": {"sec": "1"}}, {"maxInstanceNumberPerServer": -1}, {"environment": [1]}):
        with pytest.raises(PatternError):
            normalise_config(bad)
