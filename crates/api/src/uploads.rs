//! `POST /api/v1/uploads?file_name=…`: an agent's file, sent as the raw body with its
//! Content-Type, stored for a reply to name in `attachments`. What is accepted is core's
//! (`uploads`); this route only raises the body limit to 25 MiB.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use seam_core::{
    Error,
    uploads::{self, MAX_UPLOAD_BYTES, NewUpload, Upload},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::ApiQuery,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route(
        "/api/v1/uploads",
        post(create).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name as the customer will see it (paths and control characters are removed).
    pub file_name: Option<String>,
}

/// A stored upload: name `id` in a reply's `attachments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

impl From<Upload> for UploadView {
    fn from(upload: Upload) -> Self {
        UploadView {
            id: upload.id.0,
            file_name: upload.file_name,
            content_type: upload.content_type,
            size_bytes: upload.size_bytes,
        }
    }
}

/// Uploads a file to send with a reply. The body is the file itself; its `Content-Type` is
/// kept (`application/octet-stream` when absent).
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "conversations",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file's bytes, at most 25 MiB, sent with its own Content-Type"),
    responses(
        (status = 201, description = "Stored", body = UploadView),
        (status = 413, description = "Larger than 25 MiB", body = ErrorBody),
        (status = 422, description = "No file name, an empty body or an invalid Content-Type",
            body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<UploadView>), ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::InvalidBody {
                field: None,
                reason: "the body could not be read".into(),
            }
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| Error::invalid("content_type", "must be a media type in ASCII"))
        })
        .transpose()?;
    let file = NewUpload::parse(query.file_name.as_deref(), content_type, body.to_vec())?;
    let upload = uploads::upload(
        state.store.as_ref(),
        state.files.as_ref(),
        &actor,
        file,
        chrono::Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(upload.into())))
}
