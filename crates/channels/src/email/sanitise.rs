//! Email HTML made safe to show inside the agent app, and HTML-only mail turned into text.
//! An allow-list (ammonia) keeps formatting, tables, lists, links and images; everything that
//! runs code, submits data, loads a remote resource or can be positioned over the app is removed.
//! Pure functions: no IO.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

mod text;

pub use text::html_to_text;

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

#[cfg(test)]
mod tests;
