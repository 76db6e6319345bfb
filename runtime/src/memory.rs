//! In-memory adapters for tests: the same contracts as the embedded ones, no files.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tally_aggregator::{Rollup, RollupKey, StateSnapshot};
use tally_schemas::Meter;

use crate::Error;
use crate::Result;
use crate::invoices::{InvoiceStore, MemoryInvoices, Quantities};
use crate::ports::quality_matches;
use crate::ports::{Bucket, Commit, MeteringStore, Publication, RollupFilter};
use crate::quality::QualityKey;
use tally_billing::invoice::Invoice;
use tally_schemas::Timestamp;

/// A bucket held in a map.
#[derive(Debug, Default)]
pub struct MemoryBucket {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryBucket {
    fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.objects
            .lock()
            .expect("no test panics while holding the bucket")
    }
}

impl Bucket for MemoryBucket {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.objects().insert(key.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn promote(&self, from: &str, to: &str) -> Result<()> {
        let mut objects = self.objects();
        match objects.remove(from) {
            Some(bytes) => {
                objects.insert(to.to_owned(), bytes);
                Ok(())
            }
            None if objects.contains_key(to) => Ok(()),
            None => Err(Error::Invalid(format!(
                "cannot promote missing object {from}"
            ))),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.objects().get(key).cloned())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .objects()
            .keys()
            .filter(|key| key.starts_with(prefix))
            .cloned()
            .collect())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.objects().remove(key);
        Ok(())
    }
}

/// Metering tables held in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: StateSnapshot,
    rollups: BTreeMap<RollupKey, Rollup>,
    pending: BTreeMap<u64, Publication>,
    next_commit: u64,
    dedup_key: Option<[u8; 16]>,
    meters: BTreeMap<String, String>,
    invoices: MemoryInvoices,
    quality: BTreeMap<QualityKey, u64>,
}

impl InvoiceStore for MemoryStore {
    fn invoice(&self, tenant_id: &str, period: &str) -> Result<Option<Invoice>> {
        self.invoices.invoice(tenant_id, period)
    }

    fn invoices(&self, tenant_id: &str) -> Result<Vec<Invoice>> {
        self.invoices.invoices(tenant_id)
    }

    fn billed(&self, tenant_id: &str, period: &str) -> Result<Option<Quantities>> {
        self.invoices.billed(tenant_id, period)
    }

    fn put_invoice(
        &mut self,
        invoice: Invoice,
        billed: &[(String, Quantities)],
    ) -> Result<Invoice> {
        self.invoices.put_invoice(invoice, billed)
    }
}

impl MeteringStore for MemoryStore {
    fn load_state(&self) -> Result<StateSnapshot> {
        Ok(self.state.clone())
    }

    fn next_commit(&self) -> Result<u64> {
        Ok(self.next_commit.max(1))
    }

    fn commit(&mut self, commit: &Commit) -> Result<()> {
        let next = self.next_commit()?;
        for (key, delta) in &commit.rollups {
            self.rollups.entry(key.clone()).or_default().apply(delta);
        }
        self.state.apply(&commit.changes);
        for (key, count) in commit.quality.iter() {
            *self.quality.entry(key.clone()).or_default() += count;
        }
        if let Some(publication) = &commit.publication {
            assert_eq!(
                publication.commit, next,
                "a publication belongs to the commit that records it"
            );
            self.pending.insert(next, publication.clone());
        }
        self.next_commit = next + 1;
        Ok(())
    }

    fn pending_publications(&self) -> Result<Vec<Publication>> {
        Ok(self.pending.values().cloned().collect())
    }

    fn finish_publication(&mut self, commit: u64) -> Result<()> {
        self.pending.remove(&commit);
        Ok(())
    }

    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        Ok(self
            .rollups
            .iter()
            .filter(|(key, _)| filter.matches(key))
            .map(|(key, rollup)| (key.clone(), rollup.clone()))
            .collect())
    }

    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        Ok(self
            .quality
            .iter()
            .filter(|((tenant, day, _), _)| quality_matches(tenant, *day, tenant_id, from, to))
            .map(|(key, count)| (key.clone(), *count))
            .collect())
    }

    fn replace_rollups(
        &mut self,
        tenant_id: Option<&str>,
        rollups: &BTreeMap<RollupKey, Rollup>,
    ) -> Result<()> {
        self.rollups
            .retain(|key, _| tenant_id.is_some_and(|tenant| tenant != key.tenant_id.as_str()));
        self.rollups.extend(
            rollups
                .iter()
                .map(|(key, rollup)| (key.clone(), rollup.clone())),
        );
        Ok(())
    }

    fn dedup_key(&mut self) -> Result<[u8; 16]> {
        Ok(*self.dedup_key.get_or_insert([0x5a; 16]))
    }

    fn check_meters(&mut self, meters: &[Meter]) -> Result<()> {
        let new = crate::ports::meters_to_record(meters, |name| self.meters.get(name).cloned())?;
        self.meters.extend(new);
        Ok(())
    }
}
