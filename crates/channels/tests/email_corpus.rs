//! The email corpus: real-world-shaped messages from the common clients, in English, Arabic
//! and Persian, with what a support agent must see for each. Every file must parse without
//! panicking; the table below states what must hold for each.

use std::path::PathBuf;

use seam_channels::email::parse::{Limits, ParsedEmail, parse};
use seam_core::ids::ChannelId;

/// What a message's new text must be.
enum Text {
    Exact(&'static str),
    Contains(&'static str),
}

struct Case {
    file: &'static str,
    text: Text,
    subject: Option<&'static str>,
    /// Some(word): the automated reason must mention it; None: not automated.
    automated: Option<&'static str>,
    /// (status, permanent, recipient, original message id)
    bounce: Option<(&'static str, bool, &'static str, &'static str)>,
    /// (file name, sniffed content type)
    attachments: &'static [(&'static str, &'static str)],
    html: bool,
    remote_images: bool,
}

const fn case(file: &'static str, text: Text) -> Case {
    Case {
        file,
        text,
        subject: None,
        automated: None,
        bounce: None,
        attachments: &[],
        html: false,
        remote_images: false,
    }
}

fn cases() -> Vec<Case> {
    use Text::{Contains, Exact};
    vec![
        Case {
            subject: Some("Re: Password reset"),
            html: true,
            ..case(
                "gmail_reply_en.eml",
                Exact("Thanks, the new password works."),
            )
        },
        case(
            "gmail_reply_wrapped_en.eml",
            Exact("Yes, please send the replacement to my office address."),
        ),
        Case {
            html: true,
            ..case(
                "outlook_desktop_reply_en.eml",
                Exact("The invoice still shows the old amount.\n\nRegards,\nMark"),
            )
        },
        case(
            "outlook_original_message_en.eml",
            Exact("Friday works for us. Please deliver before noon."),
        ),
        Case {
            html: true,
            attachments: &[("IMG_2041.jpg", "image/jpeg")],
            ..case(
                "outlook_web_reply_en.eml",
                Exact("I have attached the photos of the damage."),
            )
        },
        case(
            "apple_mail_reply_en.eml",
            Exact("Great, thank you! Can I change the delivery address?\n\nSent from my iPhone"),
        ),
        case(
            "thunderbird_reply_en.eml",
            Exact("The key was accepted. Thank you for the quick help."),
        ),
        Case {
            subject: Some("رد: تم شحن طلبك"),
            html: true,
            ..case(
                "gmail_reply_ar.eml",
                Exact("شكراً جزيلاً، وصلت الطلبية اليوم."),
            )
        },
        Case {
            subject: Some("RE: الراوتر لا يعمل"),
            ..case(
                "outlook_reply_ar.eml",
                Exact("المشكلة ما زالت قائمة بعد إعادة التشغيل."),
            )
        },
        case(
            "apple_mail_reply_ar.eml",
            Exact("نعم، أرجو استبدال المنتج.\n\n\u{200f}مُرسل من الـ iPhone\u{200f}"),
        ),
        Case {
            subject: Some("Re: تفعيل الحساب"),
            ..case("thunderbird_reply_ar.eml", Exact("تم تفعيل الحساب، شكراً."))
        },
        Case {
            subject: Some("پاسخ: مودم"),
            ..case("gmail_reply_fa.eml", Exact("ممنون، مشکل حل شد."))
        },
        Case {
            subject: Some("تأخر الطلب 9921"),
            ..case(
                "windows1256_new_ar.eml",
                Exact(
                    "السلام عليكم،\n\nطلبت جهازاً قبل أسبوع ولم يصل حتى الآن. رقم الطلب 9921.\n\nمع الشكر\nفاطمة",
                ),
            )
        },
        Case {
            subject: Some("إلغاء الاشتراك"),
            ..case(
                "iso88596_new_ar.eml",
                Exact("مرحبا،\nأريد إلغاء الاشتراك الشهري."),
            )
        },
        Case {
            attachments: &[
                ("invoice-4471.pdf", "application/pdf"),
                ("statements.zip", "application/zip"),
                ("lines.csv", "text/csv"),
            ],
            ..case(
                "mixed_attachments.eml",
                Exact("Please find the invoice and the statement attached."),
            )
        },
        Case {
            subject: Some("Contract – signed"),
            attachments: &[
                ("عقد الخدمة.pdf", "application/pdf"),
                ("توقيع.png", "image/png"),
            ],
            ..case(
                "rfc2231_filenames.eml",
                Exact("The signed contract is attached."),
            )
        },
        Case {
            html: true,
            attachments: &[("error.png", "image/png")],
            ..case(
                "inline_images_related.eml",
                Exact("The app shows this error when I log in:\n[image: error.png]"),
            )
        },
        Case {
            html: true,
            ..case(
                "html_only.eml",
                Exact(
                    "Hello,\n\nIs the 2-year warranty valid outside Brazil?\n\n- Model: X200\n- Serial: 7781 22\n\nObrigado & best regards,\nCarlos",
                ),
            )
        },
        Case {
            html: true,
            ..case("hostile_script.eml", Exact("Please verify your account."))
        },
        Case {
            html: true,
            ..case("hostile_overlay.eml", Contains("Your mailbox is full."))
        },
        Case {
            html: true,
            remote_images: true,
            ..case(
                "remote_images.eml",
                Exact("You left something in your cart."),
            )
        },
        Case {
            automated: Some("Auto-Submitted"),
            ..case(
                "auto_submitted_vacation.eml",
                Exact("I am on holiday until 7 December and will reply then."),
            )
        },
        Case {
            automated: Some("X-Autoreply"),
            ..case(
                "x_autoreply.eml",
                Contains("We will answer within 24 hours."),
            )
        },
        Case {
            automated: Some("X-Autorespond"),
            ..case(
                "x_autorespond.eml",
                Exact("Your message has been received."),
            )
        },
        Case {
            automated: Some("Precedence"),
            ..case(
                "precedence_bulk.eml",
                Exact("Weekly digest: 3 new articles."),
            )
        },
        Case {
            automated: Some("auto_reply"),
            ..case(
                "precedence_auto_reply.eml",
                Exact("I am out of the office."),
            )
        },
        Case {
            automated: Some("X-Loop"),
            ..case(
                "x_loop.eml",
                Exact("Ticket #5521 was created for your request."),
            )
        },
        Case {
            automated: Some("X-Auto-Response-Suppress"),
            ..case("outlook_oof.eml", Contains("out of the office"))
        },
        Case {
            automated: Some("null sender"),
            ..case(
                "null_return_path.eml",
                Exact("Your message was received by the ticket system."),
            )
        },
        Case {
            automated: Some("List-Id"),
            html: true,
            ..case(
                "list_newsletter.eml",
                Exact("This week in widgets\n\nThree new widgets shipped.\n\nUnsubscribe"),
            )
        },
        Case {
            automated: Some("List-Unsubscribe"),
            ..case(
                "list_unsubscribe_marketing.eml",
                Exact("Winter flights are 30% off until Friday."),
            )
        },
        Case {
            automated: Some("junk"),
            ..case("precedence_junk.eml", Exact("Claim your prize today."))
        },
        Case {
            automated: Some("bounce"),
            bounce: Some((
                "5.1.1",
                true,
                "nobody@example.org",
                "conversation/9c1/messages/12@acme.example",
            )),
            ..case("dsn_5_1_1.eml", Contains("could not\nbe delivered"))
        },
        Case {
            automated: Some("bounce"),
            bounce: Some((
                "4.4.7",
                false,
                "pat@contoso.example",
                "conversation/9c2/messages/3@acme.example",
            )),
            ..case("dsn_4_4_7_delayed.eml", Contains("Delivery is delayed"))
        },
        case(
            "no_message_id.eml",
            Exact(
                "Name: Ali Rahimi\nPhone: +98 912 000 0000\nMessage: Please call me about bulk pricing.",
            ),
        ),
        case("long_thread.eml", Exact("OK, let's go with option B then.")),
        Case {
            subject: Some("Problème de connexion 😞"),
            ..case(
                "base64_utf8_text.eml",
                Exact(
                    "Bonjour, je ne peux plus me connecter depuis hier 😞.\nMerci de votre aide.",
                ),
            )
        },
        Case {
            subject: Some("Rückerstattung für طلب Bestellung 8812"),
            ..case(
                "rfc2047_subject.eml",
                Exact("Ich warte noch auf die Rückerstattung."),
            )
        },
        Case {
            attachments: &[("Shipping confirmation.eml", "message/rfc822")],
            ..case(
                "forwarded_rfc822.eml",
                Exact("See the confirmation below; the address is wrong."),
            )
        },
        case("signature_cut.eml", Exact("Are you open on Saturday?")),
        Case {
            html: true,
            ..case("outlook_web_reply_ar.eml", Exact("الخميس مناسب لنا."))
        },
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn parse_file(file: &str) -> ParsedEmail {
    let raw = std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Attributes of every tag in sanitised HTML, lower-cased: `(tag, [(name, value)])`. The
/// sanitiser's output is serialised HTML, so a plain scan is exact.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for piece in html.split('<').skip(1) {
        let inside = piece.split('>').next().unwrap_or_default();
        if inside.starts_with('/') {
            continue;
        }
        let mut words = inside.splitn(2, ' ');
        let name = words.next().unwrap_or_default().to_ascii_lowercase();
        let mut attributes = Vec::new();
        let mut rest = words.next().unwrap_or_default();
        while let Some((attribute, after)) = rest.split_once("=\"") {
            let (value, after) = after.split_once('"').unwrap_or((after, ""));
            attributes.push((
                attribute.trim().to_ascii_lowercase(),
                value.to_ascii_lowercase(),
            ));
            rest = after;
        }
        out.push((name, attributes));
    }
    out
}

/// The display rules every sanitised body must keep.
pub fn assert_safe_html(html: &str, context: &str) {
    for (tag, attributes) in tags(html) {
        assert!(
            !matches!(
                tag.as_str(),
                "script"
                    | "style"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "form"
                    | "input"
                    | "button"
                    | "meta"
                    | "link"
                    | "base"
                    | "svg"
                    | "math"
                    | "textarea"
                    | "select"
            ),
            "{context}: <{tag}> kept in {html}"
        );
        for (name, value) in attributes {
            assert!(
                !name.starts_with("on"),
                "{context}: handler {name} in {html}"
            );
            assert!(
                name != "class" && name != "id",
                "{context}: {name} in {html}"
            );
            if matches!(name.as_str(), "href" | "src") {
                let allowed = ["http:", "https:", "mailto:", "tel:", "cid:"];
                assert!(
                    allowed
                        .iter()
                        .any(|scheme| value.trim().starts_with(scheme)),
                    "{context}: {name}={value} in {html}"
                );
            }
            if name == "src" {
                assert!(
                    value.starts_with("cid:"),
                    "{context}: remote src {value} kept"
                );
            }
            if name == "style" {
                for word in [
                    "position",
                    "z-index",
                    "url(",
                    "expression",
                    "behavior",
                    "-moz-binding",
                ] {
                    assert!(!value.contains(word), "{context}: style {value}");
                }
            }
        }
    }
    let lowered = html.to_ascii_lowercase();
    assert!(!lowered.contains("<script"), "{context}: {html}");
    assert!(!lowered.contains("javascript:"), "{context}: {html}");
    assert!(!lowered.contains("onerror"), "{context}: {html}");
}

#[test]
fn every_corpus_file_is_in_the_table_and_there_are_at_least_32() {
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = cases().iter().map(|case| case.file.to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed);
    assert!(files.len() >= 32, "only {} files", files.len());
}

#[test]
fn every_corpus_message_shows_what_the_agent_must_see() {
    let mut failures = Vec::new();
    for case in cases() {
        let parsed = parse_file(case.file);
        let file = case.file;
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{file}: {what}"));
            }
        };
        match case.text {
            Text::Exact(expected) => check(
                parsed.text == expected,
                format!("text {:?}, expected {expected:?}", parsed.text),
            ),
            Text::Contains(expected) => check(
                parsed.text.contains(expected),
                format!("text {:?} lacks {expected:?}", parsed.text),
            ),
        }
        check(!parsed.text.trim().is_empty(), "empty text".to_owned());
        check(
            !parsed.details.full_text.is_empty(),
            "empty full text".to_owned(),
        );
        if let Some(subject) = case.subject {
            check(
                parsed.details.subject.as_deref() == Some(subject),
                format!("subject {:?}", parsed.details.subject),
            );
        }
        match case.automated {
            Some(word) => check(
                parsed
                    .details
                    .automated
                    .as_deref()
                    .is_some_and(|reason| reason.contains(word)),
                format!("automated {:?}, expected {word}", parsed.details.automated),
            ),
            None => check(
                parsed.details.automated.is_none(),
                format!("automated {:?}", parsed.details.automated),
            ),
        }
        match (case.bounce, &parsed.bounce) {
            (None, None) => {}
            (Some((status, permanent, recipient, id)), Some(bounce)) => {
                check(
                    bounce.status.as_deref() == Some(status),
                    format!("{bounce:?}"),
                );
                check(bounce.permanent == permanent, format!("{bounce:?}"));
                check(
                    bounce.recipient.as_deref() == Some(recipient),
                    format!("{bounce:?}"),
                );
                check(
                    bounce.original_message_ids.first().map(String::as_str) == Some(id),
                    format!("{bounce:?}"),
                );
            }
            (expected, found) => check(false, format!("bounce {found:?}, expected {expected:?}")),
        }
        let attachments: Vec<(&str, &str)> = parsed
            .attachments
            .iter()
            .map(|a| (a.file_name.as_str(), a.content_type.as_str()))
            .collect();
        check(
            attachments == case.attachments,
            format!("attachments {attachments:?}"),
        );
        check(
            parsed.details.html.is_some() == case.html,
            format!("html {:?}", parsed.details.html.is_some()),
        );
        check(
            parsed.details.remote_images == case.remote_images,
            format!("remote_images {}", parsed.details.remote_images),
        );
        if let Some(html) = &parsed.details.html {
            assert_safe_html(html, file);
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn threading_headers_come_without_brackets_and_in_order() {
    let parsed = parse_file("long_thread.eml");
    let expected: Vec<String> = (1..=12)
        .map(|i| format!("thread.{i}@acme.example"))
        .collect();
    assert_eq!(parsed.details.references, expected);
    assert_eq!(parsed.details.in_reply_to, vec!["thread.12@acme.example"]);
    assert_eq!(
        parsed.details.message_id.as_deref(),
        Some("thread.13@ode.example")
    );
    assert!(
        parsed
            .details
            .full_text
            .contains(">>>> I need a quote for 20 units.")
    );
}

#[test]
fn sender_names_decode_from_every_charset() {
    for (file, name) in [
        ("outlook_reply_ar.eml", "خالد منصور"),
        ("gmail_reply_ar.eml", "سارة العتيبي"),
        ("base64_utf8_text.eml", "Renée François"),
        ("rfc2047_subject.eml", "Jörg Müller"),
    ] {
        let parsed = parse_file(file);
        assert_eq!(
            parsed.from.and_then(|from| from.name).as_deref(),
            Some(name),
            "{file}"
        );
    }
}

#[test]
fn inline_images_keep_their_content_id_for_the_html() {
    let parsed = parse_file("inline_images_related.eml");
    let image = &parsed.attachments[0];
    assert!(image.inline);
    assert_eq!(image.content_id.as_deref(), Some("ii_abc123"));
    let html = parsed.details.html.unwrap_or_default();
    assert!(html.contains("src=\"cid:ii_abc123\""), "{html}");
}

#[test]
fn remote_images_are_kept_for_when_the_agent_allows_them() {
    let parsed = parse_file("remote_images.eml");
    let html = parsed.details.html.unwrap_or_default();
    assert!(
        html.contains("data-seam-src=\"https://img.shop.example/logo.png\""),
        "{html}"
    );
    assert!(
        html.contains("data-seam-src=\"http://t.shop.example/open.gif?u=8812&amp;c=44\""),
        "{html}"
    );
    assert!(html.contains("background-color:#ffffff"), "{html}");
}

#[test]
fn the_overlay_mail_loses_everything_that_could_cover_the_app() {
    let parsed = parse_file("hostile_overlay.eml");
    let html = parsed.details.html.unwrap_or_default();
    for word in [
        "position",
        "z-index",
        "evil.example",
        "<form",
        "<input",
        "password",
        "refresh",
    ] {
        assert!(!html.contains(word), "{word} in {html}");
    }
    assert!(html.contains("Your mailbox is full."));
}

#[test]
fn a_message_without_message_id_gets_a_stable_key() {
    let first = parse_file("no_message_id.eml").into_inbound(ChannelId::new(), &[]);
    let again = parse_file("no_message_id.eml").into_inbound(ChannelId::new(), &[]);
    assert!(first.provider_message_id.starts_with("sha256:"));
    assert_eq!(first.provider_message_id, again.provider_message_id);
}

#[test]
fn corpus_messages_become_valid_inbound_messages() {
    for case in cases() {
        let inbound = parse_file(case.file)
            .into_inbound(ChannelId::new(), &["Support@Acme.Example".to_owned()]);
        assert!(
            !inbound.provider_message_id.is_empty() && inbound.provider_message_id.len() <= 255
        );
        assert_eq!(inbound.sender.len(), 1, "{}", case.file);
        assert!(!inbound.text.trim().is_empty());
        assert!(inbound.text.len() <= seam_core::message::MAX_TEXT_BYTES);
        let details = inbound.email.unwrap_or_default();
        assert_eq!(details.recipients, vec!["support@acme.example"]);
    }
}
