//! The orders and returns tables: one row per integrator id, replaced whole by the rule in
//! `seam_core::commerce`, and listed per customer. Every query filters on the workspace.

use seam_core::{
    Result,
    commerce::{Money, Order, Return},
    ids::{CustomerId, WorkspaceId},
};

use crate::driver::{Columns, Driver, Select, Sql};

macro_rules! order_columns {
    () => {
        "workspace_id, order_id, customer_id, status, total_micros, currency, placed_at, \
        status_at, created_at, updated_at"
    };
}

macro_rules! return_columns {
    () => {
        "workspace_id, return_id, customer_id, order_id, status, status_at, created_at, updated_at"
    };
}

fn read_order<D: Driver>(row: Columns<'_, D>) -> Result<Order> {
    Ok(Order {
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        order_id: row.text("order_id")?,
        customer_id: CustomerId(row.uuid("customer_id")?),
        status: row.text("status")?,
        total: row.opt_i64("total_micros")?.map(Money),
        currency: row.opt_text("currency")?,
        placed_at: row.opt_time("placed_at")?,
        status_at: row.time("status_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn read_return<D: Driver>(row: Columns<'_, D>) -> Result<Return> {
    Ok(Return {
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        return_id: row.text("return_id")?,
        customer_id: CustomerId(row.uuid("customer_id")?),
        order_id: row.opt_text("order_id")?,
        status: row.text("status")?,
        status_at: row.time("status_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn get_order<D: Driver>(workspace_id: WorkspaceId, order_id: &str) -> Select<D, Order> {
    Sql::<D>::new(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE workspace_id = $1 AND order_id = $2"
    ))
    .uuid(workspace_id.0)
    .text(order_id)
    .select(read_order)
}

/// The customer stays the one whose event created the order.
pub(crate) fn save_order<D: Driver>(order: &Order) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO orders (",
        order_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (workspace_id, order_id) DO UPDATE SET status = excluded.status,
            total_micros = excluded.total_micros, currency = excluded.currency,
            placed_at = excluded.placed_at, status_at = excluded.status_at,
            updated_at = excluded.updated_at"
    ))
    .uuid(order.workspace_id.0)
    .text(&order.order_id)
    .uuid(order.customer_id.0)
    .text(&order.status)
    .opt_i64(order.total.map(|total| total.0))
    .opt_text(order.currency.as_deref())
    .opt_time(order.placed_at)
    .time(order.status_at)
    .time(order.created_at)
    .time(order.updated_at)
}

pub(crate) fn get_return<D: Driver>(
    workspace_id: WorkspaceId,
    return_id: &str,
) -> Select<D, Return> {
    Sql::<D>::new(concat!(
        "SELECT ",
        return_columns!(),
        " FROM returns WHERE workspace_id = $1 AND return_id = $2"
    ))
    .uuid(workspace_id.0)
    .text(return_id)
    .select(read_return)
}

pub(crate) fn save_return<D: Driver>(record: &Return) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO returns (",
        return_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (workspace_id, return_id) DO UPDATE SET order_id = excluded.order_id,
            status = excluded.status, status_at = excluded.status_at,
            updated_at = excluded.updated_at"
    ))
    .uuid(record.workspace_id.0)
    .text(&record.return_id)
    .uuid(record.customer_id.0)
    .opt_text(record.order_id.as_deref())
    .text(&record.status)
    .time(record.status_at)
    .time(record.created_at)
    .time(record.updated_at)
}

pub(crate) fn orders_of<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Order> {
    Sql::<D>::new(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE workspace_id = $1 AND customer_id = $2
        ORDER BY created_at DESC, order_id"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read_order)
}

pub(crate) fn returns_of<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Return> {
    Sql::<D>::new(concat!(
        "SELECT ",
        return_columns!(),
        " FROM returns WHERE workspace_id = $1 AND customer_id = $2
        ORDER BY created_at DESC, return_id"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read_return)
}
