"""Working days by the Chinese statutory calendar (holidays and make-up workdays): from chinesecalendar for the years it
knows, and from the schedule staff entered (``StatutoryDay``) for a year it does not know yet. The State Council
publishes each next year's schedule around November; from 1 November the staff dashboard asks for it while missing."""

import datetime

import chinese_calendar

from .models import StatutoryDay, StatutoryDayKind

WARN_FROM_MONTH = 11  # from 1 November, next year's schedule is expected


def library_knows(year):
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


class Calendar:
    """The library for the years it knows; for another year, the schedule staff entered, read once (one query per
    year), else Monday to Friday with "not covered"."""

    def __init__(self):
        self._entered = {}

    def entered(self, year):
        """{date: kind} of the schedule staff entered for ``year`` (None when they entered none)."""
        if year not in self._entered:
            rows = dict(StatutoryDay.objects.filter(date__year=year).values_list("date", "kind"))
            self._entered[year] = rows or None
        return self._entered[year]

    def is_workday(self, day):
        """(is it a working day, is the statutory calendar known for that year)."""
        try:
            return chinese_calendar.is_workday(day), True
        except NotImplementedError:  # a year the library does not know: the schedule staff entered, if any
            entered = self.entered(day.year)
            if entered is None:
                return day.weekday() < 5, False
            kind = entered.get(day)
            return (kind == StatutoryDayKind.WORKDAY if kind else day.weekday() < 5), True


def is_workday(day):
    """(is it a working day, is the statutory calendar known for that year)."""
    return Calendar().is_workday(day)


def year_known(year):
    return library_knows(year) or StatutoryDay.objects.filter(date__year=year).exists()


def missing_next_year(today):
    """Next year when, from 1 November, neither the library nor staff's entries know its schedule; else None."""
    if today.month >= WARN_FROM_MONTH and not year_known(today.year + 1):
        return today.year + 1
    return None


def add_working_days(start, n):
    """The last day of a period of ``n`` working days that starts on ``start`` (counted as day 1 when it is a working
    day). Returns (end date, calendar covered every day of the period). 2025-09-29 + 5 → 2025-10-11."""
    if n < 1:
        raise ValueError("a notice lasts at least one working day")
    calendar = Calendar()
    day, counted, covered = start, 0, True
    while True:
        workday, known = calendar.is_workday(day)
        covered = covered and known
        if workday:
            counted += 1
            if counted == n:
                return day, covered
        day += datetime.timedelta(days=1)
