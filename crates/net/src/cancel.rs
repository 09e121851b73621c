//! A cancellation signal shared by the caller and the engine (Ctrl-C keeps the results so
//! far).
//!
//! Built on `tokio::sync::watch`: cloning is cheap, cancelling is idempotent and a waiter
//! that starts after the cancel sees it at once. It does not install signal handlers by
//! itself; [`Cancel::on_ctrl_c`] does that on request.

use std::sync::Arc;

use tokio::sync::watch;

/// A cancellation token. Clones share the same state.
#[derive(Debug, Clone)]
pub struct Cancel {
    sender: Arc<watch::Sender<bool>>,
}

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        let (sender, _) = watch::channel(false);
        Cancel {
            sender: Arc::new(sender),
        }
    }

    /// Cancels: every waiter wakes up; later waiters return at once.
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.sender.borrow()
    }

    /// Waits until the token is cancelled.
    pub async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives in `self`, so `wait_for` cannot see a closed channel while we
        // wait; if it ever did, there is nothing left to wait for.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }

    /// Spawns a task that cancels this token on the first Ctrl-C (SIGINT, or the Windows
    /// console's Ctrl-C). Must be called inside a tokio runtime.
    pub fn on_ctrl_c(&self) {
        let token = self.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                token.cancel();
            }
        });
    }
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn waiters_before_and_after_cancel_wake() {
        let token = Cancel::new();
        assert!(!token.is_cancelled());
        let early = tokio::spawn({
            let token = token.clone();
            async move { token.cancelled().await }
        });
        tokio::task::yield_now().await;
        token.cancel();
        token.cancel();
        tokio::time::timeout(Duration::from_secs(5), early)
            .await
            .unwrap()
            .unwrap();
        assert!(token.is_cancelled());
        tokio::time::timeout(Duration::from_secs(5), token.cancelled())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_uncancelled_token_keeps_waiting() {
        let token = Cancel::default();
        let waited = tokio::time::timeout(Duration::from_millis(20), token.cancelled()).await;
        assert!(waited.is_err());
    }
}
