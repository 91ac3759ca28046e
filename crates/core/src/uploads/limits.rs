//! Which channels carry a reply's files, of which types and sizes: each provider's documented
//! limits for files it fetches by link, checked when the reply is queued so that the agent
//! hears the reason at once rather than from a failed delivery.

use super::{MIB, Upload};
use crate::{
    Error, Result,
    channel::{Channel, ChannelKind},
};

/// Whether a reply on `channel` can carry these files with `text`, by the provider's
/// documented limits for files fetched by link; the reason when it cannot.
pub fn check_files(channel: &Channel, text: &str, files: &[Upload]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let refused = |reason: String| Err(Error::Refused { reason });
    let cannot = match channel.kind {
        ChannelKind::Email => Some("email replies cannot carry files in this version"),
        ChannelKind::Api => Some("API channel webhooks carry text only"),
        ChannelKind::Webchat => Some("website chat replies cannot carry files in this version"),
        ChannelKind::Voice => Some("voice channels carry no files"),
        _ => None,
    };
    if let Some(cannot) = cannot {
        return refused(format!(
            "{cannot}: send the files on a messaging channel, or as a note for agents \
             (channel {})",
            channel.name
        ));
    }
    let through_twilio = channel.kind == ChannelKind::Whatsapp
        && channel
            .config
            .get("provider")
            .and_then(|value| value.as_str())
            == Some("twilio");
    // Twilio: "WhatsApp supports one media item per message"; MMS at most 5 MB in all.
    if through_twilio && files.len() > 1 {
        return refused("WhatsApp through Twilio carries one file per message".into());
    }
    // LINE: "Max: 5" message objects per send; the text is one of them.
    let line_messages = files.len() + usize::from(!text.trim().is_empty());
    if channel.kind == ChannelKind::Line && line_messages > 5 {
        return refused(
            "LINE sends at most 5 messages at once: the text and 4 images, or 5 \
             images without a text"
                .into(),
        );
    }
    let total: i64 = files.iter().map(|file| file.size_bytes).sum();
    if channel.kind == ChannelKind::Sms && total > 5 * MIB {
        return refused(format!(
            "an MMS carries at most 5 MB of files in all; these have {}",
            megabytes(total)
        ));
    }
    for file in files {
        if let Some(reason) = file_refusal(channel.kind, through_twilio, file) {
            return refused(reason);
        }
    }
    Ok(())
}

