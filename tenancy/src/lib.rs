//! Tally's control plane core: tenants, their lifecycle and their onboarding, with no IO of its
//! own. What a step provisions (a database, storage, auth, an app, an email) goes through the
//! ports in [`ports`]; adapters for the embedded default, AWS and PostgreSQL implement them.

pub mod audit;
pub mod error;
pub mod lifecycle;
pub mod manifests;
pub mod memory;
pub mod model;
pub mod policy;
pub mod ports;
pub mod provisioners;
pub mod request;
pub mod state_machine;
pub mod steps;
pub mod workflow;

pub use audit::AuditEntry;
pub use error::{Error, Result};
pub use model::{Admission, Isolation, Status, Tenant, TenantConfig, Tier};
pub use ports::{
    AuditLog, Email, FinalInvoice, IdempotencyClaim, Mailer, Provision, Provisioned, StepError,
    TenantStore,
};
pub use provisioners::Provisioners;
pub use request::{NewTenant, TenantPatch};
pub use steps::{RetryPolicy, Step};
pub use workflow::{Clock, ControlPlane, Page, Steps};
