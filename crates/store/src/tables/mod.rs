//! Table by table, the SQL both dialects share and the mapping between rows and domain types.
//! Every function is generic over the driver and takes the connection it runs on; none opens
//! a transaction or decides anything.

pub(crate) mod channels;
pub(crate) mod commerce;
pub(crate) mod conversations;
pub(crate) mod customers;
pub(crate) mod duplicates;
pub(crate) mod email;
pub(crate) mod events;
pub(crate) mod jobs;
pub(crate) mod merges;
pub(crate) mod messages;
pub(crate) mod messaging_out;
pub(crate) mod outbox;
pub(crate) mod privacy;
pub(crate) mod profile;
pub(crate) mod stats;
pub(crate) mod uploads;
pub(crate) mod users;
pub(crate) mod webchat;
pub(crate) mod workspaces;

use seam_core::cursor::Cursor;

/// Cuts a page fetched with `limit + 1` rows to `limit`; the cursor of its last item when a
/// further row exists.
pub(crate) fn page_end<T>(
    items: &mut Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> Cursor,
) -> Option<Cursor> {
    let limit = limit as usize;
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor)
    } else {
        None
    }
}
