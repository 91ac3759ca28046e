//! Email HTML made safe to show inside the agent app, and HTML-only mail turned into text.
//! An allow-list (ammonia) keeps formatting, tables, lists, links and images; everything that
//! runs code, submits data, loads a remote resource or can be positioned over the app is removed.
//! Pure functions: no IO.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// HTML that is safe to insert into the agent app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sanitised {
    pub html: String,
    /// The HTML referred to remote images. Their `src` was moved to `data-seam-src`, so nothing
    /// is fetched (no tracking pixel fires) until an agent allows it.
    pub remote_images: bool,
}

/// The attribute a blocked remote image keeps its URL in.
pub const BLOCKED_SRC_ATTRIBUTE: &str = "data-seam-src";

/// What the attribute filter writes into a blocked image's `src`; renamed after serialising,
/// because ammonia's filter can change a value but not an attribute's name.
const BLOCKED_MARKER: &str = "seam-blocked-remote-image:";

const TAGS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Tags removed together with everything inside them (their content is code, a document head,
/// or controls whose text means nothing once the control is gone).
const REMOVED_WITH_CONTENT: &[&str] = &[
    "script", "style", "title", "head", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noscript", "template", "textarea", "select", "svg", "math", "audio", "video", "canvas",
];

/// Attributes allowed on every kept tag. No `class` or `id`: the sender's classes could match
/// the app's own stylesheet (a full-screen utility class is an overlay).
const GENERIC_ATTRIBUTES: &[&str] = &["dir", "lang", "title", "align", "valign", "style"];

const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href"]),
    ("img", &["src", "alt", "width", "height", "border"]),
    (
        "table",
        &["border", "cellpadding", "cellspacing", "width", "bgcolor"],
    ),
    (
        "td",
        &["colspan", "rowspan", "width", "height", "bgcolor", "nowrap"],
    ),
    (
        "th",
        &["colspan", "rowspan", "width", "height", "bgcolor", "nowrap"],
    ),
    ("tr", &["bgcolor"]),
    ("col", &["span", "width"]),
    ("colgroup", &["span", "width"]),
    ("font", &["color", "face", "size"]),
    ("ol", &["start", "type"]),
    ("ul", &["type"]),
    ("hr", &["width", "size"]),
    ("blockquote", &["type"]),
];

/// CSS properties kept in `style` attributes. Nothing that positions, layers, hides, animates
/// or loads (`background-image`, `border-image`, `list-style-image`, `cursor`, `content`).
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "line-height",
    "letter-spacing",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "vertical-align",
    "white-space",
    "direction",
    "list-style-type",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-radius",
    "border-collapse",
    "border-spacing",
    "width",
    "height",
    "max-width",
    "min-width",
    "max-height",
    "min-height",
];

const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "tel", "cid"];

/// Largest width or height (in CSS pixels) an element of a mail may ask for.
const MAX_DIMENSION_PX: f64 = 2000.0;

static BUILDER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    let tag_attributes: HashMap<&str, HashSet<&str>> = TAG_ATTRIBUTES
        .iter()
        .map(|(tag, attributes)| (*tag, attributes.iter().copied().collect()))
        .collect();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(REMOVED_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(tag_attributes)
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        // A relative URL would resolve against the app's own origin.
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true)
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect())
        .attribute_filter(filter_attribute);
    builder
});

/// Sanitises an email's HTML body for display.
pub fn sanitise_html(html: &str) -> Sanitised {
    let cleaned = BUILDER.clean(html).to_string();
    let (html, remote_images) = rename_blocked_sources(&cleaned);
    Sanitised {
        html,
        remote_images,
    }
}

/// Runs after ammonia's own allow-list and scheme checks, on every kept attribute.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        ("img", "src") => {
            let scheme = scheme_of(value);
            match scheme.as_deref() {
                Some("cid") => Some(Cow::Borrowed(value.trim())),
                Some("http" | "https") => {
                    Some(Cow::Owned(format!("{BLOCKED_MARKER}{}", value.trim())))
                }
                _ => None,
            }
        }
        ("a", "href") => match scheme_of(value).as_deref() {
            Some("http" | "https" | "mailto" | "tel") => Some(Cow::Borrowed(value.trim())),
            _ => None,
        },
        (_, "style") => {
            let style = filter_style(value);
            (!style.is_empty()).then_some(Cow::Owned(style))
        }
        (_, "width" | "height") => dimension_allowed(value).then_some(Cow::Borrowed(value)),
        _ => Some(Cow::Borrowed(value)),
    }
}

