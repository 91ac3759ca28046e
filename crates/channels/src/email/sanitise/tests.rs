//! Tests of the HTML sanitiser: hostile markup, overlays, remote images, text extraction.

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
    let mail = clean(r#"<a href="mailto:a@example.com">m</a><a href="tel:+971500000000">t</a>"#);
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
        "<form", "<input", "<button", "<iframe", "<object", "<embed", "<meta", "<base", "<link",
        "evil",
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
