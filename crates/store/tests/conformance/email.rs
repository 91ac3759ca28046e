//! Email threading, bounces and files: which conversation a mail continues (In-Reply-To, the
//! reply token, References with the same subject, the subject tag), machine-sent mail that
//! reopens nothing, bounces that fail the outbound message and flag the address, and files
//! stored with their message and readable only inside their workspace.

use seam_core::{
    channel::{Channel, ChannelKind},
    conversation::{ConversationStatus, ConversationUpdate, update_conversation},
    customer::CustomerIdentity,
    email::{
        self, Bounce, EmailDetails, InboundAttachment, reply_address, subject_tag,
        token_of_recipient,
    },
    identity::{Identity, IdentityKind},
    ids::ChannelId,
    inbound::{InboundMessage, Received, receive_with_files},
    message::{DeliveryStatus, MessageKind},
    outbound::{ChannelChoice, Reply, send_reply},
    ports::{FileStore, Store},
    user::{Actor, Role},
    workspace::Continuity,
};
use seam_store::LocalFiles;

use crate::fixtures::{Harness, Tenant, inbound, now, seconds, tenant};

crate::on_both_backends!(
    a_reply_naming_a_message_in_in_reply_to_continues_its_conversation,
    a_reply_to_the_token_address_without_headers_continues_its_conversation,
    references_thread_only_with_the_same_subject,
    the_subject_tag_threads_when_everything_else_was_stripped,
    a_thread_never_crosses_customers,
    an_auto_reply_is_stored_but_reopens_nothing,
    a_bounce_fails_the_outbound_message_and_flags_the_address,
    replies_go_to_the_address_the_customer_last_wrote_from,
    without_mail_from_them_a_verified_address_is_preferred_to_a_claim,
    files_are_stored_with_their_message_and_read_only_in_their_workspace,
);

fn email_channel(tenant: &Tenant) -> Channel {
    Channel {
        id: ChannelId::new(),
        workspace_id: tenant.workspace.id,
        kind: ChannelKind::Email,
        name: "Support mail".into(),
        config: serde_json::json!({
            "address": "support@acme.example",
            "relay": {"host": "127.0.0.1", "port": 2526, "security": "none"},
        }),
        secret: format!("secret-{}", uuid::Uuid::now_v7()),
        credentials: String::new(),
        created_at: now(),
    }
}

async fn setup(harness: &Harness) -> (Tenant, Channel) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let channel = email_channel(&acme);
    let mut tx = store.begin().await.unwrap();
    tx.insert_channel(&channel).await.unwrap();
    tx.commit().await.unwrap();
    (acme, channel)
}

fn mail(channel: &Channel, from: &str, message_id: &str, subject: &str) -> InboundMessage {
    let mut message = inbound(channel, message_id, Some(from), None);
    message.email = Some(EmailDetails {
        message_id: Some(message_id.to_string()),
        subject: Some(subject.to_string()),
        full_text: message.text.clone(),
        recipients: vec!["support@acme.example".into()],
        ..EmailDetails::default()
    });
    message
}

fn owner(tenant: &Tenant) -> Actor {
    Actor {
        user_id: tenant.owner.id,
        workspace_id: tenant.workspace.id,
        role: Role::Owner,
    }
}

async fn deliver(store: &dyn Store, channel: &Channel, message: InboundMessage) -> Received {
    seam_core::inbound::receive(store, channel, message, now())
        .await
        .unwrap()
}

/// Resolves the conversation long ago, beyond the reopen window, so that only threading can
/// bring a new message back to it.
async fn resolve_long_ago(store: &dyn Store, tenant: &Tenant, received: &Received) {
    let mut tx = store.begin().await.unwrap();
    let mut conversation = tx
        .get_conversation(tenant.workspace.id, received.conversation_id)
        .await
        .unwrap()
        .unwrap();
    conversation.status = ConversationStatus::Resolved;
    conversation.resolved_at = Some(now() - seconds(30 * 86_400));
    tx.update_conversation(&conversation).await.unwrap();
    tx.commit().await.unwrap();
}

