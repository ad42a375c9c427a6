//! When things are due, in the home's local time. Pure: no clock, no store.
//!
//! A daily check-in set for 01:30 must happen exactly once a day, also on the days the clocks
//! change. In a spring-forward gap (01:30 does not exist in London on 2026-03-29) it happens
//! at the first moment that does exist after it; in the autumn overlap (01:30 happens twice
//! on 2026-10-25) it happens at the first. The runtime adds the other half of "exactly once":
//! each occurrence has a key (`checkin.<person>.<local date>`) the store accepts once.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant `time` on local `date` in `tz`, resolving gaps and overlaps as above.
pub fn instant(date: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let local = date.and_time(time);
    // Gaps are at most a few hours anywhere; step forward through one in quarter hours.
    (0..=16).find_map(|i| {
        tz.from_local_datetime(&(local + Duration::minutes(15 * i)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// Local dates whose `time` falls in `(after, until]`, with the instant each happens.
pub fn occurrences(
    time: NaiveTime,
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(NaiveDate, DateTime<Utc>)> {
    if until <= after {
        return Vec::new();
    }
    let first = after
        .with_timezone(&tz)
        .date_naive()
        .pred_opt()
        .unwrap_or(NaiveDate::MIN);
    let last = until
        .with_timezone(&tz)
        .date_naive()
        .succ_opt()
        .unwrap_or(NaiveDate::MAX);
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|d| instant(d, time, tz).map(|t| (d, t)))
        .filter(|(_, t)| *t > after && *t <= until)
        .collect()
}

/// The home's local date at `now`.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid")
    }

    fn half_one() -> NaiveTime {
        NaiveTime::from_hms_opt(1, 30, 0).expect("valid")
    }

    /// Every occurrence over the 24 hours from `day_start`, ticking once a minute as the runtime
    /// might.
    fn fired_by_minute_ticks(day_start: DateTime<Utc>) -> Vec<(NaiveDate, DateTime<Utc>)> {
        let mut fired = Vec::new();
        let mut t = day_start;
        while t < day_start + Duration::hours(24) {
            fired.extend(occurrences(half_one(), London, t, t + Duration::minutes(1)));
            t += Duration::minutes(1);
        }
        fired
    }

    #[test]
    fn a_01_30_check_in_fires_once_on_the_spring_forward_day() {
        let fired = fired_by_minute_ticks(utc(2026, 3, 28, 23, 0));
        let dates: Vec<_> = fired.iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(dates, ["2026-03-29"], "once, not zero times");
        // 01:30 GMT does not exist; 02:00 BST (01:00 UTC) is the first moment after it.
        assert_eq!(fired[0].1, utc(2026, 3, 29, 1, 0));
    }

    #[test]
    fn a_01_30_check_in_fires_once_on_the_fall_back_day() {
        let fired = fired_by_minute_ticks(utc(2026, 10, 24, 23, 0));
        let dates: Vec<_> = fired.iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(dates, ["2026-10-25"], "once, not twice");
        // 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT): the first counts.
        assert_eq!(fired[0].1, utc(2026, 10, 25, 0, 30));
    }

    #[test]
    fn a_long_gap_between_ticks_finds_each_day_once() {
        let fired = occurrences(
            half_one(),
            London,
            utc(2026, 11, 20, 12, 0),
            utc(2026, 11, 23, 12, 0),
        );
        let dates: Vec<_> = fired.iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(dates, ["2026-11-21", "2026-11-22", "2026-11-23"]);
    }

    #[test]
    fn a_clock_stepping_backwards_fires_nothing() {
        assert!(occurrences(
            half_one(),
            London,
            utc(2026, 11, 23, 12, 0),
            utc(2026, 11, 23, 11, 0)
        )
        .is_empty());
    }
}
