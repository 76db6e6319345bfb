//! Parquet encoding of the events table (placeholder).
