//! The account's balance.

use super::client::{A2eClient, Repeat};
use super::{A2eError, Balance};
use reqwest::Method;

impl A2eClient {
    /// `GET /api/v1/user/remainingCoins`.
    pub async fn balance(&self) -> Result<Balance, A2eError> {
        self.call(
            Method::GET,
            "user/remainingCoins",
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }
}
