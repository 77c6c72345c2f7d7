//! Federal working days: weekends and US federal holidays (with their observed days) excluded,
//! for contest deadlines.

use crate::Date;

/// The `n`th given weekday (0 = Monday) of a month; `n` = 5 means the last.
fn nth_weekday(year: u16, month: u8, weekday: u8, n: u8) -> Date {
    if n == 5 {
        let next = if month == 12 {
            Date::new(year + 1, 1, 1)
        } else {
            Date::new(year, month + 1, 1)
        };
        let mut d = next.expect("a real date").add_days(-1).expect("in range");
        while d.weekday() != weekday {
            d = d.add_days(-1).expect("in range");
        }
        return d;
    }
    let first = Date::new(year, month, 1).expect("a real date");
    let offset = (weekday + 7 - first.weekday()) % 7;
    first
        .add_days(i32::from(offset) + 7 * i32::from(n - 1))
        .expect("in range")
}

/// A fixed-date holiday moved to Friday when on a Saturday and to Monday when on a Sunday.
fn observed(d: Date) -> Date {
    match d.weekday() {
        5 => d.add_days(-1).expect("in range"),
        6 => d.add_days(1).expect("in range"),
        _ => d,
    }
}

/// The observed federal holidays of a year (5 U.S.C. 6103).
pub fn federal_holidays(year: u16) -> Vec<Date> {
    let fixed = |m: u8, d: u8| observed(Date::new(year, m, d).expect("a real date"));
    let mut days = vec![
        fixed(1, 1),
        nth_weekday(year, 1, 0, 3), // Birthday of Martin Luther King, Jr.
        nth_weekday(year, 2, 0, 3), // Washington's Birthday
        nth_weekday(year, 5, 0, 5), // Memorial Day
        fixed(7, 4),
        nth_weekday(year, 9, 0, 1),  // Labor Day
        nth_weekday(year, 10, 0, 2), // Columbus Day
        fixed(11, 11),
        nth_weekday(year, 11, 3, 4), // Thanksgiving Day
        fixed(12, 25),
    ];
    if year >= 2021 {
        days.push(fixed(6, 19)); // Juneteenth National Independence Day
    }
    // New Year's Day of next year observed on this year's December 31.
    if let Ok(next) = Date::new(year + 1, 1, 1)
        && next.weekday() == 5
    {
        days.push(next.add_days(-1).expect("in range"));
    }
    days.sort();
    days
}

/// Whether `d` is a federal working day.
pub fn is_federal_working_day(d: Date) -> bool {
    d.weekday() < 5 && !federal_holidays(d.year()).contains(&d)
}

/// The date `n` federal working days after `start` (the start day itself not counted); the
/// last day of the supported years (2199-12-31) when that lies beyond it.
pub fn add_federal_working_days(start: Date, n: u32) -> Date {
    let mut d = start;
    let mut left = n;
    while left > 0 {
        // A submitted notice may be dated up to the last supported day, and its contest
        // deadline then falls past it: stop there rather than panic on a date that cannot be.
        let Some(next) = d.add_days(1) else {
            break;
        };
        d = next;
        if is_federal_working_day(d) {
            left -= 1;
        }
    }
    d
}
