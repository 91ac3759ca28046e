//! Commerce events: orders and returns as the integrator's `order_*`, `return_*` and
//! `refund_issued` events describe them, the rule that moves their status (by event time, so a
//! late older event never moves it back), money and currency parsing, and the read use case
//! behind "where is my return?". No IO except through the ports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::money::{Money, parse_currency};
use crate::{
    Error, Result, Timestamp,
    ids::{CustomerId, WorkspaceId},
    ports::{Store, Tx},
    user::{Actor, Permission},
};

/// An order as its events left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub workspace_id: WorkspaceId,
    /// The integrator's order id, unique per workspace.
    pub order_id: String,
    /// The customer whose event first named the order.
    pub customer_id: CustomerId,
    pub status: String,
    pub total: Option<Money>,
    pub currency: Option<String>,
    pub placed_at: Option<Timestamp>,
    /// When the event that set `status` happened.
    pub status_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A return as its events left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Return {
    pub workspace_id: WorkspaceId,
    /// The integrator's return id, unique per workspace.
    pub return_id: String,
    pub customer_id: CustomerId,
    pub order_id: Option<String>,
    pub status: String,
    pub status_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What one commerce event says about an order or a return.
#[derive(Clone, Debug, PartialEq)]
pub enum CommerceUpdate {
    Order {
        order_id: String,
        status: String,
        total: Option<Money>,
        currency: Option<String>,
        /// The event is `order_placed`.
        placed: bool,
    },
    Return {
        return_id: String,
        order_id: Option<String>,
        status: String,
    },
}

/// The status each documented event implies when `properties.status` does not say.
const ORDER_EVENTS: &[(&str, &str)] = &[
    ("order_placed", "placed"),
    ("order_shipped", "shipped"),
    ("order_delivered", "delivered"),
];
const RETURN_EVENTS: &[(&str, &str)] = &[
    ("return_requested", "requested"),
    ("return_received", "received"),
    ("refund_issued", "refunded"),
];

/// An order or return id: a non-empty string or a whole number, at most 255 characters.
fn parse_id(field: &str, value: Option<&Value>) -> Result<Option<String>> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.trim().to_string(),
        Some(Value::Number(number)) if number.is_u64() || number.is_i64() => number.to_string(),
        Some(_) => return Err(Error::invalid(field, "must be a string or a whole number")),
    };
    if text.is_empty() || text.chars().count() > 255 || text.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must have 1 to 255 characters"));
    }
    Ok(Some(text))
}

fn parse_status(properties: &Map<String, Value>, implied: &str) -> Result<String> {
    match properties.get("status") {
        None | Some(Value::Null) => Ok(implied.to_string()),
        Some(Value::String(text))
            if !text.trim().is_empty() && text.trim().chars().count() <= 50 =>
        {
            Ok(text.trim().to_lowercase())
        }
        Some(_) => Err(Error::invalid(
            "properties.status",
            "must be a string of 1 to 50 characters",
        )),
    }
}

/// The order or return a tracked event updates; `None` for events that are not commerce.
pub fn parse_update(
    event: &str,
    properties: &Map<String, Value>,
) -> Result<Option<CommerceUpdate>> {
    if let Some((_, implied)) = ORDER_EVENTS.iter().find(|(name, _)| *name == event) {
        let order_id = parse_id("properties.order_id", properties.get("order_id"))?
            .ok_or_else(|| Error::invalid("properties.order_id", "is required for order events"))?;
        let total = match properties.get("total") {
            None | Some(Value::Null) => None,
            Some(value) => Some(Money::parse("properties.total", value)?),
        };
        let currency = match properties.get("currency") {
            None | Some(Value::Null) => None,
            Some(value) => Some(parse_currency("properties.currency", value)?),
        };
        return Ok(Some(CommerceUpdate::Order {
            order_id,
            status: parse_status(properties, implied)?,
            total,
            currency,
            placed: event == "order_placed",
        }));
    }
    if let Some((_, implied)) = RETURN_EVENTS.iter().find(|(name, _)| *name == event) {
        let return_id =
            parse_id("properties.return_id", properties.get("return_id"))?.ok_or_else(|| {
                Error::invalid("properties.return_id", "is required for return events")
            })?;
        return Ok(Some(CommerceUpdate::Return {
            return_id,
            order_id: parse_id("properties.order_id", properties.get("order_id"))?,
            status: parse_status(properties, implied)?,
        }));
    }
    Ok(None)
}

/// Where an event moves its status: forward in event time only. An event as old as the
/// current status still applies, so a repeated report settles on the later one in arrival.
fn is_current(at: Timestamp, status_at: Timestamp) -> bool {
    at >= status_at
}

