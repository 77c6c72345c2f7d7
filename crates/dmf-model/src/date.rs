//! Calendar dates: complete [`Date`]s and [`PartialDate`]s whose day or month may be unknown.

use std::fmt;
use std::num::NonZeroU16;
use std::str::FromStr;

/// The years a date in the file may carry. Older or later years are typing errors.
pub const YEARS: std::ops::RangeInclusive<u16> = 1800..=2199;

/// Why a date is not a real one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("year {0} is outside 1800-2199")]
    Year(u16),
    #[error("month {0} does not exist")]
    Month(u8),
    #[error("day {day} does not exist in {year:04}-{month:02}")]
    Day { year: u16, month: u8, day: u8 },
    #[error("a day is given but the month is unknown")]
    DayWithoutMonth,
    #[error("expected digits, found {0:?}")]
    NotDigits(String),
    #[error("expected YYYY-MM-DD, YYYY-MM or YYYY, found {0:?}")]
    IsoForm(String),
    #[error("the date is incomplete, a full date is required")]
    Incomplete,
}

/// Whether `year` is a leap year in the Gregorian calendar.
pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` (1-12) of `year`.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A complete calendar date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, DateError> {
        if !YEARS.contains(&year) {
            return Err(DateError::Year(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::Month(month));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(DateError::Day { year, month, day });
        }
        Ok(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before), by the proleptic Gregorian calendar.
    pub fn days_since_epoch(self) -> i32 {
        // Shift the year to start in March so that the leap day is the last day of a year.
        let y = self.year as i32 - i32::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = self.month as i32;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + self.day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01; `None` outside the supported years.
    pub fn from_days_since_epoch(days: i32) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i32::from(month <= 2);
        let year = u16::try_from(year).ok()?;
        Date::new(year, month, day).ok()
    }

    /// The date `n` days later (earlier for negative `n`).
    pub fn add_days(self, n: i32) -> Option<Date> {
        Date::from_days_since_epoch(self.days_since_epoch() + n)
    }

    /// Day of the week, 0 = Monday ... 6 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        (self.days_since_epoch() + 3).rem_euclid(7) as u8
    }

    /// Whole years from `birth` to `self` (an age on this date).
    pub fn years_since(self, birth: Date) -> i32 {
        let mut years = self.year as i32 - birth.year as i32;
        if (self.month, self.day) < (birth.month, birth.day) {
            years -= 1;
        }
        years
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// An ISO 8601 calendar date, `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Date, DateError> {
        PartialDate::from_str(s)?
            .complete()
            .ok_or(DateError::Incomplete)
    }
}

/// A date whose day, or day and month, may be unknown, as the file records old deaths.
///
/// A known day always comes with a known month, and known parts form a real date
/// (`1900-02-29` is rejected, `2000-02-29` accepted). Ordered by year, then month, then day,
/// an unknown part sorting before every known one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    /// Never zero (the years are 1800-2199), which lets `Option<PartialDate>` take 4 bytes.
    year: NonZeroU16,
    /// 0 when unknown.
    month: u8,
    /// 0 when unknown.
    day: u8,
}

impl PartialDate {
    pub fn new(year: u16, month: Option<u8>, day: Option<u8>) -> Result<PartialDate, DateError> {
        if !YEARS.contains(&year) {
            return Err(DateError::Year(year));
        }
        match (month, day) {
            (None, None) => Ok(PartialDate {
                year: nonzero(year),
                month: 0,
                day: 0,
            }),
            (None, Some(_)) => Err(DateError::DayWithoutMonth),
            (Some(m), None) if (1..=12).contains(&m) => Ok(PartialDate {
                year: nonzero(year),
                month: m,
                day: 0,
            }),
            (Some(m), None) => Err(DateError::Month(m)),
            (Some(m), Some(d)) => Date::new(year, m, d).map(PartialDate::from),
        }
    }

    /// The date of `year`, `month` and `day`, `0` standing for an unknown month or day; `None`
    /// where [`PartialDate::new`] would refuse it. For hot paths that need no reason.
    #[inline]
    pub fn from_dmf_parts(year: u16, month: u8, day: u8) -> Option<PartialDate> {
        let ok = YEARS.contains(&year)
            && month <= 12
            && (day == 0 || (month != 0 && day <= days_in_month(year, month)));
        ok.then(|| PartialDate {
            year: nonzero(year),
            month,
            day,
        })
    }

