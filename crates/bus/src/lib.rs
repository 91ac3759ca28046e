//! Realtime fan-out behind core's `Bus` port. The in-process bus serves one node; a NATS bus
//! (subjects `seam.<workspace>.events`) serves a cluster. Delivery is at most once: nothing
//! here is durable, the database is.

mod in_process;

pub use in_process::InProcessBus;
