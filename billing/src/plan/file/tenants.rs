//! Tenant plan assignments in a plan file: each names a valid tenant and a defined plan, and
//! one tenant's assignments never overlap, so at any instant a tenant is on at most one plan.

use std::collections::BTreeMap;
use std::ops::Range;

use tally_schemas::TenantId;

use super::{ASSIGNMENT_KEYS, Reader, Value};
use crate::error::{PlanProblem, Result};
use crate::limits::MAX_TENANT_ASSIGNMENTS;
use crate::plan::{PricePlan, TenantPlan};

impl Reader<'_> {
    /// The `[[tenants]]` array, checked against `plans`.
    pub(super) fn assignments(
        &self,
        value: &Value<'_>,
        plans: &BTreeMap<String, PricePlan>,
    ) -> Result<Vec<TenantPlan>> {
        let array = self.array(value, "tenants")?;
        if array.len() > MAX_TENANT_ASSIGNMENTS {
            return Err(self.too_many(
                value,
                "tenants",
                "tenant assignments",
                MAX_TENANT_ASSIGNMENTS,
            ));
        }
        let mut assignments = Vec::with_capacity(array.len());
        for (index, item) in array.iter().enumerate() {
            assignments.push(self.assignment(item, index + 1, plans)?);
        }
        self.check_no_overlap(&assignments)?;
        Ok(assignments.into_iter().map(|entry| entry.plan).collect())
    }

    fn assignment(
        &self,
        item: &Value<'_>,
        number: usize,
        plans: &BTreeMap<String, PricePlan>,
    ) -> Result<Assignment> {
        let numbered_path = format!("tenant assignment {number}");
        let table = self.table(item, &numbered_path)?;
        let mut fields = self.fields(table, item.span(), &numbered_path, ASSIGNMENT_KEYS)?;
        let tenant_value = self.required(&fields, "tenant_id")?;
        let tenant_id = self.string(tenant_value, &fields.field("tenant_id"))?;
        if let Err(invalid) = TenantId::parse(tenant_id) {
            let reason = invalid.to_string();
            let problem = PlanProblem::BadTenantId { reason };
            return Err(self.invalid(tenant_value.span(), &fields.field("tenant_id"), problem));
        }
        fields.path = format!("tenant {tenant_id:?}");
        let plan_value = self.required(&fields, "plan")?;
        let plan = self.string(plan_value, &fields.field("plan"))?;
        if !plans.contains_key(plan) {
            let known: Vec<&str> = plans.keys().map(String::as_str).collect();
            let problem = PlanProblem::UnknownPlan {
                plan: plan.to_owned(),
                known: known.join(", "),
            };
            return Err(self.invalid(plan_value.span(), &fields.field("plan"), problem));
        }
        let from_value = self.required(&fields, "from")?;
        let from = self.timestamp(from_value, &fields.field("from"))?;
        let until = match fields.get("until") {
            Some(value) => {
                let until = self.timestamp(value, &fields.field("until"))?;
                if until <= from {
                    let problem = PlanProblem::EmptyAssignment { from, until };
                    return Err(self.invalid(value.span(), &fields.field("until"), problem));
                }
                Some(until)
            }
            None => None,
        };
        let plan = TenantPlan {
            tenant_id: tenant_id.to_owned(),
            plan: plan.to_owned(),
            from,
            until,
        };
        Ok(Assignment {
            plan,
            from_span: from_value.span(),
        })
    }

    /// Refuses two assignments of one tenant that share an instant, reporting the one written
    /// later in the file at the line of its `from`.
    fn check_no_overlap(&self, assignments: &[Assignment]) -> Result<()> {
        let mut by_tenant: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
        for entry in assignments {
            by_tenant
                .entry(&entry.plan.tenant_id)
                .or_default()
                .push(entry);
        }
        for entries in by_tenant.values_mut() {
            entries.sort_by_key(|entry| entry.plan.from);
            for pair in entries.windows(2) {
                let (earlier, later) = (pair[0], pair[1]);
                if earlier
                    .plan
                    .until
                    .is_some_and(|until| until <= later.plan.from)
                {
                    continue;
                }
                let (reported, other) = if later.from_span.start > earlier.from_span.start {
                    (later, earlier)
                } else {
                    (earlier, later)
                };
                let problem = PlanProblem::OverlappingAssignment {
                    other_plan: other.plan.plan.clone(),
                    other_from: other.plan.from,
                    other_until: other.plan.until,
                    other_line: self.line(other.from_span.start),
                };
                let field = format!("tenant {:?}, from", reported.plan.tenant_id);
                return Err(self.invalid(reported.from_span.clone(), &field, problem));
            }
        }
        Ok(())
    }
}

/// An assignment and where its `from` is written, for reporting overlaps.
struct Assignment {
    plan: TenantPlan,
    from_span: Range<usize>,
}
