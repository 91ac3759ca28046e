//! A deterministic, bounded mutation fuzzer over the email corpus: byte flips, truncations,
//! splices between messages, repeated and huge headers, broken MIME boundaries. The same seed
//! gives the same inputs every run, so a failure is reproducible from its iteration number.
//! Invariants: no panic; on success the text is non-empty and within core's limit, no kept
//! attachment is above the limit, and the HTML is safe to display.

use std::path::PathBuf;

use seam_channels::email::{
    parse::{Limits, parse},
    quote::strip_quoted,
    sanitise::sanitise_html,
};

const SEED: u64 = 0x5EA3_2026_0E3A_11F0;
const MESSAGE_ITERATIONS: usize = 4000;
const HTML_ITERATIONS: usize = 3000;
const QUOTE_ITERATIONS: usize = 3000;

/// xorshift64*: small, fast and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next() % bound as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read(path).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn header_end(message: &[u8]) -> usize {
    message
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(message.len())
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut message = rng.pick(corpus).clone();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(9) {
            0 => {
                // Byte flips.
                for _ in 0..1 + rng.below(16) {
                    if message.is_empty() {
                        break;
                    }
                    let at = rng.below(message.len());
                    message[at] ^= 1 << rng.below(8);
                }
            }
            1 => {
                // Random bytes, including non-UTF-8 and NUL.
                for _ in 0..1 + rng.below(8) {
                    if message.is_empty() {
                        break;
                    }
                    let at = rng.below(message.len());
                    message[at] = rng.next() as u8;
                }
            }
            2 => {
                let at = rng.below(message.len() + 1);
                message.truncate(at);
            }
            3 => {
                // Splice: the head of this message and the tail of another.
                let other = rng.pick(corpus);
                let cut = rng.below(message.len() + 1);
                let from = rng.below(other.len() + 1);
                message.truncate(cut);
                message.extend_from_slice(&other[from..]);
            }
            4 => {
                // One header line repeated many times.
                let end = header_end(&message);
                let head = String::from_utf8_lossy(&message[..end]).into_owned();
                let lines: Vec<&str> = head.split("\r\n").filter(|l| l.contains(':')).collect();
                if !lines.is_empty() {
                    let line = rng.pick(&lines).to_string();
                    let times = 2 + rng.below(400);
                    let mut repeated = Vec::new();
                    for _ in 0..times {
                        repeated.extend_from_slice(line.as_bytes());
                        repeated.extend_from_slice(b"\r\n");
                    }
                    message.splice(0..0, repeated);
                }
            }
            5 => {
                // A huge header: long subject, endless references, or a long folded field.
                let huge = match rng.below(3) {
                    0 => format!(
                        "Subject: {}\r\n",
                        "=?utf-8?B?2LfZhNio?= ".repeat(2000 + rng.below(3000))
                    ),
                    1 => format!(
                        "References: {}\r\n",
                        (0..3000 + rng.below(3000))
                            .map(|i| format!("<r{i}@x.example>"))
                            .collect::<Vec<_>>()
                            .join("\r\n ")
                    ),
                    _ => format!("X-Long: {}\r\n", "a".repeat(100_000 + rng.below(200_000))),
                };
                message.splice(0..0, huge.into_bytes());
            }
            6 => {
                // Break, duplicate or confuse a MIME boundary.
                let text = String::from_utf8_lossy(&message).into_owned();
                let mutated = match text.find("boundary=") {
                    Some(at) => {
                        let mut text = text;
                        let choices: [&str; 6] = [
                            "\"\"",
                            "\"--\"",
                            "x",
                            "\"a\"; boundary=\"b\"",
                            "\"\u{202e}\"",
                            "\"-\"",
                        ];
                        let choice: &&str = rng.pick(&choices);
                        text.insert_str(at + "boundary=".len(), choice);
                        text
                    }
                    None => format!(
                        "Content-Type: multipart/mixed; boundary=\"zz\"\r\n{text}\r\n--zz\r\n--zz\r\nContent-Type: message/rfc822\r\n\r\n--zz--"
                    ),
                };
                message = mutated.into_bytes();
            }
            7 => {
                // Deeply nested multiparts.
                let depth = 1 + rng.below(120);
                let mut nested = String::from("From: a@example.com\r\n");
                for level in 0..depth {
                    nested.push_str(&format!(
                        "Content-Type: multipart/mixed; boundary=\"n{level}\"\r\n\r\n--n{level}\r\n"
                    ));
                }
                nested.push_str("Content-Type: text/html\r\n\r\n<p onclick=x>deep</p>\r\n");
                message.splice(0..0, nested.into_bytes());
            }
            _ => {
                // A multipart/report whose parts are garbage.
                let report = "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.\r\nAction:\r\nFinal-Recipient: ;\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <>\r\n--r\r\nContent-Type: message/rfc822\r\n\r\n";
                let at = header_end(&message).min(message.len());
                message.splice(at..at, report.bytes());
            }
        }
    }
    message
}

