//! What time it is: one clock that commands, the server and the tests share. Deadlines, "the period
//! has not begun yet", session expiry and receipt times all read it, so a test that fixes it gives
//! the same answer on any day.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// The environment variable that fixes the clock of a `pbgdpl` process: an RFC 3339 instant
/// (`2026-06-05T10:00:00+07:00`) or a date (`2026-06-05`, noon in Vietnam).
pub const CLOCK_ENV: &str = "PBGDPL_NOW";

/// The system clock, or a fixed instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The real time.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// Always `at`.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(at) }
    }

    /// Noon in Vietnam on `date`, always.
    pub fn on(date: NaiveDate) -> Clock {
        Clock::fixed(date.and_hms_opt(5, 0, 0).unwrap_or_default().and_utc())
    }

    /// The clock `PBGDPL_NOW` asks for, else the system clock.
    pub fn from_env() -> Result<Clock, String> {
        match std::env::var(CLOCK_ENV) {
            Ok(text) if !text.trim().is_empty() => Clock::parse(text.trim())
                .ok_or_else(|| format!("{CLOCK_ENV}=`{text}` is not an RFC 3339 instant or a YYYY-MM-DD date")),
            _ => Ok(Clock::system()),
        }
    }

    fn parse(text: &str) -> Option<Clock> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Clock::fixed(t.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(Clock::on)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    /// Today's date in Vietnam (UTC+7), where deadlines are kept.
    pub fn today(&self) -> NaiveDate {
        vietnam_date(self.now())
    }
}

/// Vietnam's offset: UTC+7 all year (no daylight saving).
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The calendar date in Vietnam of an instant.
pub fn vietnam_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vietnam()).date_naive()
}

/// The Vietnamese calendar date a stored RFC 3339 instant falls on (deadlines are local dates), or
/// the date its first ten characters give when it is not one. Parsed once, with no text between:
/// completeness reads every stored version of a period this way on every request.
pub fn local_day(rfc3339: &str) -> Option<NaiveDate> {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => Some(vietnam_date(t.with_timezone(&Utc))),
        Err(_) => NaiveDate::parse_from_str(rfc3339.get(..10)?, "%Y-%m-%d").ok(),
    }
}

/// [`local_day`] as text (`YYYY-MM-DD`); text that is not a date keeps its first ten characters.
pub fn local_date(rfc3339: &str) -> String {
    local_day(rfc3339).map_or_else(
        || rfc3339.get(..10).unwrap_or_default().to_owned(),
        |d| d.format("%Y-%m-%d").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_and_a_date_means_noon_in_vietnam() {
        let c = Clock::parse("2030-01-02").unwrap();
        assert_eq!(c.now(), c.now());
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2030, 1, 2).unwrap());
        let late_evening = Clock::parse("2026-06-20T23:30:00+07:00").unwrap();
        assert_eq!(late_evening.today(), NaiveDate::from_ymd_opt(2026, 6, 20).unwrap());
        assert_eq!(local_date("2026-06-20T17:30:00Z"), "2026-06-21");
        assert!(Clock::parse("tomorrow").is_none());
    }
}
