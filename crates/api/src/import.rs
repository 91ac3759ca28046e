//! `POST /api/v1/customers/import`: a CSV or NDJSON body of customers, imported by the core use
//! case; answers its report. The only route with a larger body limit (20 MiB). Translates only.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request, State},
    http::{StatusCode, header},
    routing::post,
};
use seam_core::import::{self, ImportFormat, ImportReport};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
};

/// Largest import body accepted (413 beyond); every other route keeps the global limit.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route(
        "/api/v1/customers/import",
        post(import_customers).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
    )
}

/// One row that did not land.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRowView {
    /// The line of the file the row starts on (a CSV header is line 1).
    pub line: u64,
    /// The column, key or `row` to blame.
    pub field: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportView {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<RejectedRowView>,
}

impl From<ImportReport> for ImportReportView {
    fn from(report: ImportReport) -> Self {
        ImportReportView {
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
            rejected: report
                .rejected
                .into_iter()
                .map(|row| RejectedRowView {
                    line: row.line,
                    field: row.field,
                    reason: row.reason,
                })
                .collect(),
        }
    }
}

/// The import format the `Content-Type` declares, if it is one Seam reads.
fn declared_format(request: &Request) -> Option<ImportFormat> {
    let content_type = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Some(ImportFormat::Csv),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            Some(ImportFormat::Ndjson)
        }
        _ => None,
    }
}

/// Imports customers from a CSV (`text/csv`, header `name,external_id,emails,phones`, several
/// values separated by `;`) or NDJSON (`application/x-ndjson`) body of up to 20 MiB. Each row
/// is resolved like an inbound sender; rows that cannot be are reported, the rest land.
/// Re-sending the same file creates nothing new. Admins and owners only.
#[utoipa::path(
    post, path = "/api/v1/customers/import", tag = "customers",
    request_body(content = String, content_type = "text/csv", description = "CSV or NDJSON rows"),
    responses(
        (status = 200, description = "The report", body = ImportReportView),
        (status = 403, description = "Not an admin or owner", body = ErrorBody),
        (status = 413, description = "Larger than 20 MiB", body = ErrorBody),
        (status = 415, description = "Neither text/csv nor application/x-ndjson", body = ErrorBody),
        (status = 422, description = "The file as a whole is unreadable (e.g. an unknown column)", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn import_customers(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    request: Request,
) -> Result<Json<ImportReportView>, ApiError> {
    let format = declared_format(&request).ok_or(ApiError::UnsupportedImportType)?;
    let bytes = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::InvalidBody {
                    field: None,
                    reason: "the body could not be read".into(),
                }
            }
        })?;
    let report = import::import_file(
        state.store.as_ref(),
        &actor,
        format,
        &bytes,
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(report.into()))
}
