//! The new part of a reply: quoted history and the signature cut off, by the heuristics that
//! match what the common clients write (Gmail, Outlook desktop and web, Apple Mail, Thunderbird;
//! English, Arabic and Persian quote headers). Pure: no IO.

/// The new text of a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stripped {
    pub text: String,
    /// Something was cut off (quoted history or a signature).
    pub quoted: bool,
}

/// How many lines a quote header may span (Gmail wraps long "On … wrote:" lines).
const HEADER_LINES: usize = 3;
/// How far below a "From:" line the other fields of an Outlook header block may be.
const OUTLOOK_BLOCK_LINES: usize = 6;
/// A quote header line longer than this is a paragraph, not a header.
const MAX_HEADER_CHARS: usize = 400;

/// Returns the new part of `text`. When cutting would leave nothing, the whole text is kept.
pub fn strip_quoted(text: &str) -> Stripped {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.lines().collect();
    let full = normalised.trim().to_owned();

    let cut = quote_start(&lines);
    let mut kept: Vec<&str> = match cut {
        Some(start) => lines[..start].to_vec(),
        None => lines.clone(),
    };
    if let Some(start) = cut
        && kept.iter().all(|line| line.trim().is_empty())
    {
        // Bottom-posting: the answer follows the quote. Keep what is neither the quote header
        // nor quoted.
        kept = unquoted_after(&lines, start);
    }
    cut_signature(&mut kept);
    let new_text = kept.join("\n").trim().to_owned();
    if new_text.is_empty() {
        return Stripped {
            text: full,
            quoted: false,
        };
    }
    let quoted = new_text != full;
    Stripped {
        text: new_text,
        quoted,
    }
}

/// The line where quoted history starts, if any.
fn quote_start(lines: &[&str]) -> Option<usize> {
    let cleaned: Vec<String> = lines.iter().map(|line| clean_line(line)).collect();
    let header = (0..cleaned.len()).find(|&index| {
        is_reply_header(&cleaned, index)
            || is_original_message_line(&cleaned[index])
            || is_outlook_block(&cleaned, index)
    });
    let header = header.map(|index| include_separator_above(&cleaned, index));
    let trailing = trailing_quote_block(&cleaned);
    match (header, trailing) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A line without the direction marks and emphasis that clients wrap around names and labels.
fn clean_line(line: &str) -> String {
    line.chars()
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'))
        .collect::<String>()
        .trim()
        .trim_matches('*')
        .trim()
        .to_owned()
}

/// "On … wrote:" and its translations, on one line or wrapped over up to three.
fn is_reply_header(lines: &[String], index: usize) -> bool {
    let first = &lines[index];
    if !starts_reply_header(first) || first.chars().count() > MAX_HEADER_CHARS {
        return false;
    }
    let mut joined = String::new();
    for line in lines.iter().skip(index).take(HEADER_LINES) {
        if line.is_empty() {
            return false;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(line);
        if ends_reply_header(&joined) {
            return true;
        }
    }
    false
}

fn starts_reply_header(line: &str) -> bool {
    [
        "On ",
        "Le ",
        "Am ",
        "El ",
        "Il ",
        "Op ",
        "في ",
        "فى ",
        "در ",
        "بتاريخ ",
        "بتاريخ",
    ]
    .iter()
    .any(|prefix| line.starts_with(prefix))
}

fn ends_reply_header(text: &str) -> bool {
    let text = text.trim_end();
    let Some(body) = text.strip_suffix(':') else {
        return false;
    };
    let body = body.trim_end();
    [
        "wrote", "writes", "a écrit", "schrieb", "escribió", "ha scritto", "schreef", "كتب",
        "كتبت", "نوشت", "نوشته است",
    ]
    .iter()
    .any(|word| body.ends_with(word))
        // Arabic clients put the name after the verb: "في … كتب فريق الدعم <a@b>:".
        || [" كتب ", " كتبت "].iter().any(|verb| body.contains(verb))
}

/// Outlook's and others' "-----Original Message-----" separator (also Arabic and Persian).
fn is_original_message_line(line: &str) -> bool {
    let inner = line.trim_matches(|c: char| c == '-' || c == '_' || c.is_whitespace());
    if inner.len() == line.len() || !line.starts_with("--") {
        return false;
    }
    let inner = inner.to_lowercase();
    [
        "original message",
        "الرسالة الأصلية",
        "پیام اصلی",
        "reply message",
        "ursprüngliche nachricht",
        "message d'origine",
        "mensaje original",
    ]
    .iter()
    .any(|label| inner == *label)
}

const FROM_LABELS: &[&str] = &["from:", "من:", "از:", "von:", "de:"];
const DATE_LABELS: &[&str] = &[
    "sent:",
    "date:",
    "تاريخ الإرسال:",
    "أُرسل:",
    "أرسل:",
    "أرسلت:",
    "التاريخ:",
    "تاريخ:",
    "ارسال شده:",
    "تاریخ:",
    "gesendet:",
    "envoyé:",
];
const OTHER_LABELS: &[&str] = &[
    "to:",
    "subject:",
    "cc:",
    "إلى:",
    "الى:",
    "الموضوع:",
    "نسخة:",
    "به:",
    "موضوع:",
    "an:",
    "betreff:",
    "à:",
    "objet:",
];

fn has_label(line: &str, labels: &[&str]) -> bool {
    let lowered = line.to_lowercase();
    let lowered = lowered.trim_start_matches('*');
    labels.iter().any(|label| {
        lowered.starts_with(label)
            || label
                .strip_suffix(':')
                .is_some_and(|bare| lowered.starts_with(&format!("{bare} :")))
    })
}

/// An Outlook header block: "From:" followed closely by a date line and a To/Subject line.
fn is_outlook_block(lines: &[String], index: usize) -> bool {
    if !has_label(&lines[index], FROM_LABELS) {
        return false;
    }
    let following = lines.iter().skip(index + 1).take(OUTLOOK_BLOCK_LINES);
    let mut date = false;
    let mut other = false;
    for line in following {
        date |= has_label(line, DATE_LABELS);
        other |= has_label(line, OTHER_LABELS);
    }
    date && other
}

/// Moves a cut up over a "________________________________" rule and blank lines just above it.
fn include_separator_above(lines: &[String], mut index: usize) -> usize {
    let mut candidate = index;
    while candidate > 0 {
        let above = lines[candidate - 1].as_str();
        if above.is_empty() {
            candidate -= 1;
            continue;
        }
        if above.len() >= 8
            && above
                .chars()
                .all(|c| c == '_' || c == '-' || c == '━' || c == '─')
        {
            index = candidate - 1;
        }
        break;
    }
    index
}

fn is_quoted(line: &str) -> bool {
    line.starts_with('>')
}

/// The start of a block of ">" lines (blank lines allowed inside) that runs to the end.
fn trailing_quote_block(lines: &[String]) -> Option<usize> {
    let mut start = None;
    for index in (0..lines.len()).rev() {
        let line = &lines[index];
        if is_quoted(line) {
            start = Some(index);
        } else if !line.is_empty() {
            break;
        }
    }
    start
}

/// For bottom-posted replies: the lines after `start` that are not quoted and not part of a
/// quote header.
fn unquoted_after<'a>(lines: &[&'a str], start: usize) -> Vec<&'a str> {
    let cleaned: Vec<String> = lines.iter().map(|line| clean_line(line)).collect();
    let mut kept = Vec::new();
    let mut index = start;
    while index < lines.len() {
        if is_reply_header(&cleaned, index) {
            // Skip the header's lines up to the one ending it.
            let mut joined = String::new();
            while index < lines.len() {
                if !joined.is_empty() {
                    joined.push(' ');
                }
                joined.push_str(&cleaned[index]);
                index += 1;
                if ends_reply_header(&joined) {
                    break;
                }
            }
            continue;
        }
        if !is_quoted(&cleaned[index]) && !is_original_message_line(&cleaned[index]) {
            kept.push(lines[index]);
        }
        index += 1;
    }
    kept
}

