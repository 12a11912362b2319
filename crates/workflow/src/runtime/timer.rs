//! When a `simpleTimer` fires: once, every interval, or on a weekly schedule read in a
//! time zone.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use serde_json::Value as Json;

/// A timer's settings, parsed.
#[derive(Debug, Clone)]
pub enum TimerPlan {
    /// At this moment (epoch seconds); never again.
    Once {
        /// When to fire, in epoch seconds (`executionEpochSecond`).
        at: i64,
    },
    /// Every `every_seconds`, starting one interval after the flow is enabled.
    Interval {
        /// The interval in seconds, at least 1.
        every_seconds: i64,
        /// No firing after this moment, in epoch seconds (`expirationEpochSecond`); `None`
        /// for never.
        expires: Option<i64>,
    },
    /// At each rule's time on its days, in `zone`.
    Schedule {
        /// The time zone the rules' times are read in (`timezone`, UTC by default).
        zone: TimeZone,
        /// When to fire; the timer fires at the earliest next time of any rule.
        rules: Vec<Rule>,
        /// No firing after this moment, in epoch seconds (`expirationEpochSecond`); `None`
        /// for never.
        expires: Option<i64>,
    },
}

/// One time of day of a weekly schedule, and the days it applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 0 to 23, in the schedule's zone.
    pub hour: i8,
    /// 0 to 59.
    pub minute: i8,
    /// Empty: every day.
    pub days: Vec<Weekday>,
}

fn days_of(name: &str) -> Vec<Weekday> {
    use Weekday::*;
    match name {
        "MONDAY" => vec![Monday],
        "TUESDAY" => vec![Tuesday],
        "WEDNESDAY" => vec![Wednesday],
        "THURSDAY" => vec![Thursday],
        "FRIDAY" => vec![Friday],
        "SATURDAY" => vec![Saturday],
        "SUNDAY" => vec![Sunday],
        "WEEKDAY" => vec![Monday, Tuesday, Wednesday, Thursday, Friday],
        "WEEKEND" => vec![Saturday, Sunday],
        _ => Vec::new(), // EVERYDAY
    }
}

fn integer(v: &Json) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

impl TimerPlan {
    /// Reads `timerSettings` (already validated against the component's schema). An
    /// unknown time zone is `None`: such a timer cannot run.
    pub fn parse(settings: &Json) -> Option<Self> {
        let expires = integer(&settings["expirationEpochSecond"]);
        Some(match settings["type"].as_str()? {
            "ONCE" => Self::Once {
                at: integer(&settings["executionEpochSecond"])?,
            },
            "INTERVAL" => {
                let n = integer(&settings["intervalTime"])?;
                let unit = match settings["intervalTimeUnit"].as_str()? {
                    "SECONDS" => 1,
                    "MINUTES" => 60,
                    "HOURS" => 3600,
                    _ => 86_400,
                };
                Self::Interval {
                    every_seconds: n.checked_mul(unit)?.max(1),
                    expires,
                }
            }
            _ => {
                let zone = settings["timezone"].as_str().unwrap_or("UTC");
                let zone = TimeZone::get(zone).ok()?;
                let rules = settings["rules"]
                    .as_array()?
                    .iter()
                    .map(|r| {
                        let hour = integer(&r["hour"]).unwrap_or(0).clamp(0, 23) as i8;
                        let minute = integer(&r["minute"]).unwrap_or(0).clamp(0, 59) as i8;
                        let mut days: Vec<Weekday> = r["daysOfWeek"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Json::as_str)
                            .flat_map(days_of)
                            .collect();
                        if r["daysOfWeek"]
                            .as_array()
                            .is_some_and(|d| d.iter().any(|d| d == "EVERYDAY"))
                        {
                            days.clear();
                        }
                        Rule { hour, minute, days }
                    })
                    .collect();
                Self::Schedule {
                    zone,
                    rules,
                    expires,
                }
            }
        })
    }