/// The order after an event that happened `at` (received `now`).
pub fn apply_to_order(
    current: Option<Order>,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    update: (&str, &str, Option<Money>, Option<&str>, bool),
    at: Timestamp,
    now: Timestamp,
) -> Order {
    let (order_id, status, total, currency, placed) = update;
    let mut order = current.unwrap_or_else(|| Order {
        workspace_id,
        order_id: order_id.to_string(),
        customer_id,
        status: status.to_string(),
        total: None,
        currency: None,
        placed_at: None,
        status_at: at,
        created_at: now,
        updated_at: now,
    });
    let newer = is_current(at, order.status_at);
    if newer {
        order.status = status.to_string();
        order.status_at = at;
    }
    if total.is_some() && (newer || order.total.is_none()) {
        order.total = total;
    }
    if currency.is_some() && (newer || order.currency.is_none()) {
        order.currency = currency.map(str::to_string);
    }
    if placed {
        order.placed_at = Some(order.placed_at.map_or(at, |placed_at| placed_at.min(at)));
    }
    order.updated_at = now;
    order
}

/// The return after an event that happened `at` (received `now`).
pub fn apply_to_return(
    current: Option<Return>,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    update: (&str, Option<&str>, &str),
    at: Timestamp,
    now: Timestamp,
) -> Return {
    let (return_id, order_id, status) = update;
    let mut record = current.unwrap_or_else(|| Return {
        workspace_id,
        return_id: return_id.to_string(),
        customer_id,
        order_id: None,
        status: status.to_string(),
        status_at: at,
        created_at: now,
        updated_at: now,
    });
    if is_current(at, record.status_at) {
        record.status = status.to_string();
        record.status_at = at;
    }
    if record.order_id.is_none() {
        record.order_id = order_id.map(str::to_string);
    }
    record.updated_at = now;
    record
}

/// Reads, updates and saves the order or return a commerce event names, inside the caller's
/// transaction.
pub(crate) async fn record(
    tx: &mut dyn Tx,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    update: &CommerceUpdate,
    at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    match update {
        CommerceUpdate::Order {
            order_id,
            status,
            total,
            currency,
            placed,
        } => {
            let current = tx.get_order(workspace_id, order_id).await?;
            let order = apply_to_order(
                current,
                workspace_id,
                customer_id,
                (order_id, status, *total, currency.as_deref(), *placed),
                at,
                now,
            );
            tx.save_order(&order).await
        }
        CommerceUpdate::Return {
            return_id,
            order_id,
            status,
        } => {
            let current = tx.get_return(workspace_id, return_id).await?;
            let record = apply_to_return(
                current,
                workspace_id,
                customer_id,
                (return_id, order_id.as_deref(), status),
                at,
                now,
            );
            tx.save_return(&record).await
        }
    }
}

/// A customer's orders and returns, most recently created first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerOrders {
    pub orders: Vec<Order>,
    pub returns: Vec<Return>,
}

pub async fn customer_orders(
    store: &dyn Store,
    actor: &Actor,
    customer_id: CustomerId,
) -> Result<CustomerOrders> {
    actor.require(Permission::ReadCustomers)?;
    store
        .get_customer_profile(actor.workspace_id, customer_id)
        .await?
        .ok_or(Error::NotFound)?;
    store.customer_orders(actor.workspace_id, customer_id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(seconds: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn order_events_need_an_order_id_and_imply_their_status() {
        let properties = json!({"order_id": 1042, "total": "59.90", "currency": "eur"});
        let update = parse_update("order_placed", properties.as_object().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            update,
            CommerceUpdate::Order {
                order_id: "1042".into(),
                status: "placed".into(),
                total: Some(Money(59_900_000)),
                currency: Some("EUR".into()),
                placed: true,
            }
        );
        let error = parse_update("order_shipped", &Map::new()).unwrap_err();
        assert!(
            matches!(error, Error::Invalid { ref field, .. } if field == "properties.order_id")
        );
        assert_eq!(parse_update("page_viewed", &Map::new()).unwrap(), None);
    }

    #[test]
    fn a_late_older_event_does_not_move_an_order_back() {
        let (workspace, customer) = (WorkspaceId::new(), CustomerId::new());
        let shipped = apply_to_order(
            None,
            workspace,
            customer,
            ("o1", "shipped", None, None, false),
            at(10),
            at(20),
        );
        let late = apply_to_order(
            Some(shipped),
            workspace,
            customer,
            ("o1", "placed", Some(Money(5)), Some("EUR"), true),
            at(0),
            at(30),
        );
        assert_eq!(late.status, "shipped");
        assert_eq!(late.total, Some(Money(5)), "a missing total is filled in");
        assert_eq!(late.placed_at, Some(at(0)));
        let delivered = apply_to_order(
            Some(late),
            workspace,
            customer,
            ("o1", "delivered", None, None, false),
            at(40),
            at(40),
        );
        assert_eq!(
            (delivered.status.as_str(), delivered.status_at),
            ("delivered", at(40))
        );
    }

    #[test]
    fn a_return_keeps_the_newest_status_and_learns_its_order() {
        let (workspace, customer) = (WorkspaceId::new(), CustomerId::new());
        let received = apply_to_return(
            None,
            workspace,
            customer,
            ("r1", None, "received"),
            at(10),
            at(10),
        );
        let requested = apply_to_return(
            Some(received),
            workspace,
            customer,
            ("r1", Some("o1"), "requested"),
            at(5),
            at(11),
        );
        assert_eq!(requested.status, "received");
        assert_eq!(requested.order_id.as_deref(), Some("o1"));
    }
}
