//! Still images: text-to-image portraits and NanoBanana scenes.

use super::client::{A2eClient, Repeat};
use super::{A2eError, NanoBananaRequest, Record, Text2ImageRequest};
use reqwest::Method;

impl A2eClient {
    /// `POST /api/v1/userText2Image/start`.
    pub async fn text_to_image_start(
        &self,
        request: &Text2ImageRequest,
    ) -> Result<Record, A2eError> {
        self.call(
            Method::POST,
            "userText2Image/start",
            Some(request),
            Repeat::Once,
        )
        .await
    }

    /// `GET /api/v1/userText2Image/{_id}`.
    pub async fn text_to_image_status(&self, id: &str) -> Result<Record, A2eError> {
        self.call(
            Method::GET,
            &format!("userText2Image/{}", path_id(id)?),
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }

    /// `POST /api/v1/userNanoBanana/start`.
    pub async fn nano_banana_start(&self, request: &NanoBananaRequest) -> Result<Record, A2eError> {
        self.call(
            Method::POST,
            "userNanoBanana/start",
            Some(request),
            Repeat::Once,
        )
        .await
    }

    /// `GET /api/v1/userNanoBanana/detail/{_id}`.
    pub async fn nano_banana_status(&self, id: &str) -> Result<Record, A2eError> {
        self.call(
            Method::GET,
            &format!("userNanoBanana/detail/{}", path_id(id)?),
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }
}

/// Ids go into paths: only A2E's own shape (hex) is let through.
pub(crate) fn path_id(id: &str) -> Result<&str, A2eError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(A2eError::NotFound)
    }
}