async fn status_of(store: &dyn Store, tenant: &Tenant, received: &Received) -> ConversationStatus {
    store
        .get_conversation(tenant.workspace.id, received.conversation_id)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn a_reply_naming_a_message_in_in_reply_to_continues_its_conversation(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let first = deliver(
        store,
        &channel,
        mail(
            &channel,
            "layla@example.com",
            "m1@mail.example",
            "Where is my order?",
        ),
    )
    .await;
    resolve_long_ago(store, &acme, &first).await;

    let mut reply = mail(
        &channel,
        "layla@example.com",
        "m2@mail.example",
        "Re: Where is my order?",
    );
    reply.email.as_mut().unwrap().in_reply_to = vec!["m1@mail.example".into()];
    let second = deliver(store, &channel, reply).await;
    assert_eq!(second.conversation_id, first.conversation_id);
    assert_eq!(
        status_of(store, &acme, &second).await,
        ConversationStatus::Open,
        "a reply reopens its thread"
    );

    // Without threading headers the same message would have started a new conversation.
    let unthreaded = deliver(
        store,
        &channel,
        mail(
            &channel,
            "layla@example.com",
            "m3@mail.example",
            "Another question",
        ),
    )
    .await;
    assert_eq!(
        unthreaded.conversation_id, first.conversation_id,
        "still open: continuity"
    );

    let stored = store
        .message_emails(acme.workspace.id, &[first.message_id, second.message_id])
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    let first_email = stored
        .iter()
        .find(|e| e.message_id == first.message_id)
        .unwrap();
    assert_eq!(first_email.email_message_id, "m1@mail.example");
    assert_eq!(
        first_email.details.subject.as_deref(),
        Some("Where is my order?")
    );
}

async fn a_reply_to_the_token_address_without_headers_continues_its_conversation(
    harness: &mut Harness,
) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let first = deliver(
        store,
        &channel,
        mail(&channel, "layla@example.com", "t1@mail.example", "Refund"),
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    let thread = tx
        .conversation_email(acme.workspace.id, first.conversation_id)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let token = thread.reply_token.unwrap(); // the first mail starts a thread
    assert_eq!(thread.subject.as_deref(), Some("Refund"));
    resolve_long_ago(store, &acme, &first).await;

    let mut reply = mail(
        &channel,
        "layla@example.com",
        "t2@mail.example",
        "no subject here",
    );
    let address = reply_address("support@acme.example", &token);
    assert_eq!(
        token_of_recipient(&address).as_deref(),
        Some(token.as_str())
    );
    reply.email.as_mut().unwrap().recipients = vec![address];
    let second = deliver(store, &channel, reply).await;
    assert_eq!(second.conversation_id, first.conversation_id);

    // A made-up token threads nowhere: the message starts a new conversation.
    resolve_long_ago(store, &acme, &first).await;
    let mut guess = mail(&channel, "layla@example.com", "t3@mail.example", "hello");
    guess.email.as_mut().unwrap().recipients = vec!["support+abcdefghijkm@acme.example".into()];
    let third = deliver(store, &channel, guess).await;
    assert_ne!(third.conversation_id, first.conversation_id);
}

async fn references_thread_only_with_the_same_subject(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let first = deliver(
        store,
        &channel,
        mail(
            &channel,
            "layla@example.com",
            "r1@mail.example",
            "Broken zipper",
        ),
    )
    .await;
    resolve_long_ago(store, &acme, &first).await;

    // A forward of the old thread, about something else: not a continuation.
    let mut forward = mail(
        &channel,
        "layla@example.com",
        "r2@mail.example",
        "Fwd: New order",
    );
    forward.email.as_mut().unwrap().references = vec!["r1@mail.example".into()];
    let forwarded = deliver(store, &channel, forward).await;
    assert_ne!(forwarded.conversation_id, first.conversation_id);

    resolve_long_ago(store, &acme, &forwarded).await;
    let mut reply = mail(
        &channel,
        "layla@example.com",
        "r3@mail.example",
        "RE: Broken  zipper",
    );
    reply.email.as_mut().unwrap().references = vec!["r1@mail.example".into()];
    let replied = deliver(store, &channel, reply).await;
    assert_eq!(replied.conversation_id, first.conversation_id);
}

async fn the_subject_tag_threads_when_everything_else_was_stripped(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let first = deliver(
        store,
        &channel,
        mail(&channel, "layla@example.com", "s1@mail.example", "Invoice"),
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    let token = tx
        .conversation_email(acme.workspace.id, first.conversation_id)
        .await
        .unwrap()
        .reply_token
        .unwrap();
    tx.rollback().await.unwrap();
    resolve_long_ago(store, &acme, &first).await;
    let subject = format!("Re: Invoice {}", subject_tag(&token));
    let second = deliver(
        store,
        &channel,
        mail(&channel, "layla@example.com", "s2@mail.example", &subject),
    )
    .await;
    assert_eq!(second.conversation_id, first.conversation_id);
}

async fn a_thread_never_crosses_customers(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let layla = deliver(
        store,
        &channel,
        mail(
            &channel,
            "layla@example.com",
            "x1@mail.example",
            "Private matter",
        ),
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    let token = tx
        .conversation_email(acme.workspace.id, layla.conversation_id)
        .await
        .unwrap()
        .reply_token
        .unwrap();
    tx.rollback().await.unwrap();

    let mut intruder = mail(
        &channel,
        "omid@example.net",
        "x2@mail.example",
        "Re: Private matter",
    );
    {
        let details = intruder.email.as_mut().unwrap();
        details.in_reply_to = vec!["x1@mail.example".into()];
        details.recipients = vec![reply_address("support@acme.example", &token)];
    }
    let omid = deliver(store, &channel, intruder).await;
    assert_ne!(omid.customer_id, layla.customer_id);
    assert_ne!(omid.conversation_id, layla.conversation_id);
}

async fn an_auto_reply_is_stored_but_reopens_nothing(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let first = deliver(
        store,
        &channel,
        mail(&channel, "layla@example.com", "a1@mail.example", "Question"),
    )
    .await;
    update_conversation(
        store,
        &owner(&acme),
        first.conversation_id,
        ConversationUpdate {
            status: Some(ConversationStatus::Resolved),
            ..ConversationUpdate::default()
        },
        now(),
    )
    .await
    .unwrap();
    let before = store
        .get_conversation(acme.workspace.id, first.conversation_id)
        .await
        .unwrap()
        .unwrap();

    let mut vacation = mail(
        &channel,
        "layla@example.com",
        "a2@mail.example",
        "Out of office",
    );
    {
        let details = vacation.email.as_mut().unwrap();
        details.in_reply_to = vec!["a1@mail.example".into()];
        details.automated = Some("Auto-Submitted: auto-replied".into());
    }
    let auto = deliver(store, &channel, vacation).await;
    assert_eq!(auto.conversation_id, first.conversation_id);
    let after = store
        .get_conversation(acme.workspace.id, first.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, ConversationStatus::Resolved);
    assert_eq!(after.waiting_since, before.waiting_since);
    assert_eq!(after.last_activity_at, before.last_activity_at);
    let stored = store
        .get_message(acme.workspace.id, auto.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, MessageKind::Inbound, "the auto-reply is kept");

    // From a stranger, threading nowhere: kept in a conversation that waits in no queue.
    let mut stranger = mail(
        &channel,
        "noreply@shop.example",
        "a3@mail.example",
        "Receipt",
    );
    stranger.email.as_mut().unwrap().automated = Some("Precedence: bulk".into());
    let quiet = deliver(store, &channel, stranger).await;
    assert_eq!(
        status_of(store, &acme, &quiet).await,
        ConversationStatus::Resolved
    );
}

async fn a_bounce_fails_the_outbound_message_and_flags_the_address(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let first = deliver(
        store,
        &channel,
        mail(&channel, "layla@example.com", "b1@mail.example", "Hello"),
    )
    .await;
    let reply = send_reply(
        store,
        &owner(&acme),
        first.conversation_id,
        Reply {
            text: "We are on it".into(),
            channel: ChannelChoice::Auto,
            private: false,
            template: None,
            buttons: Vec::new(),
            attachments: Vec::new(),
        },
        now(),
    )
    .await
    .unwrap();
    assert_eq!(reply.identity.as_deref(), Some("layla@example.com"));
    let sent_id = format!("seam.{}@acme.example", reply.id);
    let mut tx = store.begin().await.unwrap();
    tx.insert_message_email(&email::MessageEmail {
        message_id: reply.id,
        workspace_id: acme.workspace.id,
        email_message_id: sent_id.clone(),
        details: EmailDetails::default(),
        created_at: now(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // A transient report changes nothing.
    let soft = Bounce {
        original_message_ids: vec![sent_id.clone()],
        recipient: Some("layla@example.com".into()),
        status: Some("4.2.2".into()),
        diagnostic: Some("mailbox full".into()),
        permanent: false,
    };
    let outcome = email::record_bounce(store, acme.workspace.id, &soft, now())
        .await
        .unwrap();
    assert!(outcome.failed.is_empty() && !outcome.flagged);

    let hard = Bounce {
        status: Some("5.1.1".into()),
        diagnostic: Some("user unknown".into()),
        permanent: true,
        ..soft
    };
    let outcome = email::record_bounce(store, acme.workspace.id, &hard, now())
        .await
        .unwrap();
    assert_eq!(outcome.failed, vec![reply.id]);
    assert!(outcome.flagged);
    let failed = store
        .get_message(acme.workspace.id, reply.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.delivery_status, Some(DeliveryStatus::Failed));
    assert!(failed.delivery_error.unwrap().contains("5.1.1"));

    // The bouncing address is no longer written to.
    let refused = send_reply(
        store,
        &owner(&acme),
        first.conversation_id,
        Reply {
            text: "Are you there?".into(),
            channel: ChannelChoice::Explicit(channel.id),
            private: false,
            template: None,
            buttons: Vec::new(),
            attachments: Vec::new(),
        },
        now(),
    )
    .await;
    assert!(refused.is_err(), "a reply to a bouncing address is refused");
}

async fn replies_go_to_the_address_the_customer_last_wrote_from(harness: &mut Harness) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    // One customer with two addresses (the API channel vouches for both).
    let mut both = inbound(&acme.channel, "api-1", Some("layla@home.example"), None);
    both.sender.push(seam_core::inbound::RawIdentity {
        kind: IdentityKind::Email,
        value: "layla@work.example".into(),
        field: "from.email".into(),
        verified: true,
    });
    let first = deliver(store, &acme.channel, both).await;
    let by_mail = deliver(
        store,
        &channel,
        mail(&channel, "layla@home.example", "h1@mail.example", "Hi"),
    )
    .await;
    assert_eq!(by_mail.customer_id, first.customer_id);
    let reply = send_reply(
        store,
        &owner(&acme),
        by_mail.conversation_id,
        Reply {
            text: "Hello".into(),
            channel: ChannelChoice::Explicit(channel.id),
            private: false,
            template: None,
            buttons: Vec::new(),
            attachments: Vec::new(),
        },
        now(),
    )
    .await
    .unwrap();
    assert_eq!(reply.identity.as_deref(), Some("layla@home.example"));
}

async fn without_mail_from_them_a_verified_address_is_preferred_to_a_claim(harness: &mut Harness) {
    let store = harness.store();
    let (acme, _channel) = setup(harness).await;
    // Known by phone only; then two addresses, the claimed one newer.
    let first = deliver(
        store,
        &acme.channel,
        inbound(&acme.channel, "p-1", None, Some("+16502530000")),
    )
    .await;
    let address = |value: &str, verified: bool, age: i64| CustomerIdentity {
        workspace_id: acme.workspace.id,
        customer_id: first.customer_id,
        identity: Identity::from_stored(IdentityKind::Email, value.into()),
        verified,
        source: "agent".into(),
        created_at: now() - seconds(age),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_identity(&address("proven@example.com", true, 60))
        .await
        .unwrap();
    tx.insert_identity(&address("claimed@example.com", false, 0))
        .await
        .unwrap();
    let chosen = tx
        .deliverable_email_of_customer(acme.workspace.id, first.customer_id)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(chosen.as_deref(), Some("proven@example.com"));
}

async fn files_are_stored_with_their_message_and_read_only_in_their_workspace(
    harness: &mut Harness,
) {
    let store = harness.store();
    let (acme, channel) = setup(harness).await;
    let globex = tenant(store, "Globex", Continuity::Customer).await;
    let dir = tempfile::tempdir().unwrap();
    let files = LocalFiles::new(dir.path());
    let mut message = mail(&channel, "layla@example.com", "f1@mail.example", "Photo");
    message.attachments = vec![InboundAttachment {
        file_name: "../receipt.png".into(),
        content_type: "image/png".into(),
        content_id: Some("img1@mail.example".into()),
        inline: true,
        bytes: b"\x89PNG fake".to_vec(),
    }];
    // Without a file store, a message with files is refused rather than stored without them.
    assert!(
        seam_core::inbound::receive(store, &channel, message.clone(), now())
            .await
            .is_err()
    );
    let received = receive_with_files(store, Some(&files), &channel, message, now())
        .await
        .unwrap();
    let stored = store
        .attachments_of_messages(acme.workspace.id, &[received.message_id])
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].file_name, "receipt.png");
    assert_eq!(stored[0].content_id.as_deref(), Some("img1@mail.example"));
    let (attachment, bytes) = email::get_attachment(store, &files, &owner(&acme), stored[0].id)
        .await
        .unwrap();
    assert_eq!(attachment.size_bytes, 9);
    assert_eq!(bytes, b"\x89PNG fake");
    assert!(
        files
            .get(acme.workspace.id, &attachment.sha256)
            .await
            .unwrap()
            .is_some()
    );
    let stranger = Actor {
        user_id: globex.owner.id,
        workspace_id: globex.workspace.id,
        role: Role::Owner,
    };
    assert!(matches!(
        email::get_attachment(store, &files, &stranger, stored[0].id).await,
        Err(seam_core::Error::NotFound)
    ));
}