fn scheme_of(url: &str) -> Option<String> {
    let (scheme, _) = url.trim().split_once(':')?;
    Some(scheme.to_ascii_lowercase())
}

/// A first pass over a `style` attribute, before ammonia's own property allow-list: drops any
/// declaration that could load something, run something, or escape its box (negative margins,
/// giant sizes).
fn filter_style(style: &str) -> String {
    let lowered = style.to_ascii_lowercase();
    // Escapes and comments can disguise a property or a function name; such a style is dropped
    // whole rather than decoded.
    if lowered.contains('\\') || lowered.contains("/*") {
        return String::new();
    }
    let mut kept = Vec::new();
    for declaration in lowered.split(';') {
        let Some((property, value)) = declaration.split_once(':') else {
            continue;
        };
        let property = property.trim();
        let value = value.trim();
        if !STYLE_PROPERTIES.contains(&property)
            || value.is_empty()
            || [
                "url(",
                "expression",
                "behavior",
                "javascript",
                "image",
                "@import",
            ]
            .iter()
            .any(|word| value.contains(word))
        {
            continue;
        }
        if property.starts_with("margin") && value.contains('-') {
            continue;
        }
        if is_dimension_property(property) && !value.split_whitespace().all(dimension_allowed) {
            continue;
        }
        kept.push(format!("{property}:{value}"));
    }
    kept.join(";")
}

fn is_dimension_property(property: &str) -> bool {
    matches!(
        property,
        "width" | "height" | "max-width" | "min-width" | "max-height" | "min-height"
    )
}

/// A width or height within reason: `auto`, a percentage up to 100, or a length up to
/// [`MAX_DIMENSION_PX`] (a bare number is pixels).
fn dimension_allowed(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    if value == "auto" || value.is_empty() {
        return true;
    }
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let Ok(number) = number.parse::<f64>() else {
        return false;
    };
    match unit.trim() {
        "" | "px" => number <= MAX_DIMENSION_PX,
        "%" => number <= 100.0,
        "em" | "rem" => number <= MAX_DIMENSION_PX / 16.0,
        "pt" => number <= MAX_DIMENSION_PX * 0.75,
        _ => false,
    }
}