    /// Parses the DMF form `MMDDCCYY`, where `00` stands for an unknown month or day.
    #[inline]
    pub fn parse_mmddccyy(b: &[u8; 8]) -> Result<PartialDate, DateError> {
        let mut v = [0u8; 8];
        for (slot, &c) in v.iter_mut().zip(b) {
            *slot = c.wrapping_sub(b'0');
            if *slot > 9 {
                return Err(DateError::NotDigits(
                    String::from_utf8_lossy(b).into_owned(),
                ));
            }
        }
        let month = v[0] * 10 + v[1];
        let day = v[2] * 10 + v[3];
        let year = v[4] as u16 * 1000 + v[5] as u16 * 100 + v[6] as u16 * 10 + v[7] as u16;
        let month = (month != 0).then_some(month);
        let day = (day != 0).then_some(day);
        PartialDate::new(year, month, day)
    }

    /// The DMF form `MMDDCCYY`, unknown parts written `00`.
    pub fn to_mmddccyy(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        let put = |out: &mut [u8], n: u16| {
            let mut n = n;
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(&mut out[0..2], self.month as u16);
        put(&mut out[2..4], self.day as u16);
        put(&mut out[4..8], self.year.get());
        out
    }

    pub fn year(self) -> u16 {
        self.year.get()
    }

    pub fn month(self) -> Option<u8> {
        (self.month != 0).then_some(self.month)
    }

    pub fn day(self) -> Option<u8> {
        (self.day != 0).then_some(self.day)
    }

    /// The full date, if day and month are known.
    pub fn complete(self) -> Option<Date> {
        (self.day != 0).then_some(Date {
            year: self.year.get(),
            month: self.month,
            day: self.day,
        })
    }

    /// The earliest full date this partial date may stand for.
    pub fn earliest(self) -> Date {
        Date {
            year: self.year.get(),
            month: self.month.max(1),
            day: self.day.max(1),
        }
    }

    /// The latest full date this partial date may stand for.
    pub fn latest(self) -> Date {
        let month = if self.month == 0 { 12 } else { self.month };
        let day = if self.day == 0 {
            days_in_month(self.year.get(), month)
        } else {
            self.day
        };
        Date {
            year: self.year.get(),
            month,
            day,
        }
    }

    /// Whether both may stand for the same day: every part known on both sides is equal.
    pub fn is_compatible(self, other: PartialDate) -> bool {
        self.year == other.year
            && (self.month == 0 || other.month == 0 || self.month == other.month)
            && (self.day == 0 || other.day == 0 || self.day == other.day)
    }

    /// The same date with the day forgotten.
    pub fn without_day(self) -> PartialDate {
        PartialDate { day: 0, ..self }
    }
}

impl From<Date> for PartialDate {
    fn from(d: Date) -> PartialDate {
        PartialDate {
            year: nonzero(d.year),
            month: d.month,
            day: d.day,
        }
    }
}

/// A year of [`YEARS`], which has no zero.
fn nonzero(year: u16) -> NonZeroU16 {
    NonZeroU16::new(year).expect("years of the file start at 1800")
}

impl fmt::Display for PartialDate {
    /// ISO 8601 at the precision known: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year.get())?;
        if self.month != 0 {
            write!(f, "-{:02}", self.month)?;
        }
        if self.day != 0 {
            write!(f, "-{:02}", self.day)?;
        }
        Ok(())
    }
}

impl fmt::Debug for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartialDate({self})")
    }
}

impl FromStr for PartialDate {
    type Err = DateError;

    /// ISO 8601 at any precision: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    fn from_str(s: &str) -> Result<PartialDate, DateError> {
        let form_error = || DateError::IsoForm(s.to_owned());
        let number = |part: &str, len: usize| -> Result<u16, DateError> {
            if part.len() != len || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(form_error());
            }
            part.parse().map_err(|_| form_error())
        };
        let mut parts = s.trim().split('-');
        let year = number(parts.next().ok_or_else(form_error)?, 4)?;
        let month = parts.next().map(|p| number(p, 2)).transpose()?;
        let day = parts.next().map(|p| number(p, 2)).transpose()?;
        if parts.next().is_some() {
            return Err(form_error());
        }
        PartialDate::new(year, month.map(|m| m as u8), day.map(|d| d as u8))
    }
}
