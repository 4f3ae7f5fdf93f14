//! Dimension-cardinality guard, the way CloudWatch does it.
//!
//! CloudWatch Logs may disable a metric filter that produces more than 1,000 distinct dimension
//! name/value combinations within a short period (user guide, "Publishing dimensions with metrics from
//! values in JSON or space-delimited log events"). A high-cardinality field used as a dimension (a request
//! id, a user id) otherwise creates thousands of custom metrics, each billed. logrelay does the same per
//! filter: once a filter has produced [`MAX_DIMENSION_COMBINATIONS`] distinct combinations within
//! [`WINDOW_MS`], it is disabled for the rest of that window (its datapoints are dropped and an error is
//! logged once), then enabled again. The state lives in the warm Lambda instance, so the guard is per
//! instance.
//!
//! Windows follow the events' timestamps and only move forward: an event older than the current
//! window's start (a late or out-of-order event) counts in the current window; it neither starts a
//! new one nor enables a disabled filter again.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Distinct dimension combinations one filter may produce per window (CloudWatch's number).
pub const MAX_DIMENSION_COMBINATIONS: usize = 1000;
/// The window: CloudWatch says "a certain amount of time"; logrelay uses one hour.
pub const WINDOW_MS: i64 = 3_600_000;

/// The guard's decision for one datapoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Publish it.
    Yes,
    /// The filter is disabled; drop it.
    Disabled,
    /// This datapoint disabled the filter just now (log it).
    JustDisabled,
}

#[derive(Debug, Default)]
struct FilterState {
    window_start_ms: i64,
    seen: HashSet<u64>,
    disabled: bool,
}

/// Per-filter cardinality state.
#[derive(Debug, Default)]
pub struct CardinalityGuard {
    filters: Vec<FilterState>,
    limit: usize,
}

impl CardinalityGuard {
    /// A guard for `filters` filters with CloudWatch's limit.
    pub fn new(filters: usize) -> Self {
        Self::with_limit(filters, MAX_DIMENSION_COMBINATIONS)
    }

    /// A guard with a custom limit (tests).
    pub fn with_limit(filters: usize, limit: usize) -> Self {
        CardinalityGuard {
            filters: (0..filters).map(|_| FilterState::default()).collect(),
            limit,
        }
    }

    /// Decides whether filter `filter` may publish a datapoint with these dimension values at `now_ms`
    /// (the event's timestamp). A timestamp before the current window's start counts in the current
    /// window.
    pub fn admit<'a>(
        &mut self,
        filter: usize,
        values: impl Iterator<Item = &'a str>,
        now_ms: i64,
    ) -> Admit {
        let limit = self.limit;
        let Some(state) = self.filters.get_mut(filter) else {
            return Admit::Yes;
        };
        if now_ms.saturating_sub(state.window_start_ms) >= WINDOW_MS {
            state.window_start_ms = now_ms;
            state.seen.clear();
            state.disabled = false;
        }
        if state.disabled {
            return Admit::Disabled;
        }
        let mut h = DefaultHasher::new();
        for v in values {
            v.hash(&mut h);
        }
        let combo = h.finish();
        if state.seen.contains(&combo) {
            return Admit::Yes;
        }
        if state.seen.len() >= limit {
            state.disabled = true;
            state.seen.clear();
            return Admit::JustDisabled;
        }
        state.seen.insert(combo);
        Admit::Yes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disables_a_filter_past_the_limit_until_the_window_ends() {
        let mut g = CardinalityGuard::with_limit(2, 3);
        for i in 0..3 {
            let v = i.to_string();
            assert_eq!(g.admit(0, [v.as_str()].into_iter(), 0), Admit::Yes);
        }
        // Known combinations stay admitted; a fourth distinct one disables the filter.
        assert_eq!(g.admit(0, ["1"].into_iter(), 10), Admit::Yes);
        assert_eq!(g.admit(0, ["new"].into_iter(), 10), Admit::JustDisabled);
        assert_eq!(g.admit(0, ["1"].into_iter(), 20), Admit::Disabled);
        // Other filters are unaffected.
        assert_eq!(g.admit(1, ["x"].into_iter(), 20), Admit::Yes);
        // A new window enables it again.
        assert_eq!(g.admit(0, ["1"].into_iter(), WINDOW_MS + 1), Admit::Yes);
    }

    #[test]
    fn an_older_event_neither_starts_a_window_nor_enables_the_filter() {
        let start = 10 * WINDOW_MS;
        let mut g = CardinalityGuard::with_limit(1, 2);
        assert_eq!(g.admit(0, ["a"].into_iter(), start), Admit::Yes);
        assert_eq!(g.admit(0, ["b"].into_iter(), start + 5), Admit::Yes);
        // An event from before the window counts in it: a third combination disables the filter.
        assert_eq!(
            g.admit(0, ["c"].into_iter(), start - 1),
            Admit::JustDisabled
        );
        // Late events, a minute or a day old, leave it disabled.
        assert_eq!(
            g.admit(0, ["a"].into_iter(), start - 60_000),
            Admit::Disabled
        );
        assert_eq!(
            g.admit(0, ["a"].into_iter(), start - 24 * WINDOW_MS),
            Admit::Disabled
        );
        assert_eq!(g.admit(0, ["a"].into_iter(), start + 10), Admit::Disabled);
        // The window ends one hour after its start, not after the late event.
        assert_eq!(
            g.admit(0, ["a"].into_iter(), start + WINDOW_MS - 1),
            Admit::Disabled
        );
        assert_eq!(g.admit(0, ["a"].into_iter(), start + WINDOW_MS), Admit::Yes);
    }

    #[test]
    fn cloudwatch_limit_is_1000() {
        let mut g = CardinalityGuard::new(1);
        for i in 0..MAX_DIMENSION_COMBINATIONS {
            let v = i.to_string();
            assert_eq!(g.admit(0, [v.as_str()].into_iter(), 0), Admit::Yes);
        }
        assert_eq!(g.admit(0, ["one more"].into_iter(), 0), Admit::JustDisabled);
    }
}
