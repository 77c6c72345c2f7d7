//! Shared by the PostgreSQL backends: running work on a pooled connection, and error messages
//! that keep what the server said.

pub(crate) use dmf_postgres::with_causes;

/// Runs `f` on a pooled connection; `no_conn` says why none was had. The caller is off any
/// async runtime: the synchronous client drives a runtime of its own.
pub(crate) fn on_conn<T, E>(
    pool: &dmf_postgres::Pool,
    no_conn: impl FnOnce(dmf_postgres::PoolError) -> E,
    f: impl FnOnce(&mut postgres::Client) -> Result<T, E>,
) -> Result<T, E> {
    let mut conn = pool.get().map_err(no_conn)?;
    f(&mut conn)
}
