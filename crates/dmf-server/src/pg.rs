//! Shared by the service's PostgreSQL-backed stores: stepping off the async runtime for the
//! synchronous client, a pool handle that closes its connections off the runtime too, and
//! error messages that keep what the server said.

/// Runs blocking PostgreSQL work where it may block. The synchronous client drives a runtime of
/// its own and panics when started on a thread already running one, and the stores are called
/// straight from async handlers; on a multi-thread runtime the thread hands its other tasks
/// away for the duration instead. (A current-thread runtime has no way to do that; the server
/// does not run on one.)
pub(crate) fn outside_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A handle on a connection pool shared with the node's other stores. The last handle to go
/// closes the connections, which blocks like any other call; so dropping one steps off the
/// runtime too, whichever task or handler happens to let go of it last.
pub(crate) struct SharedPool(Option<dmf_postgres::Pool>);

impl SharedPool {
    pub(crate) fn new(pool: dmf_postgres::Pool) -> SharedPool {
        SharedPool(Some(pool))
    }
}

impl std::ops::Deref for SharedPool {
    type Target = dmf_postgres::Pool;

    fn deref(&self) -> &dmf_postgres::Pool {
        self.0
            .as_ref()
            .expect("the pool is taken only when dropped")
    }
}

impl Drop for SharedPool {
    fn drop(&mut self) {
        let pool = self.0.take();
        outside_runtime(|| drop(pool));
    }
}

pub(crate) use dmf_postgres::with_causes;

/// Runs `f` on a pooled connection, off the async runtime; `no_conn` says why none was had.
pub(crate) fn on_conn<T, E>(
    pool: &dmf_postgres::Pool,
    no_conn: impl FnOnce(dmf_postgres::PoolError) -> E,
    f: impl FnOnce(&mut postgres::Client) -> Result<T, E>,
) -> Result<T, E> {
    outside_runtime(|| {
        let mut conn = pool.get().map_err(no_conn)?;
        f(&mut conn)
    })
}
