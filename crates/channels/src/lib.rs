//! Channel adapters: provider payloads <-> core's inbound and outbound types, signatures, and
//! senders over the providers' HTTP APIs. No database access: adapters translate and send.

pub mod api_channel;
pub mod email;
pub mod fetch;
pub mod http;
pub mod line;
pub mod messaging;
pub mod meta;
pub mod telegram;
pub mod twilio;