fn assert_html_safe(html: &str, context: &str) {
    let lowered = html.to_ascii_lowercase();
    for forbidden in [
        "<script", "<iframe", "<object", "<embed", "<form", "<input", "<style", "<meta", "<link",
        "<base",
    ] {
        assert!(
            !lowered.contains(forbidden),
            "{context}: {forbidden} in {html}"
        );
    }
    // The serialiser escapes '<' in text and '"' in values, so every '<' starts a tag and
    // every '="' starts a value.
    for piece in lowered.split('<').skip(1) {
        let tag = piece.split('>').next().unwrap_or_default();
        if tag.starts_with('/') {
            continue;
        }
        let mut rest = tag.split_once(' ').map_or("", |(_, attributes)| attributes);
        while let Some((name, after)) = rest.split_once("=\"") {
            let (value, after) = after.split_once('"').unwrap_or((after, ""));
            let name = name.trim();
            assert!(
                !name.starts_with("on"),
                "{context}: handler {name} in <{tag}>"
            );
            if name == "href" || name == "src" {
                let ok = ["http:", "https:", "mailto:", "tel:", "cid:"]
                    .iter()
                    .any(|scheme| value.starts_with(scheme));
                assert!(ok, "{context}: {name}={value}");
            }
            if name == "src" {
                assert!(value.starts_with("cid:"), "{context}: remote image {value}");
            }
            if name == "style" {
                for bad in ["position", "z-index", "url(", "expression", "behavior"] {
                    assert!(!value.contains(bad), "{context}: style {value}");
                }
            }
            rest = after;
        }
    }
}

#[test]
fn mutated_messages_never_panic_and_keep_the_invariants() {
    let corpus = corpus();
    let mut rng = Rng(SEED);
    let limits = Limits {
        max_attachment_bytes: 64,
        max_attachments: 3,
    };
    let mut parsed_count = 0;
    for iteration in 0..MESSAGE_ITERATIONS {
        let message = mutate(&mut rng, &corpus);
        let limits = if iteration % 2 == 0 {
            &limits
        } else {
            &Limits::default()
        };
        let context = format!("iteration {iteration}");
        if let Ok(parsed) = parse(&message, limits) {
            parsed_count += 1;
            assert!(!parsed.text.trim().is_empty(), "{context}: empty text");
            assert!(
                parsed.text.len() <= seam_core::message::MAX_TEXT_BYTES,
                "{context}"
            );
            assert!(
                parsed.attachments.len() <= limits.max_attachments,
                "{context}"
            );
            for attachment in &parsed.attachments {
                assert!(
                    attachment.bytes.len() <= limits.max_attachment_bytes,
                    "{context}"
                );
                assert!(!attachment.file_name.is_empty(), "{context}");
                assert!(!attachment.file_name.contains(['/', '\\']), "{context}");
            }
            if let Some(html) = &parsed.details.html {
                assert_html_safe(html, &context);
            }
            let inbound = parsed.into_inbound(seam_core::ids::ChannelId::new(), &[]);
            assert!(!inbound.provider_message_id.is_empty(), "{context}");
            assert!(inbound.provider_message_id.len() <= 255, "{context}");
        }
    }
    // The mutations must leave most messages readable, or the fuzzer tests nothing.
    assert!(
        parsed_count > MESSAGE_ITERATIONS / 3,
        "only {parsed_count} parsed"
    );
}

