//! Datetimes of CF calendars, and the partial date strings of `sel`.
//!
//! A [`DateTime`] is the calendar's own fields (year … nanosecond), so
//! dates that exist only in some calendars (30 February of `360_day`,
//! 29 February 1900 of `all_leap`) are held as they are, and ordering is
//! the lexicographic order of the fields, true within any one calendar.
//! Decoding `hours since 1900-01-01` values is the reader's business (the
//! CF decoding of `netcdf-reader`); this module names the calendar, the
//! seasons and months, and parses `"2018"`, `"2018-06"`, `"2018-06-15"`
//! and `"2018-06-15T12:00"` into the range of datetimes they cover, as
//! pandas' partial string indexing does.

use std::fmt;

use crate::error::{LabeledError, Result};

/// A CF calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Calendar {
    /// Gregorian after 1582-10-15, Julian before (`standard`, `gregorian`).
    Standard,
    /// Gregorian rules at every date.
    ProlepticGregorian,
    /// Every year 365 days (`noleap`, `365_day`).
    NoLeap,
    /// Every year 366 days (`all_leap`, `366_day`).
    AllLeap,
    /// Twelve months of 30 days.
    Day360,
    /// Julian rules at every date.
    Julian,
}

impl Calendar {
    /// The CF name, as written to a `calendar` attribute.
    pub fn name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
            Calendar::Julian => "julian",
        }
    }
}

/// A date and time of day in some calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Year (astronomical: year 0 exists).
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
    /// Nanoseconds within the second.
    pub nanosecond: u32,
}

impl DateTime {
    /// Midnight of a day.
    pub fn date(year: i32, month: u8, day: u8) -> DateTime {
        DateTime { year, month, day, hour: 0, minute: 0, second: 0, nanosecond: 0 }
    }

    /// The meteorological season: `DJF`, `MAM`, `JJA` or `SON`.
    pub fn season(&self) -> &'static str {
        match self.month {
            12 | 1 | 2 => "DJF",
            3..=5 => "MAM",
            6..=8 => "JJA",
            _ => "SON",
        }
    }

    /// The first instant after every time `"YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"`
    /// covers, for the end of a partial-string range.
    fn after(mut self, precision: usize) -> DateTime {
        match precision {
            1 => (self.year, self.month, self.day) = (self.year + 1, 1, 1),
            2 if self.month == 12 => (self.year, self.month, self.day) = (self.year + 1, 1, 1),
            2 => (self.month, self.day) = (self.month + 1, 1),
            // Days and finer: one past the last field given. Day 32 or
            // hour 24 compare correctly even where no such date exists.
            3 => (self.day, self.hour) = (self.day + 1, 0),
            4 => self.hour += 1,
            5 => self.minute += 1,
            _ => self.second += 1,
        }
        self
    }
}

/// Days from 0001-01-01 to a date's day, by the rules of `calendar`
/// (the standard calendar is Julian before 1582-10-15, Gregorian after).
pub fn day_number(calendar: Calendar, year: i32, month: u8, day: u8) -> i64 {
    const CUM: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let (y, m, d) = (year as i64, month.clamp(1, 12) as i64, day as i64);
    // Days before `y` in proleptic Gregorian or Julian rules, from year 1.
    let greg = |y: i64| {
        let p = y - 1;
        365 * p + p.div_euclid(4) - p.div_euclid(100) + p.div_euclid(400)
    };
    let jul = |y: i64| {
        let p = y - 1;
        365 * p + p.div_euclid(4) - 2
    };
    let leap_g = y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0);
    let leap_j = y.rem_euclid(4) == 0;
    let in_year = |leap: bool| CUM[(m - 1) as usize] + i64::from(leap && m > 2) + d - 1;
    match calendar {
        Calendar::ProlepticGregorian => greg(y) + in_year(leap_g),
        Calendar::Julian => jul(y) + in_year(leap_j),
        Calendar::Standard => {
            if (y, m, d) >= (1582, 10, 15) {
                greg(y) + in_year(leap_g)
            } else {
                jul(y) + in_year(leap_j)
            }
        }
        Calendar::NoLeap => 365 * (y - 1) + in_year(false),
        Calendar::AllLeap => 366 * (y - 1) + in_year(true),
        Calendar::Day360 => 360 * (y - 1) + 30 * (m - 1) + d - 1,
    }
}

/// The number of days of a month in a calendar.
pub fn month_length(calendar: Calendar, year: i32, month: u8) -> u8 {
    if calendar == Calendar::Day360 {
        return 30;
    }
    let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let this = day_number(calendar, year, month, 1);
    let first_next = day_number(calendar, next.0, next.1, 1);
    // The standard calendar's October 1582 has 21 days, but 31 numbered ones.
    if calendar == Calendar::Standard && (year, month) == (1582, 10) {
        return 31;
    }
    (first_next - this) as u8
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.nanosecond != 0 {
            write!(f, ".{:09}", self.nanosecond)?;
        }
        Ok(())
    }
}

