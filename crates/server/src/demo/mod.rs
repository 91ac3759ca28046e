//! `seam demo`: seeds a workspace with users, channels and about fifty customers whose
//! conversations cross channels, in English, Arabic and Persian. Everything goes through the
//! same use cases as live traffic, so the demo shows what Seam really does.

mod people;

use std::net::SocketAddr;

use anyhow::anyhow;
use chrono::{Duration, Utc};
use seam_core::{
    channel::{Channel, ChannelKind},
    conversation::{ConversationStatus, ConversationUpdate, Priority},
    identity::IdentityKind,
    ids::ChannelId,
    inbound::{InboundMessage, RawIdentity, receive},
    outbound::{ChannelChoice, Reply, send_reply},
    ports::Store,
    user::{Language, Role, User, create_user},
    workspace::ensure_workspace,
};

use people::{PEOPLE, labels_for, note_for};

pub const DEMO_WORKSPACE: &str = "Seam Demo";
pub const OWNER_EMAIL: &str = "admin@example.com";

pub struct Seeded {
    /// The owner's password when this run chose it; `None` when the demo existed already.
    generated_password: Option<String>,
    created: bool,
    customers: usize,
}

impl Seeded {
    pub fn print_instructions(&self, addr: SocketAddr) {
        println!(
            "demo workspace \"{DEMO_WORKSPACE}\": {} customers",
            self.customers
        );
        println!("log in as {OWNER_EMAIL}: POST http://{addr}/api/v1/auth/login");
        match (&self.generated_password, self.created) {
            (Some(password), _) => {
                println!("generated password: {password} (set SEAM_ADMIN_PASSWORD to choose one)")
            }
            (None, true) => println!("password: the value of SEAM_ADMIN_PASSWORD"),
            (None, false) => {
                println!("(already seeded earlier; the password is the one chosen then)")
            }
        }
        println!("agents: sara@example.com, omar@example.com, emma@example.com (same password)");
    }
}

