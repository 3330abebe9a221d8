//! What the catalog says of the current schema, for the open-time check and
//! the job tables alike.

use postgres::Client;

use crate::model::error::Error;

const TABLES: &str = "SELECT c.relname::text FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')";

/// The tables of the current schema.
pub(super) fn table_names(client: &mut Client) -> Result<Vec<String>, Error> {
    Ok(client
        .query(TABLES, &[])?
        .iter()
        .map(|row| row.get(0))
        .collect())
}
