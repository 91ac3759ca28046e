//! The jobs table: enqueueing with a dedupe key, claiming with a lease, and the outcomes of an
//! attempt. Claiming is the one statement whose dialects differ (see each driver's
//! `CLAIM_JOBS`). Workers serve every workspace, so these queries cross workspaces on purpose.

use seam_core::{
    Result, Timestamp,
    ids::{JobId, WorkspaceId},
    jobs::{Job, JobStatus, NewJob},
};

use crate::driver::{Columns, Conn, Driver, Select, Sql};

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Job> {
    Ok(Job {
        id: JobId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        kind: row.text("kind")?,
        payload: row.json("payload")?,
        status: row.parsed("status", JobStatus::parse)?,
        attempts: row.i32("attempts")?,
        max_attempts: row.i32("max_attempts")?,
        run_at: row.time("run_at")?,
        lease_until: row.opt_time("lease_until")?,
        last_error: row.opt_text("last_error")?,
    })
}

/// Changes no row when the dedupe key is taken.
pub(crate) fn insert<D: Driver>(job: &NewJob, now: Timestamp) -> Sql<D> {
    Sql::new(
        "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts,
            dedupe_key, lease_until, last_error, created_at, updated_at)
        VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, NULL, NULL, $8, $8)
        ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .uuid(job.id.0)
    .uuid(job.workspace_id.0)
    .text(&job.kind)
    .json(&job.payload)
    .time(job.run_at)
    .i32(job.max_attempts)
    .opt_text(job.dedupe_key.as_deref())
    .time(now)
}

/// Oldest due first.
pub(crate) async fn claim<D: Driver>(
    conn: &mut Conn<D>,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<Job>> {
    let mut jobs = Sql::<D>::new(D::CLAIM_JOBS)
        .time(now)
        .time(lease_until)
        .i64(i64::from(limit))
        .select(read)
        .all(conn)
        .await?;
    // RETURNING promises no order.
    jobs.sort_by_key(|job| (job.run_at, job.id));
    Ok(jobs)
}

/// Sets the outcome of an attempt; the row stays for inspection and keeps its dedupe key.
pub(crate) fn finish<D: Driver>(
    id: JobId,
    status: JobStatus,
    run_at: Option<Timestamp>,
    error: Option<&str>,
    now: Timestamp,
) -> Sql<D> {
    Sql::new(
        "UPDATE jobs SET status = $2, run_at = COALESCE($3, run_at), last_error = COALESCE($4, last_error),
            lease_until = NULL, updated_at = $5
        WHERE id = $1",
    )
    .uuid(id.0)
    .text(status.as_str())
    .opt_time(run_at)
    .opt_text(error)
    .time(now)
}

pub(crate) async fn count_pending<D: Driver>(conn: &mut Conn<D>) -> Result<i64> {
    let count =
        Sql::<D>::new("SELECT COUNT(*) AS pending FROM jobs WHERE status IN ('queued', 'running')")
            .select(|row| row.i64("pending"))
            .optional(conn)
            .await?;
    Ok(count.unwrap_or(0))
}

pub(crate) fn get<D: Driver>(id: JobId) -> Select<D, Job> {
    Sql::<D>::new(
        "SELECT id, workspace_id, kind, payload, status, attempts, max_attempts, run_at,
            lease_until, last_error
        FROM jobs WHERE id = $1",
    )
    .uuid(id.0)
    .select(read)
}
