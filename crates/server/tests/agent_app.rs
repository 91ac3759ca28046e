//! The agent app as the binary serves it: the page with its Content-Security-Policy, and the
//! build's assets cached for good and gzipped; and the API the app stands on: inbox rows with
//! the customer, a preview and an unread marker, search, the channels a reply can take and why
//! not, users with roles and presence, and the workspace's settings. What the app does in a
//! browser is tested in web/tests/app.spec.mjs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{
    Backend, Realtime,
    messaging::{FakeProvider, create_channel},
    spawn_seam,
};
use serde_json::{Value, json};

on_both_backends!(
    inbox_rows_show_the_customer_a_preview_and_what_each_agent_has_not_read,
    the_composer_learns_which_channels_can_carry_a_reply_and_why_not,
    admins_manage_users_and_settings_and_everyone_sees_who_is_online,
);

/// The `/assets/…` paths the page loads.
fn asset_paths(page: &str) -> Vec<String> {
    page.split(['"', '\''])
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_page_forbids_inline_scripts_and_loads_only_cacheable_assets() {
    let seam = spawn_seam(Backend::Sqlite).await;
    let client = harness::http_client();

    let response = client.get(seam.url("/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    let page = response.text().await.unwrap();

    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // Every script of the page is a file of the build: nothing inline for the policy to allow.
    for tag in page.split("<script").skip(1) {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(
            open.contains("src=\"/assets/"),
            "inline script: <script{open}>"
        );
    }
    let assets = asset_paths(&page);
    assert!(
        assets.iter().any(|path| path.ends_with(".js")),
        "no script in {page}"
    );
    assert!(
        assets.iter().any(|path| path.ends_with(".css")),
        "no stylesheet in {page}"
    );

    for path in &assets {
        let plain = client.get(seam.url(path)).send().await.unwrap();
        assert_eq!(plain.status().as_u16(), 200, "{path}");
        assert_eq!(
            plain.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert!(plain.headers().get("content-encoding").is_none());
        let bytes = plain.bytes().await.unwrap();

        let gzipped = client
            .get(seam.url(path))
            .header("Accept-Encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        if bytes.len() >= 4096 {
            assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{path}");
        }
        let body = gzipped.bytes().await.unwrap();
        let inflated = if body.starts_with(&[0x1f, 0x8b]) {
            let mut inflated = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(body.as_ref()),
                &mut inflated,
            )
            .unwrap();
            inflated
        } else {
            body.to_vec()
        };
        assert_eq!(inflated, bytes, "{path}");
    }
}

#[tokio::test]
async fn an_unknown_asset_is_a_json_404_and_the_api_keeps_its_paths() {
    let seam = spawn_seam(Backend::Sqlite).await;
    let client = harness::http_client();

    let missing = client
        .get(seam.url("/assets/nothing-here.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let health = client.get(seam.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let unknown = client
        .get(seam.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|row| row["id"] == id)
        .unwrap_or_else(|| panic!("conversation {id} not listed in {rows:#?}"))
}

async fn inbox_rows_show_the_customer_a_preview_and_what_each_agent_has_not_read(backend: Backend) {
    // Arrange: two customers write; a second agent joins the workspace.
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let shop = owner.create_api_channel("Shop", None).await;
    let layla = shop
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "layla@example.com", "name": "ليلى احمدي" },
            "text": "My parcel   4411\nnever arrived",
        }))
        .await;
    let omar = shop
        .receive(json!({
            "message_id": "m-2",
            "from": { "email": "omar@example.com", "name": "Omar" },
            "text": "A question about my invoice",
        }))
        .await;
    let added = owner
        .api
        .post(
            "/api/v1/users",
            json!({ "email": "sara@acme.example", "name": "Sara", "role": "agent",
                "password": "sara's long password" }),
        )
        .await;
    assert_eq!(added.status, 201, "{added:?}");
    let sara = seam
        .login("sara@acme.example", "sara's long password")
        .await
        .api();

    // The inbox row carries the customer's name, a one-line preview and an unread marker.
    let rows = owner.conversations().await;
    let first = row(&rows, &layla.conversation_id);
    assert_eq!(first["customer_name"], "ليلى احمدي");
    assert_eq!(first["preview"]["text"], "My parcel 4411 never arrived");
    assert_eq!(first["preview"]["kind"], "inbound");
    assert_eq!(first["preview"]["channel_id"], shop.id.as_str());
    assert_eq!(first["unread"], true);

    // A note is not a preview; reading clears the marker for the reader only.
    let path = format!("/api/v1/conversations/{}", layla.conversation_id);
    let note = owner
        .api
        .post(
            &format!("{path}/messages"),
            json!({ "text": "checking with the courier", "private": true }),
        )
        .await;
    assert_eq!(note.status, 201, "{note:?}");
    let read = owner.api.post(&format!("{path}/read"), json!({})).await;
    assert_eq!(read.status, 204, "{read:?}");
    let mine = owner.api.get(&path).await.json;
    assert_eq!(mine["unread"], false);
    assert_eq!(mine["preview"]["text"], "My parcel 4411 never arrived");
    let theirs = sara.get(&path).await.json;
    assert_eq!(theirs["unread"], true);
    assert_eq!(
        row(&owner.conversations().await, &omar.conversation_id)["unread"],
        true
    );

    // The customer writes again: unread again.
    shop.receive(json!({
        "message_id": "m-3",
        "from": { "email": "layla@example.com" },
        "text": "Any news?",
    }))
    .await;
    let again = owner.api.get(&path).await.json;
    assert_eq!(again["unread"], true);
    assert_eq!(again["preview"]["text"], "Any news?");

    // Search finds by message text, by address, and by name however its letters are typed
    // (Arabic yeh and alef maksura against the stored spelling).
    let search = |q: &str| {
        let api = owner.api.clone();
        let q = q.to_string();
        async move {
            let url = format!("/api/v1/conversations?q={}", urlencode(&q));
            api.list_all(&url)
                .await
                .iter()
                .map(|row| row["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("parcel").await, vec![layla.conversation_id.clone()]);
    assert_eq!(
        search("OMAR@EXAMPLE").await,
        vec![omar.conversation_id.clone()]
    );
    assert_eq!(
        search("ليلي احمدى").await,
        vec![layla.conversation_id.clone()]
    );
    assert_eq!(search("100%").await, Vec::<String>::new());
    let long = owner
        .api
        .get(&format!("/api/v1/conversations?q={}", "a".repeat(101)))
        .await;
    long.assert_error(422);
    assert_eq!(long.error_field(), Some("q"));

    // Another workspace's conversation cannot be marked read.
    let other = seam.owner_of("Other").await;
    other
        .api
        .post(&format!("{path}/read"), json!({}))
        .await
        .assert_error(404);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn the_composer_learns_which_channels_can_carry_a_reply_and_why_not(backend: Backend) {
    // Arrange: the customer wrote on an API channel without a webhook, then on one with a
    // webhook; the workspace also has WhatsApp (the customer never wrote there) and SMS (the
    // customer opted out).
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let provider = FakeProvider::start().await;
    let silent = owner.create_api_channel("Silent backend", None).await;
    let shop = owner
        .create_api_channel("Shop", Some("http://127.0.0.1:9/replies"))
        .await;
    let first = silent
        .receive(json!({ "message_id": "m-1", "from": { "phone": "+16502530000" }, "text": "hi" }))
        .await;
    shop.receive(
        json!({ "message_id": "m-2", "from": { "phone": "+16502530000" }, "text": "again" }),
    )
    .await;
    let whatsapp = create_channel(
        &owner,
        "whatsapp",
        json!({"phone_number_id": "106540352242922", "base_url": provider.url,
            "templates": [{"name": "order_update", "language": "en_US",
                "body": "Your order has shipped", "parameters": []}]}),
        json!({"access_token": "EAAB-token", "app_secret": "app-secret"}),
    )
    .await;
    let sms = create_channel(
        &owner,
        "sms",
        json!({"account_sid": "ACreach", "from": "+14155552671", "base_url": provider.url}),
        json!({"auth_token": "twilio-token"}),
    )
    .await;
    let opted_out = owner
        .api
        .put(
            &format!("/api/v1/customers/{}/consent/sms", first.customer_id),
            json!({ "status": "opted_out", "source": "agent" }),
        )
        .await;
    assert_eq!(opted_out.status, 200, "{opted_out:?}");

    // Act
    let answer = owner
        .api
        .get(&format!(
            "/api/v1/conversations/{}/channels",
            first.conversation_id
        ))
        .await;

    // Assert: usable first, the default is where the customer last wrote, each refusal says why.
    assert_eq!(answer.status, 200, "{answer:?}");
    let items = answer.json["items"].as_array().unwrap().clone();
    let by_id = |id: &str| {
        items
            .iter()
            .find(|item| item["channel_id"] == id)
            .unwrap_or_else(|| panic!("channel {id} not offered: {items:#?}"))
            .clone()
    };
    assert_eq!(answer.json["default_channel_id"], shop.id.as_str());
    assert_eq!(items[0]["channel_id"], shop.id.as_str());
    assert_eq!(by_id(&shop.id)["available"], true);
    assert_eq!(by_id(&shop.id)["reason"], Value::Null);
    let wa = by_id(whatsapp["id"].as_str().unwrap());
    assert_eq!(wa["available"], false);
    assert_eq!(wa["reason"]["code"], "window_closed");
    assert!(
        wa["reason"]["message"]
            .as_str()
            .unwrap()
            .contains("24-hour"),
        "{wa}"
    );
    assert_eq!(wa["templates"], json!(["order_update"]));
    let text = by_id(sms["id"].as_str().unwrap());
    assert_eq!(text["available"], false);
    assert_eq!(text["reason"]["code"], "opted_out");
    // The channel without a webhook is not offered: it has not carried this conversation's
    // latest message and reaches nobody by address.
    assert!(
        items
            .iter()
            .all(|item| item["channel_id"] != silent.id.as_str()),
        "{items:#?}"
    );

    let other = seam.owner_of("Other").await;
    other
        .api
        .get(&format!(
            "/api/v1/conversations/{}/channels",
            first.conversation_id
        ))
        .await
        .assert_error(404);
}

async fn admins_manage_users_and_settings_and_everyone_sees_who_is_online(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let mut watcher = Realtime::connect(&seam.base_url, &owner.token).await;

    // The owner adds an admin and an agent, each with a language.
    let add = |email: &str, role: &str, language: Value| {
        let api = owner.api.clone();
        let body = json!({ "email": email, "name": format!("{role} person"), "role": role,
            "password": "a long enough password", "language": language });
        async move { api.post("/api/v1/users", body).await }
    };
    let admin = add("admin@acme.example", "admin", json!("ar")).await;
    assert_eq!(admin.status, 201, "{admin:?}");
    assert_eq!(admin.json["language"], "ar");
    assert_eq!(admin.json["presence"], "offline");
    let agent = add("agent@acme.example", "agent", Value::Null).await;
    assert_eq!(agent.status, 201, "{agent:?}");
    add("agent@acme.example", "agent", Value::Null)
        .await
        .assert_error(409);
    let bad = add("x@acme.example", "emperor", Value::Null).await;
    bad.assert_error(422);
    assert_eq!(bad.error_field(), Some("role"));

    // Role rules: only owners make owners; the last owner stays one; agents manage nobody.
    let admin_session = seam
        .login("admin@acme.example", "a long enough password")
        .await;
    let admin_api = admin_session.api();
    let agent_api = seam
        .login("agent@acme.example", "a long enough password")
        .await
        .api();
    admin_api
        .post(
            "/api/v1/users",
            json!({ "email": "o2@acme.example", "name": "O", "role": "owner",
            "password": "a long enough password" }),
        )
        .await
        .assert_error(403);
    admin_api
        .patch(
            &format!("/api/v1/users/{}", owner.user_id),
            json!({ "role": "agent" }),
        )
        .await
        .assert_error(403);
    let last = owner
        .api
        .patch(
            &format!("/api/v1/users/{}", owner.user_id),
            json!({ "role": "admin" }),
        )
        .await;
    last.assert_error(409);
    agent_api
        .post(
            "/api/v1/users",
            json!({ "email": "a2@acme.example", "name": "A", "role": "agent",
            "password": "a long enough password" }),
        )
        .await
        .assert_error(403);
    let promoted = admin_api
        .patch(
            &format!("/api/v1/users/{}", agent.json["id"].as_str().unwrap()),
            json!({ "role": "supervisor" }),
        )
        .await;
    assert_eq!(promoted.json["role"], "supervisor", "{promoted:?}");

    // Each user picks their language.
    let me = agent_api
        .patch("/api/v1/me", json!({ "language": "fa" }))
        .await;
    assert_eq!(me.json["language"], "fa", "{me:?}");
    let wrong = agent_api
        .patch("/api/v1/me", json!({ "language": "de" }))
        .await;
    wrong.assert_error(422);
    assert_eq!(wrong.error_field(), Some("language"));
    let me = agent_api.get("/api/v1/me").await;
    assert_eq!(me.json["user"]["language"], "fa");
    assert_eq!(me.json["workspace"]["name"], "Acme");

    // Presence: connecting makes the admin online, away is their choice, leaving is offline.
    let admin_id = admin.json["id"].as_str().unwrap().to_string();
    let admin_token = admin_session.create_token("app").await;
    let is = |presence: &'static str, user: String| {
        move |event: &Value| {
            event["type"] == "presence.changed"
                && event["data"]["user_id"] == user.as_str()
                && event["data"]["presence"] == presence
        }
    };
    let admin_socket = Realtime::connect(&seam.base_url, &admin_token).await;
    watcher
        .wait_for("admin online", is("online", admin_id.clone()))
        .await;
    let away = admin_api
        .put("/api/v1/me/presence", json!({ "status": "away" }))
        .await;
    assert_eq!(away.json["presence"], "away", "{away:?}");
    watcher
        .wait_for("admin away", is("away", admin_id.clone()))
        .await;
    let users = owner.api.list_all("/api/v1/users").await;
    let listed = users
        .iter()
        .find(|user| user["id"] == admin_id.as_str())
        .unwrap();
    assert_eq!(listed["presence"], "away");
    admin_api
        .put("/api/v1/me/presence", json!({ "status": "offline" }))
        .await
        .assert_error(422);
    drop(admin_socket);
    watcher
        .wait_for("admin offline", is("offline", admin_id.clone()))
        .await;

    // Workspace settings: read by all, changed by admins, each value checked.
    let settings = agent_api.get("/api/v1/workspace").await;
    assert_eq!(settings.json["time_zone"], "UTC", "{settings:?}");
    assert_eq!(settings.json["languages"], json!(["en"]));
    agent_api
        .patch("/api/v1/workspace", json!({ "time_zone": "Asia/Tehran" }))
        .await
        .assert_error(403);
    let changed = admin_api
        .patch(
            "/api/v1/workspace",
            json!({ "languages": ["ar", "en", "ar"], "time_zone": "Asia/Riyadh",
                "default_region": "sa", "continuity": "channel", "reopen_window_secs": 86400 }),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    let read = owner.api.get("/api/v1/workspace").await.json;
    assert_eq!(read["languages"], json!(["ar", "en"]));
    assert_eq!(read["time_zone"], "Asia/Riyadh");
    assert_eq!(read["default_region"], "SA");
    assert_eq!(read["continuity"], "channel");
    assert_eq!(read["reopen_window_secs"], 86400);
    for (body, field) in [
        (json!({ "time_zone": "Mars/Olympus" }), "time_zone"),
        (json!({ "languages": [] }), "languages"),
        (json!({ "languages": ["de"] }), "languages"),
        (json!({ "reopen_window_secs": -1 }), "reopen_window_secs"),
        (json!({ "default_region": "XX" }), "default_region"),
    ] {
        let refused = admin_api.patch("/api/v1/workspace", body.clone()).await;
        refused.assert_error(422);
        assert_eq!(refused.error_field(), Some(field), "{body}");
    }
    assert_eq!(
        owner.api.get("/api/v1/workspace").await.json["time_zone"],
        "Asia/Riyadh"
    );
}