/// Why one file cannot go on a channel of `kind`, if it cannot.
fn file_refusal(kind: ChannelKind, through_twilio: bool, file: &Upload) -> Option<String> {
    let content_type = file.content_type.as_str();
    let jpeg_or_png = matches!(content_type, "image/jpeg" | "image/png");
    let image = content_type.starts_with("image/");
    let video_or_audio = content_type.starts_with("video/") || content_type.starts_with("audio/");
    let (limit, what) = match kind {
        ChannelKind::Whatsapp if through_twilio => (16, "a file"),
        // WhatsApp Cloud API, "Supported media types".
        ChannelKind::Whatsapp if jpeg_or_png => (5, "an image"),
        ChannelKind::Whatsapp if video_or_audio => (16, "a video or audio file"),
        ChannelKind::Whatsapp => (100, "a document"),
        // Instagram Messaging: images up to 8 MB, other attachments up to 25 MB.
        ChannelKind::Instagram if image => (8, "an image"),
        ChannelKind::Instagram | ChannelKind::Messenger => (25, "a file"),
        // Bot API: by URL, photos up to 5 MB; sendDocument works for GIF, PDF and ZIP only.
        ChannelKind::Telegram if image && content_type != "image/gif" => (5, "a photo"),
        ChannelKind::Telegram
            if matches!(
                content_type,
                "application/pdf" | "application/zip" | "image/gif"
            ) =>
        {
            (20, "a file")
        }
        ChannelKind::Telegram => {
            return Some(format!(
                "Telegram fetches only photos and PDF, ZIP or GIF files by link; {} is {content_type}",
                file.file_name
            ));
        }
        // LINE image messages: JPEG or PNG; the same link is the preview, which LINE limits
        // to 1 MB. Other files have no message type there.
        ChannelKind::Line if jpeg_or_png => (1, "an image"),
        ChannelKind::Line => {
            return Some(format!(
                "LINE carries JPEG and PNG images only; {} is {content_type}",
                file.file_name
            ));
        }
        ChannelKind::Sms => (5, "a file"),
        _ => return None,
    };
    (file.size_bytes > limit * MIB).then(|| {
        format!(
            "{} takes {what} of at most {limit} MB; {} has {}",
            kind.as_str(),
            file.file_name,
            megabytes(file.size_bytes)
        )
    })
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / MIB as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{UploadId, UserId, WorkspaceId};

    fn file(name: &str, content_type: &str, size_bytes: i64) -> Upload {
        Upload {
            id: UploadId::new(),
            workspace_id: WorkspaceId::new(),
            user_id: UserId::new(),
            sha256: "0".repeat(64),
            file_name: name.into(),
            content_type: content_type.into(),
            size_bytes,
            created_at: chrono::Utc::now(),
        }
    }

    fn channel(kind: ChannelKind, config: serde_json::Value) -> Channel {
        Channel {
            id: crate::ids::ChannelId::new(),
            workspace_id: WorkspaceId::new(),
            kind,
            name: format!("Acme on {}", kind.as_str()),
            config,
            secret: String::new(),
            credentials: String::new(),
            created_at: chrono::Utc::now(),
        }
    }

    fn refusal(result: Result<()>) -> String {
        match result {
            Err(Error::Refused { reason }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn email_api_and_website_chat_replies_refuse_files_with_a_reason() {
        let pdf = [file("invoice.pdf", "application/pdf", 1000)];
        for kind in [ChannelKind::Email, ChannelKind::Api, ChannelKind::Webchat] {
            let reason = refusal(check_files(&channel(kind, serde_json::json!({})), "", &pdf));
            assert!(reason.contains("messaging channel"), "{reason}");
        }
        assert!(check_files(&channel(ChannelKind::Email, serde_json::json!({})), "", &[]).is_ok());
    }

    #[test]
    fn each_provider_takes_the_files_it_documents() {
        let whatsapp = channel(ChannelKind::Whatsapp, serde_json::json!({}));
        assert!(check_files(&whatsapp, "", &[file("a.pdf", "application/pdf", 20 * MIB)]).is_ok());
        let reason = refusal(check_files(
            &whatsapp,
            "",
            &[file("big.png", "image/png", 6 * MIB)],
        ));
        assert!(
            reason.contains("5 MB") && reason.contains("big.png"),
            "{reason}"
        );

        let twilio = channel(
            ChannelKind::Whatsapp,
            serde_json::json!({"provider": "twilio"}),
        );
        let two = [
            file("a.pdf", "application/pdf", 10),
            file("b.pdf", "application/pdf", 10),
        ];
        assert!(refusal(check_files(&twilio, "", &two)).contains("one file"));

        let telegram = channel(ChannelKind::Telegram, serde_json::json!({}));
        assert!(check_files(&telegram, "", &[file("a.pdf", "application/pdf", MIB)]).is_ok());
        let reason = refusal(check_files(
            &telegram,
            "",
            &[file("a.docx", "application/msword", MIB)],
        ));
        assert!(reason.contains("PDF, ZIP or GIF"), "{reason}");

        let line = channel(ChannelKind::Line, serde_json::json!({}));
        assert!(check_files(&line, "", &[file("a.jpg", "image/jpeg", MIB / 2)]).is_ok());
        let five: Vec<Upload> = (0..5)
            .map(|index| file(&format!("{index}.png"), "image/png", 10))
            .collect();
        assert!(check_files(&line, "", &five).is_ok());
        assert!(refusal(check_files(&line, "Photos", &five)).contains("at most 5"));
        assert!(
            refusal(check_files(
                &line,
                "",
                &[file("a.pdf", "application/pdf", 10)]
            ))
            .contains("LINE")
        );

        let sms = channel(ChannelKind::Sms, serde_json::json!({}));
        let three = [
            file("a.jpg", "image/jpeg", 2 * MIB),
            file("b.jpg", "image/jpeg", 2 * MIB),
            file("c.jpg", "image/jpeg", 2 * MIB),
        ];
        assert!(refusal(check_files(&sms, "", &three)).contains("in all"));
        assert!(check_files(&sms, "", &three[..2]).is_ok());
    }
}
