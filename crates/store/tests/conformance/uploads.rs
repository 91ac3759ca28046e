//! Files agents send: an upload is stored with its bytes and read back only in its workspace; a
//! reply naming uploads stores them as the new message's attachments and queues their ids for
//! the sender; an upload of another workspace, or files on a channel that cannot carry them,
//! are refused with nothing stored; a note keeps its files.

use seam_core::{
    Error,
    channel::{Channel, ChannelKind},
    identity::IdentityKind,
    ids::{ChannelId, ConversationId, UploadId},
    inbound::{InboundMessage, RawIdentity},
    jobs::kind,
    message::MessageKind,
    outbound::{ChannelChoice, Reply, send_reply},
    ports::{FileStore, Store},
    uploads::{NewUpload, Upload, upload},
    workspace::Continuity,
};
use seam_store::LocalFiles;

use crate::fixtures::{Harness, Tenant, api_channel, now, seconds, tenant};

crate::on_both_backends!(
    an_upload_is_stored_and_read_back_only_in_its_workspace,
    a_whatsapp_reply_with_files_stores_them_on_the_message_and_queues_their_ids,
    files_are_refused_where_the_channel_cannot_carry_them_and_kept_on_a_note,
);

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

async fn upload_pdf(store: &dyn Store, files: &dyn FileStore, tenant: &Tenant) -> Upload {
    let file = NewUpload::parse(
        Some("invoice 1042.pdf"),
        Some("application/pdf"),
        PDF.to_vec(),
    )
    .unwrap();
    upload(store, files, &tenant.owner.actor(), file, now())
        .await
        .unwrap()
}