const HTML_PIECES: &[&str] = &[
    "<p>",
    "</p>",
    "<div style=\"",
    "\">",
    "<a href=\"",
    "javascript:alert(1)",
    "JaVaScRiPt:",
    "&#106;avascript:",
    "java\tscript:",
    "data:text/html,<script>",
    "https://x.example/",
    "cid:a@b",
    "<img src=\"",
    "\" onerror=\"x()\"",
    " onload=y ",
    "<script>",
    "</script>",
    "<svg>",
    "<math>",
    "<style>",
    "</style>",
    "<iframe src=x>",
    "<!--",
    "-->",
    "<table><tr><td>",
    "position:fixed;",
    "z-index:9",
    "background:url(https://t.example/p)",
    "color:red;",
    "width:100%;",
    "\\70 osition:fixed",
    "/**/",
    "<form><input>",
    "<object>",
    "<embed>",
    "<base href=x>",
    "<meta http-equiv=refresh>",
    "<noscript>",
    "<template>",
    "<textarea>",
    "</textarea>",
    "<select>",
    "<![CDATA[",
    "]]>",
    "<",
    ">",
    "\"",
    "'",
    "&",
    "&amp;",
    "&lt;script&gt;",
    "مرحبا",
    "\u{202e}",
    "\0",
    " ",
    "\n",
    "<img src=//evil.example/x>",
    "<a href=\"  https://ok.example\">",
    "<xmp>",
    "<plaintext>",
    "<title>",
    "<body onload=z>",
    "<details open ontoggle=q>",
    "<video poster=https://x/p>",
    "<isindex>",
    "<img srcset=\"https://x/a 1x\">",
    "<td background=\"https://x/bg\">",
    "<p style='position:absolute'>",
];

#[test]
fn random_html_is_always_sanitised() {
    let mut rng = Rng(SEED ^ 0x4854_4D4C);
    for iteration in 0..HTML_ITERATIONS {
        let pieces = 1 + rng.below(40);
        let html: String = (0..pieces).map(|_| *rng.pick(HTML_PIECES)).collect();
        let sanitised = sanitise_html(&html);
        assert_html_safe(&sanitised.html, &format!("iteration {iteration}: {html}"));
        // Sanitised HTML that is sanitised again (a second display path) stays safe.
        assert_html_safe(
            &sanitise_html(&sanitised.html).html,
            &format!("again {iteration}"),
        );
    }
}

const QUOTE_PIECES: &[&str] = &[
    "Hello",
    "\n",
    "\r\n",
    "> ",
    ">",
    "-- ",
    "--",
    "On Mon, Nov 23, 2026 at 10:00 AM X <x@y> wrote:",
    "On ",
    "wrote:",
    "-----Original Message-----",
    "From: A",
    "Sent: B",
    "To: C",
    "Subject: D",
    "________________________________",
    "في الاثنين",
    "كتب:",
    "من: الدعم",
    "تاريخ الإرسال: الاثنين",
    "إلى: سارة",
    "الموضوع: طلب",
    "در تاریخ",
    "نوشت:",
    "\u{200f}",
    "\u{202b}",
    "*",
    "  ",
    "\t",
    "ok",
    "مرحبا",
    "😀",
    "\0",
];

#[test]
fn random_text_never_loses_its_content() {
    let mut rng = Rng(SEED ^ 0x5154_4F54);
    for iteration in 0..QUOTE_ITERATIONS {
        let pieces = 1 + rng.below(30);
        let text: String = (0..pieces).map(|_| *rng.pick(QUOTE_PIECES)).collect();
        let stripped = strip_quoted(&text);
        if !text.trim().is_empty() {
            assert!(
                !stripped.text.trim().is_empty(),
                "iteration {iteration}: {text:?}"
            );
        }
        assert!(
            stripped.text.len() <= text.len(),
            "iteration {iteration}: {text:?}"
        );
    }
}
