"""Working days by the Chinese statutory calendar (holidays and make-up workdays) from chinesecalendar."""

import datetime

import chinese_calendar


def is_workday(day):
    """(is it a working day, is the statutory calendar known for that year)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start, n):
    """The last day of a period of ``n`` working days that starts on ``start`` (counted as day 1 when it is a working
    day). Returns (end date, calendar covered every day of the period). 2025-09-29 + 5 → 2025-10-11."""
    if n < 1:
        raise ValueError("a notice lasts at least one working day")
    day, counted, covered = start, 0, True
    while True:
        workday, known = is_workday(day)
        covered = covered and known
        if workday:
            counted += 1
            if counted == n:
                return day, covered
        day += datetime.timedelta(days=1)
