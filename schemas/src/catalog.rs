//! The meter catalog: which metrics exist and how each one aggregates. The five default meters
//! are always present; operators add their own from a TOML file (see `docs/meters.md`).

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::limits::MAX_METRIC_NAME_CHARS;

/// How the events of a meter combine inside a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The sum of the values.
    Sum,
    /// The number of events; values are ignored.
    Count,
    /// The largest value.
    Max,
    /// The value of the event with the latest event time (the largest value on a tie).
    Latest,
    /// A level that holds from one sample until the next, carried across windows; a window's
    /// value is the integral of the level over the window, in unit-hours.
    Gauge,
    /// The exact number of distinct values of one dimension.
    UniqueCount,
}

impl Aggregation {
    /// The name used in config files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Count => "count",
            Aggregation::Max => "max",
            Aggregation::Latest => "latest",
            Aggregation::Gauge => "gauge",
            Aggregation::UniqueCount => "unique_count",
        }
    }
}

/// One meter: a metric name and how its events aggregate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    /// The metric name events carry, e.g. `api_calls`.
    pub name: String,
    /// How values combine inside a window.
    pub aggregation: Aggregation,
    /// The unit of one event's value, e.g. `calls` or `GB`.
    pub unit: String,
    /// For unique counts, the dimension whose distinct values are counted.
    pub dimension: Option<String>,
    /// The value of an event that carries none; `None` makes `value` required.
    pub default_value: Option<Decimal>,
    /// One sentence for people reading `tally usage`.
    pub description: String,
}

impl Meter {
    /// The unit of a window's value: `unit-hours` for gauges, `unit` otherwise.
    pub fn window_unit(&self) -> String {
        match self.aggregation {
            Aggregation::Gauge => format!("{}-hours", self.unit),
            _ => self.unit.clone(),
        }
    }
}

/// The meters an event may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterCatalog {
    meters: Vec<Meter>,
    index: HashMap<String, usize>,
}