    /// The next firing strictly after `after_ms` (epoch milliseconds), in epoch
    /// milliseconds; `None` when the timer will not fire again.
    pub fn next_after(&self, after_ms: i64, enabled_at_ms: i64) -> Option<i64> {
        let (next, expires) = match self {
            Self::Once { at } => {
                let at = at.checked_mul(1000)?;
                return (at > after_ms).then_some(at);
            }
            Self::Interval {
                every_seconds,
                expires,
            } => {
                let every = every_seconds * 1000;
                let since = (after_ms - enabled_at_ms).max(0);
                (enabled_at_ms + (since / every + 1) * every, *expires)
            }
            Self::Schedule {
                zone,
                rules,
                expires,
            } => (next_scheduled(zone, rules, after_ms)?, *expires),
        };
        match expires {
            Some(e) if next > e.saturating_mul(1000) => None,
            _ => Some(next),
        }
    }
}

fn next_scheduled(zone: &TimeZone, rules: &[Rule], after_ms: i64) -> Option<i64> {
    let now = Timestamp::from_millisecond(after_ms)
        .ok()?
        .to_zoned(zone.clone());
    let today = now.date();
    let mut best: Option<Zoned> = None;
    // Eight days ahead covers every weekly rule, today's later times included.
    for offset in 0..8 {
        let day = today.checked_add(offset.days()).ok()?;
        for rule in rules {
            if !rule.days.is_empty() && !rule.days.contains(&day.weekday()) {
                continue;
            }
            let Ok(time) = Time::new(rule.hour, rule.minute, 0, 0) else {
                continue;
            };
            let Ok(at) = day.to_datetime(time).to_zoned(zone.clone()) else {
                continue;
            };
            if at.timestamp() > now.timestamp() && best.as_ref().is_none_or(|b| at < *b) {
                best = Some(at);
            }
        }
        if best.is_some() {
            break;
        }
    }
    best.map(|b| b.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // 2026-11-23 is a Monday. 10:00:00 UTC.
    const MONDAY_10H: i64 = 1_795_428_000_000;

    #[test]
    fn once_fires_at_its_moment_only() {
        let p = TimerPlan::parse(&json!({"type": "ONCE", "executionEpochSecond": 2_000_000_000}))
            .unwrap();
        assert_eq!(p.next_after(0, 0), Some(2_000_000_000_000));
        assert_eq!(p.next_after(2_000_000_000_000, 0), None);
    }

    #[test]
    fn interval_counts_from_enabling_and_stops_at_expiry() {
        let p = TimerPlan::parse(&json!({"type": "INTERVAL", "intervalTime": "5",
            "intervalTimeUnit": "SECONDS", "expirationEpochSecond": 100}))
        .unwrap();
        assert_eq!(p.next_after(0, 0), Some(5_000));
        assert_eq!(p.next_after(5_000, 0), Some(10_000));
        assert_eq!(p.next_after(7_300, 1_000), Some(11_000));
        assert_eq!(p.next_after(100_000, 0), None);
    }

    #[test]
    fn schedule_picks_the_next_rule_on_its_days_in_its_zone() {
        assert_eq!(
            Timestamp::from_millisecond(MONDAY_10H)
                .unwrap()
                .to_zoned(TimeZone::UTC)
                .weekday(),
            Weekday::Monday
        );
        let p = TimerPlan::parse(&json!({"type": "SCHEDULE", "timezone": "Europe/Paris",
            "rules": [{"hour": 9, "minute": 30, "daysOfWeek": ["WEEKEND"]},
                      {"hour": 12, "minute": 0, "daysOfWeek": ["MONDAY"]}]}))
        .unwrap();
        // Monday 12:00 in Paris (UTC+1 in November) is 11:00 UTC, one hour later.
        assert_eq!(p.next_after(MONDAY_10H, 0), Some(MONDAY_10H + 3_600_000));
        // After that: Saturday 09:30 Paris = 08:30 UTC, five days later.
        let after = MONDAY_10H + 3_600_000;
        assert_eq!(
            p.next_after(after, 0),
            Some(MONDAY_10H + 5 * 86_400_000 - 5_400_000)
        );
        assert!(
            TimerPlan::parse(&json!({"type": "SCHEDULE", "timezone": "Mars/Base",
            "rules": [{"hour": 1}]}))
            .is_none()
        );
    }
}