/// Cuts at the signature delimiter "-- " (RFC 3676 §4.3; many clients drop the space).
fn cut_signature(lines: &mut Vec<&str>) {
    if let Some(position) = lines
        .iter()
        .position(|line| *line == "-- " || line.trim_end() == "--")
    {
        lines.truncate(position);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_text(text: &str) -> String {
        strip_quoted(text).text
    }

    #[test]
    fn gmail_reply_header_cuts_the_quote() {
        let text = "Thanks, that fixed it.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Support <support@example.com> wrote:\n> Please restart the router.\n";
        let stripped = strip_quoted(text);
        assert_eq!(stripped.text, "Thanks, that fixed it.");
        assert!(stripped.quoted);
    }

    #[test]
    fn a_reply_header_wrapped_over_two_lines_is_found() {
        let text = "Yes please.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Support Team of Example <support@example.com>\nwrote:\n\n> Shall we send a replacement?";
        assert_eq!(new_text(text), "Yes please.");
    }

    #[test]
    fn apple_mail_header_is_found() {
        let text = "Perfect.\n\nSent from my iPhone\n\n> On 23 Nov 2026, at 10:00, Support <support@example.com> wrote:\n> \n> Your order shipped.";
        assert_eq!(new_text(text), "Perfect.\n\nSent from my iPhone");
        let unquoted = "Perfect.\n\nOn 23 Nov 2026, at 10:00, Support <support@example.com> wrote:\n\n> Your order shipped.";
        assert_eq!(new_text(unquoted), "Perfect.");
    }

    #[test]
    fn outlook_original_message_separator_cuts() {
        let text =
            "See attached.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nold text";
        assert_eq!(new_text(text), "See attached.");
    }

    #[test]
    fn localised_original_message_separators_cut_but_forwards_do_not() {
        let german = "Passt.\n\n-----Ursprüngliche Nachricht-----\nVon: Support\n\nalt";
        assert_eq!(new_text(german), "Passt.");
        let arabic = "تمام\n\n-----الرسالة الأصلية-----\nمن: الدعم\n\nقديم";
        assert_eq!(new_text(arabic), "تمام");
        let forward = "FYI\n\n---------- Forwarded message ---------\nFrom: Bank\n\nYour statement";
        assert_eq!(new_text(forward), forward);
    }

    #[test]
    fn outlook_header_block_after_a_rule_cuts() {
        let text = "Still broken.\r\n\r\n________________________________\r\nFrom: Support <support@example.com>\r\nSent: Monday, November 23, 2026 10:00 AM\r\nTo: Jane <jane@example.com>\r\nSubject: RE: Router\r\n\r\nPlease restart it.";
        let stripped = strip_quoted(text);
        assert_eq!(stripped.text, "Still broken.");
        assert!(stripped.quoted);
    }

    #[test]
    fn outlook_web_header_block_with_bold_labels_cuts() {
        let text = "Done.\n\n*From:* Support <support@example.com>\n*Date:* Monday, 23 November 2026\n*To:* Jane\n*Subject:* Re: Router\n\nold";
        assert_eq!(new_text(text), "Done.");
    }

    #[test]
    fn a_from_line_in_the_new_text_alone_does_not_cut() {
        let text = "From: the warehouse, the parcel never left.\nPlease check.";
        let stripped = strip_quoted(text);
        assert_eq!(stripped.text, text);
        assert!(!stripped.quoted);
    }

    #[test]
    fn arabic_gmail_header_cuts() {
        let text = "شكراً، وصلت الطلبية.\n\nفي الاثنين، 23 نوفمبر 2026 في 10:00 ص، \u{202b}فريق الدعم\u{202c}\u{200f} <support@example.com> كتب:\n> تم شحن طلبك.";
        assert_eq!(new_text(text), "شكراً، وصلت الطلبية.");
    }

    #[test]
    fn arabic_gmail_header_wrapped_cuts() {
        let text = "نعم\n\nفي الاثنين، 23 نوفمبر 2026 في 10:00 ص، فريق الدعم <support@example.com>\nكتب:\n> هل نرسل بديلاً؟";
        assert_eq!(new_text(text), "نعم");
    }

    #[test]
    fn arabic_outlook_header_block_cuts() {
        let text = "المشكلة ما زالت قائمة.\n\n________________________________\nمن: فريق الدعم <support@example.com>\nتاريخ الإرسال: الاثنين، 23 نوفمبر 2026 10:00 ص\nإلى: سارة <sara@example.com>\nالموضوع: RE: الراوتر\n\nأعد تشغيل الجهاز.";
        assert_eq!(new_text(text), "المشكلة ما زالت قائمة.");
        let short = "تم.\n\nمن: الدعم\nأُرسل: الاثنين\nإلى: سارة\nالموضوع: طلب";
        assert_eq!(new_text(short), "تم.");
    }

    #[test]
    fn persian_header_cuts() {
        let text = "ممنون، درست شد.\n\nدر تاریخ دوشنبه ۲ آذر ۱۴۰۵، ساعت ۱۰:۰۰ پشتیبانی <support@example.com> نوشت:\n> لطفاً مودم را خاموش و روشن کنید.";
        assert_eq!(new_text(text), "ممنون، درست شد.");
    }

    #[test]
    fn a_trailing_quoted_block_is_cut_but_inline_quotes_are_kept() {
        let text = "> Is it red?\nYes.\n> And large?\nNo.\n\n> old\n>\n> older";
        assert_eq!(new_text(text), "> Is it red?\nYes.\n> And large?\nNo.");
    }

    #[test]
    fn the_signature_is_cut() {
        let text = "Call me back.\n\n-- \nJane Doe\nACME Ltd";
        let stripped = strip_quoted(text);
        assert_eq!(stripped.text, "Call me back.");
        assert!(stripped.quoted);
    }

    #[test]
    fn a_bottom_posted_reply_keeps_the_answer() {
        let text = "On Mon, Nov 23, 2026 at 10:00 AM Support <support@example.com> wrote:\n> Is it fixed?\n\nYes, all good now.";
        assert_eq!(new_text(text), "Yes, all good now.");
    }

    #[test]
    fn a_message_that_is_only_a_quote_is_kept_whole() {
        let text = "> forwarded words\n> more";
        let stripped = strip_quoted(text);
        assert_eq!(stripped.text, text);
        assert!(!stripped.quoted);
        assert_eq!(new_text("-- \nJust a signature"), "-- \nJust a signature");
    }

    #[test]
    fn text_without_quotes_is_unchanged() {
        let stripped = strip_quoted("  Hello,\n\nmy order is late.\n");
        assert_eq!(stripped.text, "Hello,\n\nmy order is late.");
        assert!(!stripped.quoted);
        assert_eq!(strip_quoted("").text, "");
    }

    #[test]
    fn a_sentence_starting_with_on_is_not_a_header() {
        let text = "On Monday I ordered a phone.\nIt has not arrived.";
        assert_eq!(new_text(text), text);
    }
}