pub async fn seed(store: &dyn Store) -> anyhow::Result<Seeded> {
    let now = Utc::now();
    let existing = store.list_workspaces().await.map_err(|e| anyhow!("{e}"))?;
    if existing
        .iter()
        .any(|workspace| workspace.name == DEMO_WORKSPACE)
    {
        return Ok(Seeded {
            generated_password: None,
            created: false,
            customers: PEOPLE.len(),
        });
    }
    let (password, generated) = match std::env::var("SEAM_ADMIN_PASSWORD") {
        Ok(password) if !password.is_empty() => (password, false),
        _ => (seam_core::auth::random_secret()[..16].to_string(), true),
    };
    let fail = |error: seam_core::Error| anyhow!("seeding the demo: {error}");
    let workspace = ensure_workspace(store, DEMO_WORKSPACE, "SA", now)
        .await
        .map_err(fail)?;
    let owner = create_user(
        store,
        workspace.id,
        OWNER_EMAIL,
        "Demo Owner",
        Role::Owner,
        &password,
        now,
    )
    .await
    .map_err(fail)?;
    let mut agents: Vec<User> = Vec::new();
    for (email, name, role) in [
        ("sara@example.com", "Sara Ahmadi", Role::Agent),
        ("omar@example.com", "Omar Haddad", Role::Supervisor),
        ("emma@example.com", "Emma Clark", Role::Agent),
    ] {
        agents.push(
            create_user(store, workspace.id, email, name, role, &password, now)
                .await
                .map_err(fail)?,
        );
    }
    let actor = owner.actor();
    // A business in Riyadh serving customers in Arabic, Persian and English.
    seam_core::workspace::update_workspace(
        store,
        &actor,
        seam_core::workspace::WorkspaceUpdate {
            time_zone: Some("Asia/Riyadh".into()),
            languages: Some(vec![Language::En, Language::Ar, Language::Fa]),
            ..Default::default()
        },
    )
    .await
    .map_err(fail)?;
    let api = seam_core::channel::create_channel(
        store,
        &actor,
        "api",
        "Order system (API)",
        &serde_json::Value::Null,
        now,
    )
    .await
    .map_err(fail)?
    .channel;
    // Website chat for pages served from this machine, and a mailbox that takes mail on the
    // SMTP listener (it has no relay, so replies by email are refused with that reason until
    // one is set). WhatsApp carries the seeded history only.
    let webchat = seam_core::channel::create_channel(
        store,
        &actor,
        "webchat",
        "Website chat",
        &serde_json::json!({
            "allowed_origins": ["http://127.0.0.1:8080", "http://localhost:8080"],
            "greeting": "Hi! How can we help?",
            "pre_chat_form": true,
        }),
        now,
    )
    .await
    .map_err(fail)?
    .channel;
    let email = seam_core::channel::create_channel(
        store,
        &actor,
        "email",
        "Support email",
        &serde_json::json!({ "address": "support@demo.example", "from_name": "Demo Support" }),
        now,
    )
    .await
    .map_err(fail)?
    .channel;
    let whatsapp = Channel {
        id: ChannelId::new(),
        workspace_id: workspace.id,
        kind: ChannelKind::Whatsapp,
        name: "WhatsApp".into(),
        config: serde_json::json!({ "demo": true }),
        secret: seam_core::auth::random_secret(),
        credentials: String::new(),
        created_at: now,
    };
    let mut tx = store.begin().await.map_err(fail)?;
    tx.insert_channel(&whatsapp).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    let history_channels = [webchat, whatsapp, email];
    let [webchat, whatsapp, email] = [
        &history_channels[0],
        &history_channels[1],
        &history_channels[2],
    ];

    for (index, person) in PEOPLE.iter().enumerate() {
        let start = now
            - Duration::hours(2 * (PEOPLE.len() - index) as i64)
            - Duration::days((index % 5) as i64);
        let route: [(&Channel, Vec<RawIdentity>); 3] = [
            (
                webchat,
                vec![
                    raw(IdentityKind::Email, person.email),
                    raw(IdentityKind::Phone, person.phone),
                ],
            ),
            (whatsapp, vec![raw(IdentityKind::Phone, person.phone)]),
            (
                if index % 4 == 0 { &api } else { email },
                vec![raw(IdentityKind::Email, person.email)],
            ),
        ];
        let mut conversation_id = None;
        for (step, (channel, sender)) in route.into_iter().enumerate() {
            let at = start + Duration::minutes(17 * step as i64);
            let received = receive(
                store,
                channel,
                InboundMessage {
                    channel_id: channel.id,
                    provider_message_id: format!("demo-{index}-{step}"),
                    sender,
                    sender_name: Some(person.name.into()),
                    text: person.lines[step].into(),
                    sent_at: Some(at),
                    email: None,
                    attachments: Vec::new(),
                },
                at,
            )
            .await
            .map_err(fail)?;
            conversation_id = Some(received.conversation_id);
        }
        let Some(conversation_id) = conversation_id else {
            continue;
        };
        let agent = &agents[index % agents.len()];
        let note = Reply {
            text: note_for(index).into(),
            channel: ChannelChoice::Auto,
            private: true,
            template: None,
            buttons: Vec::new(),
            attachments: Vec::new(),
        };
        send_reply(
            store,
            &agent.actor(),
            conversation_id,
            note,
            start + Duration::minutes(40),
        )
        .await
        .map_err(fail)?;
        let update = ConversationUpdate {
            assignee_id: (index % 3 != 2).then_some(Some(agent.id)),
            priority: Some(match index % 7 {
                0 => Priority::Urgent,
                1 | 2 => Priority::High,
                _ => Priority::Medium,
            }),
            labels: Some(labels_for(index)),
            status: (index % 5 == 4).then_some(ConversationStatus::Resolved),
            ..ConversationUpdate::default()
        };
        seam_core::conversation::update_conversation(
            store,
            &actor,
            conversation_id,
            update,
            start + Duration::minutes(45),
        )
        .await
        .map_err(fail)?;
    }
    Ok(Seeded {
        generated_password: generated.then_some(password),
        created: true,
        customers: PEOPLE.len(),
    })
}

fn raw(kind: IdentityKind, value: &str) -> RawIdentity {
    RawIdentity {
        kind,
        value: value.into(),
        field: kind.as_str().into(),
        verified: true,
    }
}
