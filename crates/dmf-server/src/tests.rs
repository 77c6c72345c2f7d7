//! Unit tests of rate limits, the API description and error answers.

fn assert_send_sync<T: Send + Sync>() {}

mod ratelimit {
    use std::time::{Duration, Instant};

    use super::assert_send_sync;
    use crate::ratelimit::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn shareable_between_threads() {
        assert_send_sync::<RateLimiter>();
    }

    #[test]
    fn burst_then_refused_then_refilled() {
        let limiter = RateLimiter::new(10, 5);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check(1, 1, t0), Ok(()));
        }
        // One token refills every 100 ms.
        assert_eq!(limiter.check(1, 1, t0), Err(100 * MS));
        assert_eq!(limiter.check(1, 1, t0 + 40 * MS), Err(60 * MS));
        assert_eq!(limiter.check(1, 1, t0 + 100 * MS), Ok(()));
        assert_eq!(limiter.check(1, 1, t0 + 100 * MS), Err(100 * MS));
        // Waiting exactly as told is enough.
        let later = t0 + 100 * MS + 100 * MS;
        assert_eq!(limiter.check(1, 1, later), Ok(()));
        // A long pause refills to the burst, no further.
        let rested = later + Duration::from_secs(60);
        assert_eq!(limiter.check(1, 5, rested), Ok(()));
        assert_eq!(limiter.check(1, 1, rested), Err(100 * MS));
    }

    #[test]
    fn costs_are_taken_and_retry_covers_the_shortfall() {
        // (per_second, burst, costs taken at t0, next cost, expected result at t0)
        type Case = (u32, u32, &'static [u32], u32, Result<(), Duration>);
        let cases: [Case; 6] = [
            (10, 5, &[3], 2, Ok(())),
            (10, 5, &[3], 3, Err(100 * MS)),
            (10, 5, &[5], 5, Err(500 * MS)),
            (1, 3, &[1, 1], 2, Err(Duration::from_secs(1))),
            (1000, 1000, &[1000], 1, Err(MS)),
            (3, 3, &[3], 1, Err(Duration::from_nanos(333_333_333))),
        ];
        for (per_second, burst, taken, next, want) in cases {
            let limiter = RateLimiter::new(per_second, burst);
            let t0 = Instant::now();
            for &cost in taken {
                assert_eq!(limiter.check(1, cost, t0), Ok(()));
            }
            let got = limiter.check(1, next, t0);
            assert_eq!(
                got, want,
                "{per_second}/s burst {burst} {taken:?} then {next}"
            );
            if let Err(wait) = got {
                assert_eq!(limiter.check(1, next, t0 + wait), Ok(()));
            }
        }
    }

    #[test]
    fn keys_are_independent() {
        let limiter = RateLimiter::new(1, 2);
        let t0 = Instant::now();
        // Ids that share a shard, and negative ones, still get their own buckets.
        for id in [1, 17, 33, -1] {
            assert_eq!(limiter.check(id, 2, t0), Ok(()), "{id}");
            assert!(limiter.check(id, 1, t0).is_err(), "{id}");
        }
        assert_eq!(limiter.check(2, 2, t0), Ok(()));
    }

    #[test]
    fn impossible_requests_are_refused_for_good() {
        let t0 = Instant::now();
        let cases = [(10, 5, 6), (10, 0, 1), (0, 5, 1)];
        for (per_second, burst, cost) in cases {
            let limiter = RateLimiter::new(per_second, burst);
            let got = limiter.try_take(1, cost, t0);
            assert_eq!(got, Err(RateLimitError::TooCostly { cost, burst }));
            assert_eq!(limiter.check(1, cost, t0), Err(Duration::MAX));
            let later = t0 + Duration::from_secs(3600);
            assert_eq!(limiter.check(1, cost, later), Err(Duration::MAX));
        }
        // A refused oversize request takes nothing.
        let limiter = RateLimiter::new(10, 5);
        assert!(limiter.check(1, 6, t0).is_err());
        assert_eq!(limiter.check(1, 5, t0), Ok(()));
    }

    #[test]
    fn free_requests_and_clock_going_backwards() {
        let limiter = RateLimiter::new(10, 2);
        let t1 = Instant::now() + Duration::from_secs(1);
        assert_eq!(limiter.check(1, 2, t1), Ok(()));
        assert_eq!(limiter.check(1, 0, t1), Ok(()));
        // An earlier instant (another thread's) gains no tokens and loses none.
        let earlier = t1 - Duration::from_millis(500);
        assert_eq!(
            limiter.check(1, 1, earlier),
            Err(Duration::from_millis(600))
        );
        assert_eq!(limiter.check(1, 1, t1 + 100 * MS), Ok(()));
    }

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_daily_allowance_is_taken_whole_or_not_at_all_and_renews_at_midnight() {
        // (taken before, asked, what happens)
        let cases: [(&[u64], u64, Result<(), u64>); 5] = [
            (&[], 10, Ok(())),
            (&[], 11, Err(10)),
            (&[4], 7, Err(6)),
            (&[4, 6], 1, Err(0)),
            (&[4, 5], 1, Ok(())),
        ];
        let noon = 20_000 * DAY + DAY / 2;
        for (before, asked, want) in cases {
            let q = DailyQuotas::default();
            for &n in before {
                q.take(7, 10, n, noon).unwrap();
            }
            let got = q.take(7, 10, asked, noon).map_err(|e| e.left);
            assert_eq!(got, want, "{before:?} then {asked}");
            // A refusal takes nothing.
            if want.is_err() {
                let left = 10 - before.iter().sum::<u64>();
                assert_eq!(q.left(7, 10, noon), left);
            }
        }
        let q = DailyQuotas::default();
        q.take(7, 10, 10, noon).unwrap();
        let e = q.take(7, 10, 1, noon).unwrap_err();
        assert_eq!(e.retry_after, Duration::from_millis((DAY / 2) as u64));
        // Another key has its own; the next UTC day starts whole.
        assert_eq!(q.take(8, 10, 10, noon), Ok(()));
        assert_eq!(q.left(7, 10, 20_001 * DAY), 10);
        assert_eq!(q.take(7, 10, 10, 20_001 * DAY), Ok(()));
    }
}

