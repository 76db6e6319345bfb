//! Opening the embedded pipeline of a data directory.

use std::fs;

use anyhow::{Context, Result};
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::env;
use tally_runtime::pipeline::{CrashPoint, Pipeline, PipelineConfig};
use tally_schemas::MeterCatalog;
use tally_schemas::layout::DEFAULT_BUCKET;

use crate::GlobalOptions;

/// The pipeline of the embedded default.
pub type EmbeddedPipeline = Pipeline<LocalBucket, RedbStore>;

/// The file of the embedded tables inside the data directory.
pub const TABLES_FILE: &str = "tables.redb";

/// The meter catalog: the defaults plus the operator's file, if any.
pub fn catalog(global: &GlobalOptions) -> Result<MeterCatalog> {
    Ok(env::load_catalog(global.meters.as_deref())?)
}

/// Opens an existing data directory's tables, for commands that only read rollups: no
/// recovery, and the core's state is not loaded.
///
/// Fails, saying what to run first, when the directory holds no tables yet.
pub fn open_tables(global: &GlobalOptions) -> Result<RedbStore> {
    let tables = global.data_dir.join(TABLES_FILE);
    if !tables.exists() {
        anyhow::bail!(
            "no Tally data in {} (no {TABLES_FILE}); run `tally demo` or `tally ingest FILE` first, or pass --data-dir",
            global.data_dir.display()
        );
    }
    Ok(RedbStore::open(&tables)?)
}

/// Opens the data directory's pipeline, creating the directory on first use and finishing
/// anything an interrupted run left behind.
pub fn open(global: &GlobalOptions) -> Result<EmbeddedPipeline> {
    let data_dir = &global.data_dir;
    fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let bucket = LocalBucket::open(data_dir.join(DEFAULT_BUCKET))?;
    let store = RedbStore::open(&data_dir.join(TABLES_FILE))?;
    let crash_at = match std::env::var(env::TALLY_CRASH_AT) {
        Ok(text) => Some(
            text.parse::<CrashPoint>()
                .map_err(|problem| anyhow::anyhow!("{}: {problem}", env::TALLY_CRASH_AT))?,
        ),
        Err(_) => None,
    };
    let config = PipelineConfig {
        catalog: catalog(global)?,
        max_event_age_days: global.max_event_age_days,
        crash_at,
    };
    // Only registered, unsuspended tenants' events are counted; the registry is read once per
    // command, before the first line.
    let gate = crate::control::tenant_gate(data_dir)?;
    Ok(Pipeline::open(bucket, store, config)?.with_tenant_gate(gate))
}