/// Renames the marked `src` attributes of `<img>` tags to [`BLOCKED_SRC_ATTRIBUTE`]. Safe as a
/// string rewrite because the serialiser escapes `<`, `>` and `"` inside attribute values and
/// `<` in text, so a tag here is always a real tag and a quoted value is always a value.
/// Returns the HTML and whether any image was blocked.
fn rename_blocked_sources(html: &str) -> (String, bool) {
    let needle = format!(" src=\"{BLOCKED_MARKER}");
    let replacement = format!(" {BLOCKED_SRC_ATTRIBUTE}=\"");
    let mut out = String::with_capacity(html.len());
    let mut blocked = false;
    let mut rest = html;
    while let Some(start) = rest.find("<img ") {
        out.push_str(&rest[..start]);
        let tag_and_after = &rest[start..];
        let end = tag_and_after
            .find('>')
            .map_or(tag_and_after.len(), |i| i + 1);
        let tag = &tag_and_after[..end];
        if tag.contains(&needle) {
            blocked = true;
            out.push_str(&tag.replace(&needle, &replacement));
        } else {
            out.push_str(tag);
        }
        rest = &tag_and_after[end..];
    }
    out.push_str(rest);
    (out, blocked)
}

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
pub(crate) fn decode_entities(text: &str) -> String {
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

    fn clean(html: &str) -> String {
        sanitise_html(html).html
    }

    #[test]
    fn scripts_and_their_content_are_removed() {
        let html = clean("<p>Hi</p><script>alert('x')</script><style>p{}</style>");
        assert_eq!(html, "<p>Hi</p>");
    }

    #[test]
    fn event_handlers_are_removed() {
        let html = clean(r#"<p onclick="steal()">a</p><img src="cid:logo" onerror="x()">"#);
        assert!(
            !html.contains("onclick") && !html.contains("onerror"),
            "{html}"
        );
        assert!(html.contains(r#"src="cid:logo""#), "{html}");
    }

    #[test]
    fn dangerous_link_schemes_lose_their_href() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox",
            "/relative/path",
            "//evil.example/x",
        ] {
            let html = clean(&format!(r#"<a href="{url}">x</a>"#));
            assert!(!html.contains("href"), "{url} kept: {html}");
        }
    }

    #[test]
    fn links_open_in_a_new_tab_without_referrer() {
        let html = clean(r#"<a href="https://example.com/a?b=1&amp;c=2">x</a>"#);
        assert!(
            html.contains(r#"href="https://example.com/a?b=1&amp;c=2""#),
            "{html}"
        );
        assert!(
            html.contains(r#"rel="noopener noreferrer nofollow""#),
            "{html}"
        );
        assert!(html.contains(r#"target="_blank""#), "{html}");
        let mail =
            clean(r#"<a href="mailto:a@example.com">m</a><a href="tel:+971500000000">t</a>"#);
        assert!(mail.contains("mailto:a@example.com") && mail.contains("tel:+971500000000"));
    }

    #[test]
    fn forms_frames_and_embeds_are_removed() {
        let html = clean(
            r#"<form action="https://evil.example"><input name=p><button>Go</button></form>
            <iframe src="https://evil.example"></iframe><object data=x></object><embed src=x>
            <meta http-equiv=refresh content="0;url=https://evil.example"><base href="https://evil.example/">
            <link rel=stylesheet href="https://evil.example/x.css">"#,
        );
        for word in [
            "<form", "<input", "<button", "<iframe", "<object", "<embed", "<meta", "<base",
            "<link", "evil",
        ] {
            assert!(!html.contains(word), "{word} in {html}");
        }
        assert!(html.contains("Go"));
    }

    #[test]
    fn css_overlays_are_impossible() {
        let html = clean(
            r#"<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999;background:url(https://evil.example/x.png);color:red">x</div>"#,
        );
        for word in ["position", "z-index", "url(", "top", "background:"] {
            assert!(!html.contains(word), "{word} in {html}");
        }
        assert!(html.contains("color:red"), "{html}");
    }

    #[test]
    fn sneaky_styles_are_dropped() {
        for style in [
            "width:expression(alert(1))",
            "behavior:url(x.htc)",
            "color:red;\\70 osition:fixed",
            "color:red/**/;position:fixed",
            "margin-top:-500px",
            "width:99999px",
            "border-image:url(https://evil.example/b.png) 30",
            "background-color:red;background-image:url(https://t.example/p.gif)",
        ] {
            let html = clean(&format!(r#"<p style="{style}">x</p>"#));
            for word in [
                "expression",
                "url(",
                "position",
                "-500",
                "99999",
                "border-image",
                "background-image",
            ] {
                assert!(!html.contains(word), "{style}: {html}");
            }
        }
        let kept = clean(
            r#"<table><tr><td style="width:600px;padding:8px;font-family:Arial;text-align:right">x</td></tr></table>"#,
        );
        assert!(
            kept.contains("width:600px") && kept.contains("text-align:right"),
            "{kept}"
        );
    }

    #[test]
    fn remote_images_are_blocked_and_kept_for_later() {
        let result = sanitise_html(
            r#"<p>Hi</p><img src="https://tracker.example/p.gif?u=1&amp;m=2" alt="pixel" width="1">"#,
        );
        assert!(result.remote_images);
        assert!(!result.html.contains(" src="), "{}", result.html);
        assert!(
            result
                .html
                .contains(r#"data-seam-src="https://tracker.example/p.gif?u=1&amp;m=2""#),
            "{}",
            result.html
        );
        assert!(!result.html.contains(BLOCKED_MARKER));
    }

    #[test]
    fn inline_images_stay_and_are_not_remote() {
        let result = sanitise_html(r#"<img src="cid:image001.png@01DA">"#);
        assert!(!result.remote_images);
        assert!(result.html.contains(r#"src="cid:image001.png@01DA""#));
    }

    #[test]
    fn the_sender_cannot_forge_the_blocked_attribute_or_the_marker_in_text() {
        let result = sanitise_html(&format!(
            r#"<img data-seam-src="https://x.example/a.png"><p> src="{BLOCKED_MARKER}x</p>"#
        ));
        assert!(!result.remote_images);
        assert!(!result.html.contains("data-seam-src"), "{}", result.html);
    }

    #[test]
    fn classes_and_ids_are_removed() {
        let html = clean(r#"<div class="fixed inset-0" id="app">x</div>"#);
        assert_eq!(html, "<div>x</div>");
    }

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