/// Why an operator's meter file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid TOML of the documented shape.
    #[error("{origin}: {source}")]
    Syntax {
        /// The file the text came from.
        origin: String,
        /// What the TOML parser said, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// A meter breaks a rule of the catalog.
    #[error("{origin}: meter {meter:?}: {problem}")]
    InvalidMeter {
        /// The file the text came from.
        origin: String,
        /// The meter's name as written.
        meter: String,
        /// The rule it breaks.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeterFile {
    #[serde(default)]
    meters: Vec<MeterEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeterEntry {
    name: String,
    aggregation: Aggregation,
    unit: String,
    dimension: Option<String>,
    #[serde(default)]
    description: String,
}

impl MeterCatalog {
    /// The five default meters of DESIGN.md.
    pub fn defaults() -> MeterCatalog {
        let meter =
            |name: &str, aggregation, unit: &str, default_value: Option<i64>, text: &str| Meter {
                name: name.to_owned(),
                aggregation,
                unit: unit.to_owned(),
                dimension: (aggregation == Aggregation::UniqueCount).then(|| "user_id".to_owned()),
                default_value: default_value.map(Decimal::from),
                description: text.to_owned(),
            };
        MeterCatalog::from_meters(vec![
            meter(
                "api_calls",
                Aggregation::Sum,
                "calls",
                Some(1),
                "API calls served",
            ),
            meter(
                "storage_gb",
                Aggregation::Gauge,
                "GB",
                None,
                "Stored data, sampled",
            ),
            meter(
                "cpu_hours",
                Aggregation::Sum,
                "vCPU-hours",
                None,
                "Compute used",
            ),
            meter(
                "memory_gb_hours",
                Aggregation::Sum,
                "GB-hours",
                None,
                "Memory used",
            ),
            meter(
                "active_users",
                Aggregation::UniqueCount,
                "users",
                Some(1),
                "Distinct users",
            ),
        ])
    }

    /// The defaults plus the meters of an operator's TOML file; `origin` names the file in errors.
    ///
    /// Fails when the TOML is malformed or has unknown fields, or when a meter has a bad name,
    /// repeats a name, redefines a default meter, or sets `dimension` wrongly for its aggregation.
    pub fn with_operator_meters(
        toml_text: &str,
        origin: &str,
    ) -> Result<MeterCatalog, CatalogError> {
        let file: MeterFile = toml::from_str(toml_text).map_err(|source| CatalogError::Syntax {
            origin: origin.to_owned(),
            source,
        })?;
        let mut catalog = MeterCatalog::defaults();
        for entry in file.meters {
            let invalid = |problem: &str| CatalogError::InvalidMeter {
                origin: origin.to_owned(),
                meter: entry.name.clone(),
                problem: problem.to_owned(),
            };
            if !is_valid_metric_name(&entry.name) {
                return Err(invalid(
                    "name must be 1-64 characters of [a-z0-9_], starting with a letter",
                ));
            }
            if catalog.get(&entry.name).is_some() {
                return Err(invalid(
                    "is already defined (default meters cannot be redefined)",
                ));
            }
            if entry.unit.trim().is_empty() || entry.unit.len() > 32 {
                return Err(invalid("unit must be 1-32 characters"));
            }
            let counts_a_dimension = entry.aggregation == Aggregation::UniqueCount;
            match (&entry.dimension, counts_a_dimension) {
                (None, true) => return Err(invalid("unique_count needs the dimension it counts")),
                (Some(_), false) => return Err(invalid("dimension is only for unique_count")),
                _ => {}
            }
            let default_value = matches!(
                entry.aggregation,
                Aggregation::Count | Aggregation::UniqueCount
            )
            .then_some(Decimal::ONE);
            catalog.push(Meter {
                name: entry.name,
                aggregation: entry.aggregation,
                unit: entry.unit,
                dimension: entry.dimension,
                default_value,
                description: entry.description,
            });
        }
        Ok(catalog)
    }

    /// The meter called `name`, if the catalog has one.
    pub fn get(&self, name: &str) -> Option<&Meter> {
        self.index.get(name).map(|position| &self.meters[*position])
    }

    /// Every meter, defaults first, in definition order.
    pub fn meters(&self) -> &[Meter] {
        &self.meters
    }

    fn from_meters(meters: Vec<Meter>) -> MeterCatalog {
        let mut catalog = MeterCatalog {
            meters: Vec::new(),
            index: HashMap::new(),
        };
        for meter in meters {
            catalog.push(meter);
        }
        catalog
    }

    fn push(&mut self, meter: Meter) {
        self.index.insert(meter.name.clone(), self.meters.len());
        self.meters.push(meter);
    }
}

/// Whether `name` is a valid meter name: `[a-z][a-z0-9_]*`, at most 64 characters.
pub fn is_valid_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b'a'..=b'z'))
        && bytes.len() <= MAX_METRIC_NAME_CHARS
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_five_meters_of_the_design() {
        let catalog = MeterCatalog::defaults();
        let names: Vec<&str> = catalog
            .meters()
            .iter()
            .map(|meter| meter.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "api_calls",
                "storage_gb",
                "cpu_hours",
                "memory_gb_hours",
                "active_users"
            ]
        );
        let storage = catalog.get("storage_gb").unwrap();
        assert_eq!(storage.aggregation, Aggregation::Gauge);
        assert_eq!(storage.window_unit(), "GB-hours");
        assert_eq!(
            catalog.get("active_users").unwrap().dimension.as_deref(),
            Some("user_id")
        );
        assert_eq!(
            catalog.get("api_calls").unwrap().default_value,
            Some(Decimal::ONE)
        );
        assert_eq!(catalog.get("cpu_hours").unwrap().default_value, None);
    }

    #[test]
    fn operator_meters_are_added_after_the_defaults() {
        let text = r#"
            [[meters]]
            name = "gpu_seconds"
            aggregation = "sum"
            unit = "GPU-seconds"

            [[meters]]
            name = "devices"
            aggregation = "unique_count"
            unit = "devices"
            dimension = "device_id"
        "#;
        let catalog = MeterCatalog::with_operator_meters(text, "meters.toml").unwrap();
        assert_eq!(catalog.meters().len(), 7);
        assert_eq!(
            catalog.get("devices").unwrap().default_value,
            Some(Decimal::ONE)
        );
        assert_eq!(catalog.get("gpu_seconds").unwrap().default_value, None);
    }

    #[test]
    fn bad_operator_meters_are_refused_with_the_file_and_meter_named() {
        let cases = [
            (
                "[[meters]]\nname = \"api_calls\"\naggregation = \"sum\"\nunit = \"x\"",
                "already defined",
            ),
            (
                "[[meters]]\nname = \"Bad\"\naggregation = \"sum\"\nunit = \"x\"",
                "name must be",
            ),
            (
                "[[meters]]\nname = \"u\"\naggregation = \"unique_count\"\nunit = \"x\"",
                "needs the dimension",
            ),
            (
                "[[meters]]\nname = \"s\"\naggregation = \"sum\"\nunit = \"x\"\ndimension = \"d\"",
                "only for unique_count",
            ),
            (
                "[[meters]]\nname = \"s\"\naggregation = \"median\"\nunit = \"x\"",
                "median",
            ),
            (
                "[[meters]]\nname = \"s\"\naggregation = \"sum\"\nunit = \"x\"\ncolour = 1",
                "colour",
            ),
        ];
        for (text, expected) in cases {
            let error = MeterCatalog::with_operator_meters(text, "ops/meters.toml").unwrap_err();
            let message = error.to_string();
            assert!(message.starts_with("ops/meters.toml"), "{message}");
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
    }
}