/// A WhatsApp channel of the tenant, and a conversation its customer opened there an hour ago.
async fn whatsapp_conversation(store: &dyn Store, tenant: &Tenant) -> (Channel, ConversationId) {
    let channel = Channel {
        id: ChannelId::new(),
        kind: ChannelKind::Whatsapp,
        name: "WhatsApp".into(),
        config: serde_json::json!({"phone_number_id": "106540352242922"}),
        ..api_channel(tenant.workspace.id, "WhatsApp")
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_channel(&channel).await.unwrap();
    tx.commit().await.unwrap();
    let message = InboundMessage {
        channel_id: channel.id,
        provider_message_id: "wamid.files-1".into(),
        sender: vec![RawIdentity {
            kind: IdentityKind::Whatsapp,
            value: "16502530000".into(),
            field: "from".into(),
            verified: true,
        }],
        sender_name: Some("Layla".into()),
        text: "Can I have the invoice?".into(),
        sent_at: Some(now() - seconds(3600)),
        email: None,
        attachments: Vec::new(),
    };
    let received = seam_core::inbound::receive(store, &channel, message, now())
        .await
        .unwrap();
    (channel, received.conversation_id)
}

fn with_files(channel: ChannelChoice, text: &str, attachments: &[UploadId]) -> Reply {
    Reply {
        channel,
        attachments: attachments.to_vec(),
        ..Reply::text(text)
    }
}

async fn an_upload_is_stored_and_read_back_only_in_its_workspace(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let globex = tenant(store, "Globex", Continuity::Customer).await;
    let dir = tempfile::tempdir().unwrap();
    let files = LocalFiles::new(dir.path());

    let stored = upload_pdf(store, &files, &acme).await;

    assert_eq!(stored.file_name, "invoice 1042.pdf");
    assert_eq!(stored.content_type, "application/pdf");
    assert_eq!(stored.size_bytes, PDF.len() as i64);
    assert_eq!(stored.user_id, acme.owner.id);
    assert_eq!(
        files
            .get(acme.workspace.id, &stored.sha256)
            .await
            .unwrap()
            .as_deref(),
        Some(PDF)
    );
    let mut tx = store.begin().await.unwrap();
    let unknown = UploadId::new();
    assert_eq!(
        tx.uploads(acme.workspace.id, &[stored.id, unknown])
            .await
            .unwrap(),
        vec![stored.clone()]
    );
    assert!(
        tx.uploads(globex.workspace.id, &[stored.id])
            .await
            .unwrap()
            .is_empty()
    );
    tx.rollback().await.unwrap();
}

async fn a_whatsapp_reply_with_files_stores_them_on_the_message_and_queues_their_ids(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let globex = tenant(store, "Globex", Continuity::Customer).await;
    let dir = tempfile::tempdir().unwrap();
    let files = LocalFiles::new(dir.path());
    let (whatsapp, conversation) = whatsapp_conversation(store, &acme).await;
    let invoice = upload_pdf(store, &files, &acme).await;
    let foreign = upload_pdf(store, &files, &globex).await;
    let on_whatsapp = ChannelChoice::Explicit(whatsapp.id);

    // Another workspace's upload: invalid, naming its place, and nothing is stored.
    let refused = send_reply(
        store,
        &acme.owner.actor(),
        conversation,
        with_files(on_whatsapp, "Here it is", &[invoice.id, foreign.id]),
        now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, Error::Invalid { field, .. } if field == "attachments[1]"),
        "{refused:?}"
    );
    let page = store
        .list_messages(acme.workspace.id, conversation, None, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1, "only the customer's message");

    let at = now();
    let reply = send_reply(
        store,
        &acme.owner.actor(),
        conversation,
        with_files(on_whatsapp, "", &[invoice.id]),
        at,
    )
    .await
    .unwrap();

    assert_eq!(reply.kind, MessageKind::Outbound);
    assert_eq!(reply.text, "", "files may go without a text");
    let attachments = store
        .attachments_of_messages(acme.workspace.id, &[reply.id])
        .await
        .unwrap();
    assert_eq!(attachments.len(), 1);
    let attachment = &attachments[0];
    assert_eq!(attachment.sha256, invoice.sha256);
    assert_eq!(attachment.file_name, "invoice 1042.pdf");
    assert_eq!(attachment.content_type, "application/pdf");
    assert_eq!(attachment.size_bytes, invoice.size_bytes);
    assert_eq!(
        store.find_attachment(attachment.id).await.unwrap().as_ref(),
        Some(attachment),
        "a signed media link finds the attachment by its id alone"
    );
    let jobs = store
        .claim_jobs(at + seconds(1), at + seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, kind::DELIVER_MESSAGE);
    assert_eq!(
        jobs[0].payload,
        serde_json::json!({
            "message_id": reply.id,
            "to": "16502530000",
            "media": [{
                "attachment_id": attachment.id,
                "content_type": "application/pdf",
                "file_name": "invoice 1042.pdf",
            }],
        })
    );
}

async fn files_are_refused_where_the_channel_cannot_carry_them_and_kept_on_a_note(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let dir = tempfile::tempdir().unwrap();
    let files = LocalFiles::new(dir.path());
    let (_, conversation) = whatsapp_conversation(store, &acme).await;
    let invoice = upload_pdf(store, &files, &acme).await;

    let refused = send_reply(
        store,
        &acme.owner.actor(),
        conversation,
        with_files(
            ChannelChoice::Explicit(acme.channel.id),
            "Here it is",
            &[invoice.id],
        ),
        now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, Error::Refused { reason } if reason.contains("text only")),
        "{refused:?}"
    );

    let at = now();
    let note = send_reply(
        store,
        &acme.owner.actor(),
        conversation,
        Reply {
            private: true,
            ..with_files(ChannelChoice::Auto, "The invoice we sent", &[invoice.id])
        },
        at,
    )
    .await
    .unwrap();
    assert_eq!(note.kind, MessageKind::Note);
    let attachments = store
        .attachments_of_messages(acme.workspace.id, &[note.id])
        .await
        .unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].sha256, invoice.sha256);
    assert!(
        store
            .claim_jobs(at + seconds(1), at + seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "a note is never delivered"
    );
}
