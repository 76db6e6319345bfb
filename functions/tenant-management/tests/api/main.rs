//! The tenant-management API end to end over the in-memory control plane: one test binary, one
//! module per concern.

mod create;
mod hostile;
mod lambda;
mod lifecycle;
mod list;
mod openapi;
mod protocol;
mod support;
mod update;
