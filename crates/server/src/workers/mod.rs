//! Background workers: the outbox relay, the job runner (with website chat delivery) and the
//! gauges. Each runs until the
//! shutdown signal, finishing the unit of work in hand first.

pub mod gauges;
pub mod jobs;
pub mod outbound;
pub mod relay;
pub mod webchat;
