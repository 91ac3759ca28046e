//! The email channel, which Seam speaks itself: parsing and sanitising what arrives, the SMTP
//! listener it arrives through, and rendering and relaying what goes out. No database access.

pub mod imap;
pub mod parse;
pub mod quote;
pub mod relay;
pub mod render;
pub mod sanitise;
pub mod smtp;

// Sender authentication (SPF, DKIM, DMARC): the one part that looks things up in DNS.
pub mod auth;
