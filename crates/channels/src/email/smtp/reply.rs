//! The listener's words: reply lines, the EHLO capability list and the `Received:` trace
//! header. Everything taken from the client or the sink is reduced to printable ASCII first, so
//! nothing it sends can end a reply line or a header early.

use std::net::IpAddr;

use chrono::Utc;
use smtp_proto::Response;

/// The longest piece of client or sink text repeated in a reply or header.
const MAX_ECHO: usize = 200;

/// `text` as visible ASCII and spaces only, at most [`MAX_ECHO`] characters.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(MAX_ECHO)
        .collect()
}

/// One reply line with its enhanced status code (RFC 3463), e.g. `250 2.1.0 OK`.
pub(super) fn line(out: &mut Vec<u8>, code: u16, status: [u8; 3], message: &str) {
    let [class, subject, detail] = status;
    // Writing into a Vec cannot fail.
    let _ = Response::new(code, class, subject, detail, printable(message)).write(out);
}

/// A reply line without an enhanced status code, for the greeting, HELO and `354`, which
/// RFC 2034 §3 leaves without one.
pub(super) fn plain(out: &mut Vec<u8>, code: u16, message: &str) {
    out.extend_from_slice(format!("{code} {}\r\n", printable(message)).as_bytes());
}

/// The EHLO answer (RFC 5321 §4.1.1.1) listing what this listener supports.
pub(super) fn ehlo(out: &mut Vec<u8>, hostname: &str, max_message_bytes: usize, starttls: bool) {
    let mut lines = vec![
        hostname.to_string(),
        "PIPELINING".to_string(),
        format!("SIZE {max_message_bytes}"),
        "8BITMIME".to_string(),
        "SMTPUTF8".to_string(),
        "ENHANCEDSTATUSCODES".to_string(),
        "CHUNKING".to_string(),
        "HELP".to_string(),
    ];
    if starttls {
        lines.push("STARTTLS".to_string());
    }
    let last = lines.len() - 1;
    for (index, text) in lines.iter().enumerate() {
        let separator = if index == last { ' ' } else { '-' };
        out.extend_from_slice(format!("250{separator}{text}\r\n").as_bytes());
    }
}

/// The trace header this listener prepends (RFC 5321 §4.4), with the protocol keyword of
/// RFC 3848 telling whether the message came over TLS.
pub(super) fn received_header(
    helo: &str,
    peer: IpAddr,
    hostname: &str,
    extended: bool,
    tls: bool,
) -> String {
    let protocol = match (extended, tls) {
        (true, true) => "ESMTPS",
        (true, false) => "ESMTP",
        (false, true) => "SMTPS",
        (false, false) => "SMTP",
    };
    let literal = match peer {
        IpAddr::V4(address) => format!("[{address}]"),
        IpAddr::V6(address) => format!("[IPv6:{address}]"),
    };
    format!(
        "Received: from {} ({literal})\r\n\tby {hostname} with {protocol};\r\n\t{}\r\n",
        printable(helo).replace(' ', ""),
        Utc::now().to_rfc2822()
    )
}
