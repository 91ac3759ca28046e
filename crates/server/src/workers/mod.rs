//! Background workers: the outbox relay, the job runner and the gauges. Each runs until the
//! shutdown signal, finishing the unit of work in hand first.

pub mod gauges;
pub mod jobs;
pub mod relay;
