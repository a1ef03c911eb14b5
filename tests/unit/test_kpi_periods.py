"""Calendar periods: boundaries across DST, month ends, leap years, fiscal years, labels.

Expected values are written out by hand from a calendar, never taken from the code.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kputui.kpi.periods import (
    CALENDAR_KINDS,
    current_period,
    elapsed_share,
    last_periods,
    last_year_period,
    last_year_to_date,
    parse_period,
    period_label,
    previous_period,
    previous_to_date,
    to_date,
)
from kputui.kpi.sparkline import sparkline_windows
from kputui.kpi.spec import Calendar

BERLIN = Calendar("Europe/Berlin")
NEW_YORK = Calendar("America/New_York")
FISCAL = Calendar("Europe/Berlin", fiscal_year_start=(4, 1))
SUNDAY = Calendar("Europe/Berlin", week_start=6)


def at(cal: Calendar, *parts: int) -> float:
    """Unix seconds of a local wall time in the calendar's zone."""
    return datetime(*parts, tzinfo=ZoneInfo(cal.timezone)).timestamp()  # type: ignore[misc]


def iso(cal: Calendar, instant: float) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(cal.timezone)).isoformat()


@pytest.mark.parametrize(
    ("cal", "kind", "now", "start", "end", "hours", "label"),
    [
        # Berlin springs forward on 2026-03-29 at 02:00 (+01 -> +02): a 23-hour day.
        (BERLIN, "day", (2026, 3, 29, 12), "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23, "2026-03-29"),
        # ... and falls back on 2026-10-25 at 03:00 (+02 -> +01): a 25-hour day.
        (BERLIN, "day", (2026, 10, 25, 12), "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25, "2026-10-25"),
        # New York: 2026-03-08 (23 h) and 2026-11-01 (25 h).
        (NEW_YORK, "day", (2026, 3, 8, 12), "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23, "2026-03-08"),
        (NEW_YORK, "day", (2026, 11, 1, 1, 30), "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25, "2026-11-01"),
        # The week of Monday 2026-03-23 holds the DST change: 7 * 24 - 1 hours; ISO week 13.
        (BERLIN, "week", (2026, 3, 29, 23), "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 167, "2026-W13"),
        # Weeks from Sunday: Sunday 2026-03-29 starts a week (with the DST change at 02:00,
        # so it is 167 h long); its Wednesday is in ISO week 14.
        (SUNDAY, "week", (2026, 3, 29, 12), "2026-03-29T00:00:00+01:00", "2026-04-05T00:00:00+02:00", 167, "2026-W14"),
        (SUNDAY, "week", (2026, 3, 28, 12), "2026-03-22T00:00:00+01:00", "2026-03-29T00:00:00+01:00", 168, "2026-W13"),
        # 2027-01-01 is a Friday; its Monday-week began 2026-12-28: ISO week 53 of 2026.
        (BERLIN, "week", (2027, 1, 1, 9), "2026-12-28T00:00:00+01:00", "2027-01-04T00:00:00+01:00", 168, "2026-W53"),
        (BERLIN, "month", (2026, 3, 31, 23, 59), "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 31 * 24 - 1, "2026-03"),
        (BERLIN, "month", (2026, 10, 1), "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00", 31 * 24 + 1, "2026-10"),
        (BERLIN, "month", (2028, 2, 29, 8), "2028-02-01T00:00:00+01:00", "2028-03-01T00:00:00+01:00", 29 * 24, "2028-02"),
        (BERLIN, "month", (2026, 2, 14), "2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00", 28 * 24, "2026-02"),
        (BERLIN, "quarter", (2026, 12, 4), "2026-10-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00", 92 * 24 + 1, "2026-Q4"),
        (BERLIN, "year", (2028, 7, 1), "2028-01-01T00:00:00+01:00", "2029-01-01T00:00:00+01:00", 366 * 24, "2028"),
        # Fiscal year from April 1: March 2026 is in the year 2025-04-01 .. 2026-04-01, named
        # after the calendar year it ends in, and in its 4th quarter (Jan-Mar).
        (FISCAL, "fiscal_year", (2026, 3, 15), "2025-04-01T00:00:00+02:00", "2026-04-01T00:00:00+02:00", 365 * 24, "FY2026"),
        (FISCAL, "fiscal_quarter", (2026, 3, 15), "2026-01-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 90 * 24 - 1, "FY2026-Q4"),
        (FISCAL, "fiscal_quarter", (2026, 4, 1), "2026-04-01T00:00:00+02:00", "2026-07-01T00:00:00+02:00", 91 * 24, "FY2027-Q1"),
        (FISCAL, "fiscal_year", (2026, 4, 1), "2026-04-01T00:00:00+02:00", "2027-04-01T00:00:00+02:00", 365 * 24, "FY2027"),
        # A January fiscal start makes fiscal periods the calendar ones.
        (BERLIN, "fiscal_quarter", (2026, 12, 4), "2026-10-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00", 92 * 24 + 1, "FY2026-Q4"),
    ],
)
def test_current_period(cal, kind, now, start, end, hours, label) -> None:
    period = parse_period(kind)
    window = current_period(period, at(cal, *now), cal)
    assert (iso(cal, window.start), iso(cal, window.end)) == (start, end)
    assert window.end - window.start == hours * 3600
    assert period_label(period, at(cal, *now), cal) == label


def test_fiscal_quarters_on_a_mid_month_anchor() -> None:
    cal = Calendar("UTC", fiscal_year_start=(10, 15))
    period = parse_period("fiscal_quarter")
    # Quarters start Oct 15, Jan 15, Apr 15, Jul 15. Jan 20 2026 is in the one from Jan 15;
    # Jan 10 is still in the one from 2025-10-15. The year ends 2026-10-14: FY2026, Q2.
    window = current_period(period, at(cal, 2026, 1, 20), cal)
    assert (iso(cal, window.start), iso(cal, window.end)) == ("2026-01-15T00:00:00+00:00", "2026-04-15T00:00:00+00:00")
    assert period_label(period, at(cal, 2026, 1, 20), cal) == "FY2026-Q2"
    assert iso(cal, current_period(period, at(cal, 2026, 1, 10), cal).start) == "2025-10-15T00:00:00+00:00"


def test_rolling_windows_are_exact_seconds_even_across_dst() -> None:
    now = at(BERLIN, 2026, 3, 29, 12)
    period = parse_period("rolling:24h")
    assert current_period(period, now, BERLIN) == (now - 86400, now)
    assert previous_period(period, now, BERLIN) == (now - 2 * 86400, now - 86400)
    assert parse_period("rolling:7d").seconds == 7 * 86400
    assert parse_period("rolling:90m").seconds == 5400
    assert elapsed_share(period, now, BERLIN) == 1.0


@pytest.mark.parametrize("text", ["hourly", "rolling:0h", "rolling:24", "rolling:-1d", "rolling:24w", "Month", "rolling:5000d"])
def test_bad_periods_say_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        parse_period(text)


@pytest.mark.parametrize(
    ("cal", "kind", "now", "start", "end"),
    [
        # March 1-10 (to 10:00) compares with February 1-10 (to 10:00).
        (BERLIN, "month", (2026, 3, 10, 10), "2026-02-01T00:00:00+01:00", "2026-02-10T10:00:00+01:00"),
        # March 31 and March 29 (2026: no Feb 29): the whole of February.
        (BERLIN, "month", (2026, 3, 31, 10), "2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00"),
        (BERLIN, "month", (2026, 3, 29, 10), "2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00"),
        # 2028 is a leap year: March 29 has Feb 29 as counterpart.
        (BERLIN, "month", (2028, 3, 29, 10), "2028-02-01T00:00:00+01:00", "2028-02-29T10:00:00+01:00"),
        # April 30 -> March 30, same wall time although DST started in between.
        (BERLIN, "month", (2026, 4, 30, 18), "2026-03-01T00:00:00+01:00", "2026-03-30T18:00:00+02:00"),
        # Q2 (May 31) -> Q1 (Feb has no 31st: up to the end of February).
        (BERLIN, "quarter", (2026, 5, 31, 12), "2026-01-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00"),
        (BERLIN, "day", (2026, 3, 30, 2, 30), "2026-03-29T00:00:00+01:00", "2026-03-29T03:30:00+02:00"),
        (BERLIN, "week", (2026, 4, 1, 12), "2026-03-23T00:00:00+01:00", "2026-03-25T12:00:00+01:00"),
        (BERLIN, "year", (2028, 2, 29, 10), "2027-01-01T00:00:00+01:00", "2027-03-01T00:00:00+01:00"),
        # Fiscal year from April: 2026-05-10 is in FY2027; the previous began 2025-04-01.
        (FISCAL, "fiscal_year", (2026, 5, 10), "2025-04-01T00:00:00+02:00", "2025-05-10T00:00:00+02:00"),
    ],
)
def test_previous_period_is_aligned_on_the_elapsed_part(cal, kind, now, start, end) -> None:
    window = previous_to_date(parse_period(kind), at(cal, *now), cal)
    assert (iso(cal, window.start), iso(cal, window.end)) == (start, end)


@pytest.mark.parametrize(
    ("kind", "now", "start", "end"),
    [
        # Feb 29 of a leap year: the same day last year is Feb 28, to the same time.
        ("day", (2028, 2, 29, 10), "2027-02-28T00:00:00+01:00", "2027-02-28T10:00:00+01:00"),
        ("day", (2026, 7, 4, 10), "2025-07-04T00:00:00+02:00", "2025-07-04T10:00:00+02:00"),
        # February 2028 up to the 29th: all of February 2027.
        ("month", (2028, 2, 29, 10), "2027-02-01T00:00:00+01:00", "2027-03-01T00:00:00+01:00"),
        ("quarter", (2026, 11, 15), "2025-10-01T00:00:00+02:00", "2025-11-15T00:00:00+01:00"),
        # Weeks go back 52 weeks (364 days): Wed 2026-04-01 -> Wed 2025-04-02, week from Mon 03-31.
        ("week", (2026, 4, 1, 12), "2025-03-31T00:00:00+02:00", "2025-04-02T12:00:00+02:00"),
    ],
)
def test_same_period_last_year(kind, now, start, end) -> None:
    window = last_year_to_date(parse_period(kind), at(BERLIN, *now), BERLIN)
    assert (iso(BERLIN, window.start), iso(BERLIN, window.end)) == (start, end)


def test_whole_last_year_period() -> None:
    window = last_year_period(parse_period("month"), at(BERLIN, 2026, 3, 10), BERLIN)
    assert (iso(BERLIN, window.start), iso(BERLIN, window.end)) == (
        "2025-03-01T00:00:00+01:00", "2025-04-01T00:00:00+02:00")


def test_to_date_and_elapsed_share() -> None:
    period = parse_period("day")
    now = at(NEW_YORK, 2026, 3, 8, 12)
    # 00:00 -05:00 to 12:00 -04:00 is 11 real hours of a 23-hour day.
    assert to_date(period, now, NEW_YORK) == (at(NEW_YORK, 2026, 3, 8), now)
    assert elapsed_share(period, now, NEW_YORK) == pytest.approx(11 / 23)


def test_sparkline_hours_of_a_dst_day_are_real_hours() -> None:
    now = at(BERLIN, 2026, 3, 29, 4, 30)
    windows = sparkline_windows(parse_period("day"), now, BERLIN, 4)
    # Local hours 01:00, (02:00 does not exist) 03:00 and 04:00 are 01:00+01, 03:00+02, 04:00+02.
    starts = [iso(BERLIN, w.start) for w in windows]
    assert starts == ["2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00",
                      "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]
    assert windows[-1].end == now


def test_sparkline_hours_in_a_half_hour_zone_start_on_the_local_hour() -> None:
    cal = Calendar("Asia/Kolkata")
    now = at(cal, 2026, 5, 1, 10, 20)
    windows = sparkline_windows(parse_period("day"), now, cal, 2)
    assert [iso(cal, w.start) for w in windows] == ["2026-05-01T09:00:00+05:30", "2026-05-01T10:00:00+05:30"]


@pytest.mark.parametrize(
    ("kind", "now", "starts"),
    [
        ("month", (2026, 3, 2, 10), ["2026-02-28T00:00:00+01:00", "2026-03-01T00:00:00+01:00", "2026-03-02T00:00:00+01:00"]),
        ("week", (2026, 3, 30, 10), ["2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]),
        ("quarter", (2026, 4, 2), ["2026-03-16T00:00:00+01:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]),
        ("year", (2026, 2, 10), ["2025-12-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00", "2026-02-01T00:00:00+01:00"]),
    ],
)
def test_sparkline_sub_periods(kind, now, starts) -> None:
    windows = sparkline_windows(parse_period(kind), at(BERLIN, *now), BERLIN, 3)
    assert [iso(BERLIN, w.start) for w in windows] == starts


def test_sparkline_of_a_rolling_window_cuts_it_into_slices_that_stay_put() -> None:
    now = 1_800_001_000.0  # 16:40 past a whole hour (UTC)
    windows = sparkline_windows(parse_period("rolling:24h"), now, BERLIN, 24)
    assert windows[-1] == (now - 1000, now)  # the current slice, so far
    assert windows[0].start == now - 1000 - 23 * 3600  # whole hours before it
    assert all(w.end - w.start == 3600 for w in windows[:-1])
    later = sparkline_windows(parse_period("rolling:24h"), now + 60, BERLIN, 24)
    assert later[:-1] == windows[:-1] and later[-1] == (now - 1000, now + 60)
    on_the_hour = sparkline_windows(parse_period("rolling:24h"), now - 1000, BERLIN, 24)
    assert on_the_hour[-1] == (now - 1000 - 3600, now - 1000)  # a whole last slice, never an empty one


def test_last_periods_are_labelled_and_end_with_the_current_one() -> None:
    periods = last_periods(parse_period("month"), at(BERLIN, 2026, 3, 15), BERLIN, 3)
    assert [p.label for p in periods] == ["2026-01", "2026-02", "2026-03"]
    assert iso(BERLIN, periods[-1].end) == "2026-04-01T00:00:00+02:00"


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham"]
CALENDARS = st.builds(
    Calendar,
    timezone=st.sampled_from(ZONES),
    week_start=st.integers(0, 6),
    fiscal_year_start=st.tuples(st.integers(1, 12), st.integers(1, 31)),
)
INSTANTS = st.floats(min_value=946_684_800, max_value=4_102_444_800, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, kind=st.sampled_from(CALENDAR_KINDS), now=INSTANTS)
def test_periods_tile_time(cal: Calendar, kind: str, now: float) -> None:
    """The period of `now` holds it, the next starts where it ends, the previous ends where it starts."""
    period = parse_period(kind)
    window = current_period(period, now, cal)
    assert window.start <= now < window.end
    assert current_period(period, window.end, cal).start == window.end
    assert current_period(period, window.start, cal) == window
    assert previous_period(period, now, cal).end == window.start
    aligned = previous_to_date(period, now, cal)
    assert previous_period(period, now, cal).start == aligned.start <= aligned.end <= window.start
    history = last_periods(period, now, cal, 4)
    assert all(a.end == b.start for a, b in zip(history, history[1:]))
    assert 0 <= elapsed_share(period, now, cal) <= 1


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, kind=st.sampled_from([*CALENDAR_KINDS, "rolling:24h", "rolling:45m", "rolling:7d"]),
       now=INSTANTS, points=st.integers(1, 40))
def test_sparkline_windows_tile_up_to_now(cal: Calendar, kind: str, now: float, points: int) -> None:
    windows = sparkline_windows(parse_period(kind), now, cal, points)
    assert len(windows) == points
    assert all(a.end == b.start and a.start < a.end for a, b in zip(windows, windows[1:]))
    assert windows[-1].start <= now == windows[-1].end


def test_an_instant_a_hair_before_midnight_is_still_the_old_day() -> None:
    # 2035-01-01 00:00 UTC minus half a microsecond: datetime would round it up to 00:00.
    cal = Calendar("UTC")
    now = 2051222399.9999995
    window = current_period(parse_period("day"), now, cal)
    assert iso(cal, window.start) == "2034-12-31T00:00:00+00:00"
    assert window.start <= now < window.end
