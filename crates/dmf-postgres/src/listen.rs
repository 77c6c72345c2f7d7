//! Following appends as they commit: `LISTEN` on the channel every append notifies.

use std::fmt;
use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use crate::{NOTIFY_CHANNEL, PgError, Target};

/// A connection listening for appends to one database.
pub struct Listener {
    client: Client,
    target: Target,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Starts listening for appends to the database at `url`. Appends committed before this
/// returns are not announced to it: read up to the head afterwards to catch up.
pub fn listen(url: &str) -> Result<Listener, PgError> {
    let target = Target::parse(url)?;
    let mut client = target.connect()?;
    client
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .map_err(PgError::query("listen for appends"))?;
    Ok(Listener { client, target })
}

impl Listener {
    /// Waits up to `timeout` for appends to commit and returns the newest head announced, or
    /// `None` if none was.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<u64>, PgError> {
        let mut newest = None;
        {
            let mut notifications = self.client.notifications();
            let first = notifications
                .timeout_iter(timeout)
                .next()
                .map_err(PgError::query("wait for a notification"))?;
            if let Some(first) = first {
                newest = head_of(&first)?;
                // Several appends may have committed since the last wait: only the newest
                // head matters to a follower.
                let mut pending = notifications.iter();
                while let Some(more) = pending
                    .next()
                    .map_err(PgError::query("read notifications"))?
                {
                    newest = newest.max(head_of(&more)?);
                }
            }
        }
        if newest.is_none() && self.client.is_closed() {
            return Err(PgError::ListenerClosed {
                target: self.target.to_string(),
            });
        }
        Ok(newest)
    }
}

/// The head announced by one notification; `None` for other channels.
fn head_of(n: &postgres::Notification) -> Result<Option<u64>, PgError> {
    if n.channel() != NOTIFY_CHANNEL {
        return Ok(None);
    }
    n.payload()
        .parse()
        .map(Some)
        .map_err(|_| PgError::BadPayload(n.payload().to_owned()))
}
