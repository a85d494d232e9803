"""Cron expressions as every setting writes them, turned into APScheduler 3 triggers.

Settings use standard 5-field crontab syntax (the one procrastinate and `man 5 crontab` use).
APScheduler 3 reads the day-of-week field differently: its numbers start at Monday (0 = mon,
6 = sun), while crontab numbers start at Sunday (0 and 7 = sun, 1 = mon ... 6 = sat). Handed
to `CronTrigger.from_crontab` unchanged, `1-5` would mean Tuesday to Saturday.

Rules of the translation (`apscheduler_day_of_week`):
* `*` and `?` stay as they are (every day);
* every other term (a number, a name, a range `a-b`, a step `a-b/n` or `*/n`) is expanded into
  the explicit set of crontab days it names, then written as APScheduler day names
  (`mon,tue,...`), which APScheduler reads without any numbering convention;
* names (`mon`, `fri`) keep their meaning; a range may run through the week's end
  (`fri-mon` is Friday, Saturday, Sunday, Monday) as crontab allows with names;
* a number outside 0-7 or an unknown name is an error (ValueError with the term).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

# Crontab numbering: 0 and 7 are Sunday.
_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day(term: str) -> int:
    text = term.strip().lower()
    if text.isdigit():
        number = int(text)
        if not 0 <= number <= 7:
            raise ValueError(f"day of week {term!r} is not between 0 and 7")
        return number % 7
    if text[:3] in _NAMES and len(text) == 3:
        return _NAMES.index(text[:3])
    raise ValueError(f"day of week {term!r} is neither a number 0-7 nor a day name")


def crontab_days(field: str) -> set[int]:
    """The crontab days (0 = Sunday ... 6 = Saturday) that one day-of-week field names."""
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"day of week step {part!r} must be at least 1")
        if span in ("*", "?"):
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _day(low), _day(high)
            if high.strip() == "7":  # `1-7`: Monday through Sunday, not an empty wrap
                last = 7
            if last < first:  # through the end of the week (names such as fri-mon)
                last += 7
        else:
            first = last = _day(span)
            if step_text:  # `1/2`: from Monday, every second day to the end of the week
                last = 6
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def apscheduler_day_of_week(field: str) -> str:
    """The crontab day-of-week field written so APScheduler 3 reads the same days."""
    if field.strip() in ("*", "?"):
        return "*"
    days = crontab_days(field)
    # APScheduler orders the week from Monday; the order does not change the meaning.
    return ",".join(_NAMES[day] for day in sorted(days, key=lambda d: (d - 1) % 7))


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A crontab expression as an APScheduler 3 trigger with crontab's day numbering.

    Five fields, or six with seconds last (the form procrastinate's croniter reads).
    """
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5 (or 6 with seconds last)")
    minute, hour, day, month, day_of_week = fields[:5]
    return CronTrigger(
        second=fields[5] if len(fields) == 6 else "0",
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=apscheduler_day_of_week(day_of_week),
        timezone=timezone,
    )
