//! When encoded lines arrive: most on the day they happened, some days late, some twice in a
//! row, some re-sent days later, with bad lines scattered among them.
//!
//! Only lines that carry an id are repeated: a repeat of a line without one is, by contract,
//! new usage, and would make the sample's "duplicates" count twice.

use tally_schemas::RejectReason;

use crate::encode::Encoded;
use crate::rng::Rng;
use crate::{BadLine, PlanStats};

/// Events arriving 1 to [`MAX_LATE_DAYS`] days after they happened, per thousand.
const LATE_PER_MILLE: u64 = 20;
/// The most days an event arrives late.
const MAX_LATE_DAYS: u32 = 5;
/// Events with an id sent twice in a row (a producer retry), per thousand.
const ADJACENT_DUPLICATE_PER_MILLE: u64 = 10;
/// Events with an id re-sent in a later run, per thousand.
const RESENT_PER_MILLE: u64 = 5;
/// The most days after its arrival an event is re-sent.
const MAX_RESEND_DAYS: u32 = 3;

/// One line waiting for its run.
struct Entry {
    line: String,
    /// Whether the line is sent a second time right after itself.
    repeated: bool,
    /// The reason the line is refused, for intended bad lines.
    bad: Option<RejectReason>,
}

/// The lines of the month, run by run.
pub(crate) struct Arrivals {
    days: u32,
    /// The lines of the current day that arrive on time, in time order.
    on_time: Vec<Entry>,
    /// Lines arriving in a later run (late events and re-sends), by the day of that run.
    later: Vec<Vec<Entry>>,
    stats: PlanStats,
}

/// A finished run: its lines and where its intended bad lines are.
pub(crate) struct RunLines {
    pub(crate) lines: Vec<String>,
    pub(crate) bad_lines: Vec<BadLine>,
}

impl Arrivals {
    /// The arrivals of a month of `days` days.
    pub(crate) fn new(days: u32) -> Arrivals {
        Arrivals {
            days,
            on_time: Vec::new(),
            later: (0..days).map(|_| Vec::new()).collect(),
            stats: PlanStats::default(),
        }
    }

    /// Schedules an event that happened on `day`; `rng` decides whether it is late, repeated
    /// or re-sent.
    pub(crate) fn admit(&mut self, day: u32, encoded: Encoded, rng: &mut Rng) {
        let days_left = self.days - 1 - day;
        let arrival = if days_left > 0 && rng.per_mille(LATE_PER_MILLE) {
            self.stats.late += 1;
            day + rng.between(1, u64::from(days_left.min(MAX_LATE_DAYS))) as u32
        } else {
            day
        };
        let repeated = encoded.has_identity && rng.per_mille(ADJACENT_DUPLICATE_PER_MILLE);
        let days_after_arrival = self.days - 1 - arrival;
        if encoded.has_identity && days_after_arrival > 0 && rng.per_mille(RESENT_PER_MILLE) {
            let delay = rng.between(1, u64::from(days_after_arrival.min(MAX_RESEND_DAYS)));
            self.later[(arrival + delay as u32) as usize].push(Entry {
                line: encoded.line.clone(),
                repeated: false,
                bad: None,
            });
            self.stats.resent_duplicates += 1;
        }
        let entry = Entry {
            line: encoded.line,
            repeated,
            bad: None,
        };
        if arrival == day {
            self.on_time.push(entry);
        } else {
            self.later[arrival as usize].push(entry);
        }
    }

    /// How many good lines (before repeats) run `day` holds so far.
    pub(crate) fn good_count(&self, day: u32) -> usize {
        self.on_time.len() + self.later[day as usize].len()
    }

    /// Closes run `day`: its on-time lines in time order, with the late lines, re-sends and
    /// `bad` lines scattered among them.
    pub(crate) fn close_day(
        &mut self,
        day: u32,
        bad: Vec<(String, RejectReason)>,
        rng: &mut Rng,
    ) -> RunLines {
        let on_time = std::mem::take(&mut self.on_time);
        let mut scattered: Vec<(u64, Entry)> = std::mem::take(&mut self.later[day as usize])
            .into_iter()
            .chain(bad.into_iter().map(|(line, reason)| Entry {
                line,
                repeated: false,
                bad: Some(reason),
            }))
            .map(|entry| (rng.below(on_time.len() as u64 + 1), entry))
            .collect();
        // Stable, so entries drawn for the same slot keep their order.
        scattered.sort_by_key(|(slot, _)| *slot);
        let mut scattered = scattered.into_iter().peekable();
        let mut run = RunLines {
            lines: Vec::new(),
            bad_lines: Vec::new(),
        };
        for (slot, entry) in on_time.into_iter().enumerate() {
            while let Some((_, extra)) = scattered.next_if(|(at, _)| *at == slot as u64) {
                self.emit(extra, &mut run);
            }
            self.emit(entry, &mut run);
        }
        for (_, extra) in scattered {
            self.emit(extra, &mut run);
        }
        run
    }

    fn emit(&mut self, entry: Entry, run: &mut RunLines) {
        if let Some(reason) = entry.bad {
            run.bad_lines.push(BadLine {
                index: run.lines.len(),
                reason,
            });
            self.stats.bad_lines += 1;
        }
        if entry.repeated {
            run.lines.push(entry.line.clone());
            self.stats.adjacent_duplicates += 1;
        }
        run.lines.push(entry.line);
        self.stats.lines += 1 + usize::from(entry.repeated);
    }

    /// What the month holds, once every day is closed.
    pub(crate) fn finish(self) -> PlanStats {
        assert!(self.on_time.is_empty(), "every day is closed");
        assert!(
            self.later.iter().all(Vec::is_empty),
            "no line is scheduled past the end of the month"
        );
        self.stats
    }
}
