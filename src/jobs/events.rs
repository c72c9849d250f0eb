//! Live events for the UI: job and character updates fanned out to each user's open streams.

use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveEvent {
    /// What changed: "character", "generation" or "credits".
    pub kind: &'static str,
    pub id: String,
    pub data: serde_json::Value,
}

#[derive(Clone)]
pub struct EventHub {
    tx: broadcast::Sender<(String, LiveEvent)>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }

    /// Sends to the user's open streams; nobody listening is fine.
    pub fn publish(&self, user_id: &str, event: LiveEvent) {
        let _ = self.tx.send((user_id.to_string(), event));
    }

    /// The user's events from now on. A slow reader that falls behind skips ahead
    /// (the UI reloads its data on every event, so nothing is lost for good).
    pub fn subscribe(
        &self,
        user_id: String,
    ) -> impl futures::Stream<Item = LiveEvent> + Send + 'static {
        let rx = self.tx.subscribe();
        futures::stream::unfold((rx, user_id), |(mut rx, user_id)| async move {
            loop {
                match rx.recv().await {
                    Ok((owner, event)) if owner == user_id => return Some((event, (rx, user_id))),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn users_only_see_their_own_events() {
        let hub = EventHub::new();
        let mut ana = Box::pin(hub.subscribe("ana".into()));
        let event = |id: &str| LiveEvent {
            kind: "character",
            id: id.into(),
            data: serde_json::json!({}),
        };
        hub.publish("bob", event("b1"));
        hub.publish("ana", event("a1"));
        assert_eq!(ana.next().await.unwrap().id, "a1");
    }
}