/// The half-open range `[start, end)` of datetimes a partial date string
/// covers: `"2018"` is all of 2018, `"2018-06"` all of June 2018.
pub fn parse_partial(s: &str) -> Result<(DateTime, DateTime)> {
    let bad = || LabeledError::Label(format!("`{s}` is not a date like 2018, 2018-06, 2018-06-15 or 2018-06-15T12:00"));
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut fields: Vec<i64> = Vec::new();
    let (sign, date) = match date.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, date),
    };
    for (i, part) in date.split('-').enumerate() {
        let v: i64 = part.parse().map_err(|_| bad())?;
        fields.push(if i == 0 { sign * v } else { v });
    }
    if fields.len() > 3 {
        return Err(bad());
    }
    if let Some(t) = time {
        if fields.len() != 3 {
            return Err(bad());
        }
        for part in t.split(':') {
            fields.push(part.parse().map_err(|_| bad())?);
        }
    }
    if fields.is_empty() || fields.len() > 6 {
        return Err(bad());
    }
    let get = |i: usize, default: i64| fields.get(i).copied().unwrap_or(default);
    let (mo, d, h, mi, se) = (get(1, 1), get(2, 1), get(3, 0), get(4, 0), get(5, 0));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 || h < 0 || mi < 0 || se < 0 {
        return Err(bad());
    }
    let year = i32::try_from(get(0, 0)).map_err(|_| bad())?;
    let start = DateTime {
        year,
        month: mo as u8,
        day: d as u8,
        hour: h as u8,
        minute: mi as u8,
        second: se as u8,
        nanosecond: 0,
    };
    Ok((start, start.after(fields.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_strings_cover_their_period() {
        let (s, e) = parse_partial("2018").unwrap();
        assert_eq!((s, e), (DateTime::date(2018, 1, 1), DateTime::date(2019, 1, 1)));
        let (s, e) = parse_partial("2018-12").unwrap();
        assert_eq!((s, e), (DateTime::date(2018, 12, 1), DateTime::date(2019, 1, 1)));
        let (s, e) = parse_partial("1981-02-28").unwrap();
        assert_eq!(s, DateTime::date(1981, 2, 28));
        assert!(e > DateTime { hour: 23, minute: 59, ..s } && e < DateTime::date(1981, 3, 1));
        let (s, e) = parse_partial("2000-01-01T06").unwrap();
        assert_eq!(s.hour, 6);
        assert!(e > DateTime { minute: 59, ..s } && e < DateTime { hour: 7, minute: 1, ..s });
        assert_eq!(parse_partial("-0001").unwrap().0.year, -1);
        for bad in ["", "20x8", "2018-13", "2018-01-01T25", "2018-01T03", "1-2-3-4"] {
            let e = parse_partial(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn day_numbers_per_calendar() {
        let days = |c, y, m, d| day_number(c, y, m, d);
        assert_eq!(days(Calendar::ProlepticGregorian, 1, 1, 1), 0);
        assert_eq!(days(Calendar::ProlepticGregorian, 2000, 3, 1) - days(Calendar::ProlepticGregorian, 2000, 2, 28), 2);
        assert_eq!(days(Calendar::Standard, 1900, 3, 1) - days(Calendar::Standard, 1900, 2, 28), 1);
        // The Gregorian reform: 4 October 1582 is followed by 15 October.
        assert_eq!(days(Calendar::Standard, 1582, 10, 15) - days(Calendar::Standard, 1582, 10, 4), 1);
        assert_eq!(days(Calendar::Julian, 1900, 3, 1) - days(Calendar::Julian, 1900, 2, 28), 2);
        assert_eq!(days(Calendar::NoLeap, 2001, 1, 1) - days(Calendar::NoLeap, 2000, 1, 1), 365);
        assert_eq!(days(Calendar::AllLeap, 2001, 1, 1) - days(Calendar::AllLeap, 2000, 1, 1), 366);
        assert_eq!(days(Calendar::Day360, 2000, 2, 30) - days(Calendar::Day360, 2000, 1, 1), 59);
        // ERA5's time axis: hours since 1900-01-01.
        let hours = 24 * (days(Calendar::Standard, 1979, 1, 1) - days(Calendar::Standard, 1900, 1, 1));
        assert_eq!(hours, 692_496);
    }

    #[test]
    fn seasons_and_display() {
        let names: Vec<&str> = (1..=12).map(|m| DateTime::date(2000, m, 1).season()).collect();
        assert_eq!(names, ["DJF", "DJF", "MAM", "MAM", "MAM", "JJA", "JJA", "JJA", "SON", "SON", "SON", "DJF"]);
        let t = DateTime { nanosecond: 5, ..DateTime::date(1979, 2, 30) };
        assert_eq!(t.to_string(), "1979-02-30T00:00:00.000000005");
        assert_eq!(Calendar::Day360.name(), "360_day");
    }
}