mod openapi {
    use serde_json::Value;

    /// The four correction steps added to the route table had no `id` parameter in the
    /// description, which an outside client generator (and schemathesis) refuses. Every
    /// `{name}` of every path is now a path parameter of each of its operations.
    #[test]
    fn a_route_had_a_path_parameter_the_description_left_out() {
        let doc = crate::openapi::document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let wanted: Vec<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(name, _)| name))
                .collect();
            for (method, op) in item.as_object().unwrap() {
                let given: Vec<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                for name in &wanted {
                    assert!(
                        given.contains(name),
                        "{method} {path}: no parameter {name:?}"
                    );
                }
            }
        }
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// Every reference names a schema of the document, every body says what it is taken in,
    /// and every route has one success.
    #[test]
    fn the_description_holds_together() {
        let doc = crate::openapi::document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} names no schema"
            );
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(body) = op.get("requestBody") {
                    assert!(
                        !body["content"].as_object().unwrap().is_empty(),
                        "{method} {path}"
                    );
                }
                let successes: Vec<&String> = op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|s| s.starts_with('2'))
                    .collect();
                assert!(!successes.is_empty(), "{method} {path}");
                for s in successes {
                    assert_eq!(
                        op["responses"][s]["content"].as_object().unwrap().len(),
                        1,
                        "{method} {path} {s}"
                    );
                }
            }
        }
    }
}

mod errors {
    use crate::error::{ApiError, Code};

    /// A 5xx answer carried the internal error's text to the client (a file path, a database's
    /// words): now it carries an incident number, and the log has the detail.
    #[test]
    fn a_5xx_answer_sent_the_internal_text_to_the_client() {
        let detail = "cannot write /srv/dmf/accounting.sqlite: disk I/O error";
        let e = ApiError::internal(detail);
        assert_eq!(e.code, Code::Internal);
        let body = e.body().to_string();
        assert!(!body.contains("accounting.sqlite"), "{body}");
        assert!(!body.contains("disk I/O"), "{body}");
        let message = e.body()["error"]["message"].as_str().unwrap().to_owned();
        let incident = message
            .strip_prefix("internal error (incident ")
            .and_then(|m| m.split_once(')'))
            .map(|(n, _)| n)
            .unwrap_or_else(|| panic!("{message}"));
        assert!(
            incident.len() == 8 && incident.bytes().all(|b| b.is_ascii_hexdigit()),
            "{message}"
        );
        // Two failures are told apart.
        assert_ne!(ApiError::internal(detail).message, e.message);
    }
}

/// WCAG's contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> f64 {
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// The first colour (`#rgb` or `#rrggbb`, as `#rrggbb`) after `property:` in the rule whose selector starts `selector {` or
/// `selector,`.
fn colour_of(css: &str, selector: &str, property: &str) -> String {
    let rule = css
        .lines()
        .find(|l| {
            l.starts_with(&format!("{selector} {{")) || l.starts_with(&format!("{selector},"))
        })
        .unwrap_or_else(|| panic!("no rule for {selector}"));
    let after = &rule[rule
        .find(property)
        .unwrap_or_else(|| panic!("{selector}: no {property}"))..];
    let at = after.find('#').unwrap() + 1;
    let digits: String = after[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    match digits.len() {
        // `#fff` is `#ffffff`.
        3 => format!(
            "#{}",
            digits.chars().flat_map(|c| [c, c]).collect::<String>()
        ),
        6 => format!("#{digits}"),
        _ => panic!("{selector}: {property} {digits}"),
    }
}

/// The console's focus ring was orange on white, 2.06:1, where WCAG asks 3:1 for what shows
/// where the keyboard is; the header's links sit on dark blue, so theirs is checked there.
#[test]
fn the_focus_ring_had_too_little_contrast() {
    let css = include_str!("console/style.css");
    let page = colour_of(css, "body", "background:");
    let header = colour_of(css, "header", "background:");
    let check = |ring: &str, on: &str, what: &str| {
        let ratio = contrast(ring, on);
        assert!(ratio >= 3.0, "{what}: {ring} on {on} is {ratio:.2}:1");
    };
    check(&colour_of(css, "a:focus", "outline:"), &page, "on the page");
    check(
        &colour_of(css, "header a:focus", "outline-color:"),
        &header,
        "in the header",
    );
    // The formula itself, on WCAG's own extremes and the old ring.
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((contrast("#f4a261", "#ffffff") - 2.06).abs() < 0.01);
}
