//! The tenant lifecycle: which status may follow which, and the record of each move.
//!
//! ```text
//! pending ─▶ provisioning ─▶ active ◀─▶ suspended
//!                 │             │          │
//!                 ▼             ▼          ▼
//!               failed ───▶ offboarding ─▶ offboarded
//!                 ▲             │
//!                 └─────────────┘
//! ```
//! A failed tenant may be onboarded again (`failed → provisioning`) or removed.

use tally_schemas::Timestamp;

use crate::error::{Error, Result};
use crate::model::{Status, Tenant};

/// Whether a tenant may move from `from` to `to`.
pub fn allows(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Pending, Provisioning)
            | (Provisioning, Active)
            | (Provisioning, Failed)
            | (Failed, Provisioning)
            | (Failed, Offboarding)
            | (Pending, Offboarding)
            | (Active, Suspended)
            | (Suspended, Active)
            | (Active, Offboarding)
            | (Suspended, Offboarding)
            | (Offboarding, Offboarded)
            | (Offboarding, Failed)
    )
}

/// Moves `tenant` to `to`, with `reason` (kept for `failed` and `suspended`), giving the next
/// version.
///
/// Fails with a conflict naming both statuses when the lifecycle does not allow the move.
pub fn transition(
    tenant: &Tenant,
    to: Status,
    reason: Option<String>,
    now: Timestamp,
) -> Result<Tenant> {
    if !allows(tenant.status, to) {
        return Err(Error::conflict(format!(
            "tenant {} is {}; it cannot become {to}",
            tenant.tenant_id, tenant.status
        )));
    }
    let mut next = tenant.clone();
    next.status = to;
    next.status_reason = match to {
        Status::Failed | Status::Suspended => reason,
        _ => None,
    };
    next.updated_at = now;
    next.version += 1;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 7] = [
        Status::Pending,
        Status::Provisioning,
        Status::Active,
        Status::Suspended,
        Status::Offboarding,
        Status::Offboarded,
        Status::Failed,
    ];

    #[test]
    fn offboarded_is_final_and_nothing_skips_provisioning() {
        for to in ALL {
            assert!(!allows(Status::Offboarded, to), "offboarded → {to}");
        }
        assert!(!allows(Status::Pending, Status::Active));
        assert!(!allows(Status::Failed, Status::Active));
        assert!(!allows(Status::Suspended, Status::Provisioning));
    }

    #[test]
    fn every_status_but_offboarded_can_reach_offboarded() {
        for from in ALL {
            if from == Status::Offboarded {
                continue;
            }
            // Breadth-first over the allowed moves.
            let mut seen = vec![from];
            let mut index = 0;
            while index < seen.len() {
                for to in ALL {
                    if allows(seen[index], to) && !seen.contains(&to) {
                        seen.push(to);
                    }
                }
                index += 1;
            }
            assert!(seen.contains(&Status::Offboarded), "stuck from {from}");
        }
    }
}
