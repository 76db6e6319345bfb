//! Reading a plan file (format in `PLANS.md`). The TOML is walked value by value rather than
//! deserialized, so that every refusal names the file, the line and the field, and so that
//! numbers are read from their text: a TOML float never becomes a price.

use std::ops::Range;

use tally_schemas::MeterCatalog;
use toml::Spanned;
use toml::de::{DeArray, DeString, DeTable, DeValue};

use super::PlanBook;
use crate::error::{BillingError, PlanProblem, Result};
use crate::limits::{MAX_PLAN_FILE_BYTES, MAX_PLANS};

type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<DeString<'i>>;

const ROOT_KEYS: &[&str] = &["plans", "tenants"];
const PLAN_KEYS: &[&str] = &["currency", "minimum_commitment", "charges"];
const CHARGE_KEYS: &[&str] = &["meter", "description", "unit", "model"];
const MODEL_KEYS: &[&str] = &[
    "amount",
    "unit_price",
    "tiers",
    "package_size",
    "package_price",
    "included_quantity",
];
const TIER_KEYS: &[&str] = &["from", "up_to", "unit_price", "flat_fee"];
const ASSIGNMENT_KEYS: &[&str] = &["tenant_id", "plan", "from", "until"];

/// Reads a plan file into the default plans; see [`PlanBook::from_toml`].
pub(super) fn read_plan_book(text: &str, origin: &str, catalog: &MeterCatalog) -> Result<PlanBook> {
    let reader = Reader {
        origin,
        text,
        catalog,
    };
    if text.len() > MAX_PLAN_FILE_BYTES {
        let problem = PlanProblem::TooMany {
            what: "bytes",
            limit: MAX_PLAN_FILE_BYTES,
        };
        return Err(reader.invalid(0..0, "file", problem));
    }
    let document = DeTable::parse(text).map_err(|source| reader.syntax(source))?;
    let root = reader.fields(document.get_ref(), document.span(), "", ROOT_KEYS)?;
    let mut book = PlanBook::defaults();
    if let Some(value) = root.get("plans") {
        let table = reader.table(value, "plans")?;
        if table.len() > MAX_PLANS {
            let problem = PlanProblem::TooMany {
                what: "plans",
                limit: MAX_PLANS,
            };
            return Err(reader.invalid(value.span(), "plans", problem));
        }
        for (name, plan) in table.iter() {
            let plan = reader.plan(name, plan)?;
            book.plans.insert(plan.name.clone(), plan);
        }
    }
    if let Some(value) = root.get("tenants") {
        book.tenant_plans = reader.assignments(value, &book.plans)?;
    }
    Ok(book)
}

/// The file being read, for locating errors, and the catalog meters are checked against.
struct Reader<'a> {
    origin: &'a str,
    text: &'a str,
    catalog: &'a MeterCatalog,
}

/// The entries of one TOML table whose keys have been checked against the format.
struct Fields<'t, 'i> {
    entries: Vec<(&'t Key<'i>, &'t Value<'i>)>,
    /// The table's span: its header, where a missing field is reported.
    span: Range<usize>,
    /// Where the table is, e.g. `plan "premium", charge "api_calls"`.
    path: String,
}

impl<'t, 'i> Fields<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries
            .iter()
            .find(|(name, _)| name.get_ref() == key)
            .map(|(_, value)| *value)
    }

    fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}, {key}")
    }
}

impl Reader<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        let newlines = self.text.as_bytes()[..end]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count();
        newlines + 1
    }

    fn invalid(&self, span: Range<usize>, field: &str, problem: PlanProblem) -> BillingError {
        BillingError::InvalidPlan {
            origin: self.origin.to_owned(),
            line: self.line(span.start),
            field: field.to_owned(),
            problem,
        }
    }

    fn syntax(&self, source: toml::de::Error) -> BillingError {
        let offset = source
            .span()
            .map_or(0, |span| span.start.min(self.text.len()));
        let line_start = self.text[..offset]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |part| part.chars().count());
        BillingError::PlanSyntax {
            origin: self.origin.to_owned(),
            line: self.line(offset),
            column: column + 1,
            source: Box::new(source),
        }
    }

    /// The table's entries, refusing any key not in `allowed`.
    fn fields<'t, 'i>(
        &self,
        table: &'t DeTable<'i>,
        span: Range<usize>,
        path: &str,
        allowed: &[&str],
    ) -> Result<Fields<'t, 'i>> {
        let entries: Vec<(&'t Key<'i>, &'t Value<'i>)> = table.iter().collect();
        for (key, _) in &entries {
            if !allowed.contains(&key.get_ref().as_ref()) {
                let problem = PlanProblem::UnknownField {
                    key: key.get_ref().to_string(),
                    expected: allowed.join(", "),
                };
                return Err(self.invalid(key.span(), &join(path, key.get_ref()), problem));
            }
        }
        Ok(Fields {
            entries,
            span,
            path: path.to_owned(),
        })
    }

    fn required<'t, 'i>(&self, fields: &Fields<'t, 'i>, key: &str) -> Result<&'t Value<'i>> {
        fields.get(key).ok_or_else(|| {
            let problem = PlanProblem::MissingField {
                key: key.to_owned(),
            };
            self.invalid(fields.span.clone(), &fields.path, problem)
        })
    }

    fn wrong_type(&self, value: &Value<'_>, field: &str, expected: &'static str) -> BillingError {
        let found = value.get_ref().type_str();
        self.invalid(
            value.span(),
            field,
            PlanProblem::WrongType { expected, found },
        )
    }

    fn table<'t, 'i>(&self, value: &'t Value<'i>, field: &str) -> Result<&'t DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Ok(table),
            _ => Err(self.wrong_type(value, field, "a table")),
        }
    }

    fn array<'t, 'i>(&self, value: &'t Value<'i>, field: &str) -> Result<&'t DeArray<'i>> {
        match value.get_ref() {
            DeValue::Array(array) => Ok(array),
            _ => Err(self.wrong_type(value, field, "an array of tables")),
        }
    }

    fn string<'t>(&self, value: &'t Value<'_>, field: &str) -> Result<&'t str> {
        match value.get_ref() {
            DeValue::String(text) => Ok(text),
            _ => Err(self.wrong_type(value, field, "a string")),
        }
    }

    fn too_many(
        &self,
        value: &Value<'_>,
        field: &str,
        what: &'static str,
        limit: usize,
    ) -> BillingError {
        self.invalid(value.span(), field, PlanProblem::TooMany { what, limit })
    }
}

mod numbers;
mod plans;
mod tenants;
mod tiers;

#[cfg(test)]
mod tests;
