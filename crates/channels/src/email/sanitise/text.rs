//! Plain text from an HTML body, for mail that has no text part. Pure: no IO.

/// Plain text from an HTML body, for mail that has no text part: block elements become line
/// breaks, entities are decoded, scripts, styles and the document head are dropped.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut skipping: Option<String> = None;
    let mut in_pre = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            let tag = parse_tag(&rest[..end]);
            rest = &rest[end..];
            let Some((name, closing)) = tag else {
                continue;
            };
            if let Some(skipped) = &skipping {
                if closing && name == *skipped {
                    skipping = None;
                }
                continue;
            }
            if !closing
                && matches!(
                    name.as_str(),
                    "script" | "style" | "head" | "title" | "template"
                )
            {
                skipping = Some(name);
                continue;
            }
            if name == "pre" {
                in_pre = if closing {
                    in_pre.saturating_sub(1)
                } else {
                    in_pre + 1
                };
            }
            apply_tag(&mut out, &name, closing);
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        let (text, after) = rest.split_at(end);
        rest = after;
        if skipping.is_none() {
            push_text(&mut out, &decode_entities(text), in_pre > 0);
        }
    }
    tidy_lines(&out)
}

/// `(lower-cased name, is closing)` of a tag like `<p class=x>` or `</TD>`; `None` for `<!DOCTYPE>`
/// and other declarations.
fn parse_tag(tag: &str) -> Option<(String, bool)> {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    (!name.is_empty()).then_some((name, closing))
}

fn apply_tag(out: &mut String, name: &str, closing: bool) {
    match name {
        "br" => out.push('\n'),
        "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" | "table"
        | "tr" | "ul" | "ol" | "dl" | "dt" | "dd" | "section" | "article" | "header" | "footer"
        | "address" | "center" | "form" | "hr" | "figure" | "figcaption" | "caption" => {
            out.push('\n')
        }
        "li" if !closing => out.push_str("\n- "),
        "td" | "th" if closing => out.push(' '),
        _ => {}
    }
}

fn push_text(out: &mut String, text: &str, preformatted: bool) {
    if preformatted {
        out.push_str(text);
        return;
    }
    for (index, word) in text.split_ascii_whitespace().enumerate() {
        let needs_space = index > 0
            || (text.starts_with(|c: char| c.is_ascii_whitespace())
                && !out.ends_with(|c: char| c.is_whitespace()));
        if needs_space && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if text.ends_with(|c: char| c.is_ascii_whitespace()) && !text.trim().is_empty() {
        out.push(' ');
    }
}

/// Decodes `&amp;`, `&#1575;`, `&#x627;` and the named HTML entities; anything unrecognised is
/// kept as written.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let end = candidate
            .char_indices()
            .skip(1)
            .take(32)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'))
            .filter(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        match end {
            Some(end) if end > 1 => {
                let token = &candidate[..=end];
                mail_parser::decoders::html::add_html_token(&mut out, token.as_bytes(), false);
                rest = &candidate[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    out.replace('\u{a0}', " ")
}

/// Trims every line, and keeps at most one blank line between paragraphs.
fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_keeps_blocks_and_decodes_entities() {
        let text = html_to_text(
            "<html><head><title>T</title><style>p{color:red}</style></head><body>\
             <p>Hello&nbsp;there &amp; welcome</p><div>Line two<br>Line three</div>\
             <script>var x = 1;</script><ul><li>one</li><li>two</li></ul>\
             <p dir=rtl>&#1605;&#x631;&#1581;&#1576;&#1575;</p></body></html>",
        );
        assert_eq!(
            text,
            "Hello there & welcome\n\nLine two\nLine three\n\n- one\n- two\n\nمرحبا"
        );
    }

    #[test]
    fn html_to_text_keeps_preformatted_spacing_and_unknown_entities() {
        assert_eq!(html_to_text("<pre>a  b\n  c</pre>"), "a  b\nc");
        assert_eq!(html_to_text("AT&T &bogus; 5 &lt; 6"), "AT&T &bogus; 5 < 6");
    }
}
