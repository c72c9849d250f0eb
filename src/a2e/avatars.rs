//! Avatars ("video twins"): training, its status, continuing, removal, listing, anchors.

use super::client::{A2eClient, Repeat};
use super::images::path_id;
use super::lookup::read_page;
use super::{A2eError, Anchor, Page, Record, TrainingRequest};
use reqwest::Method;
use serde_json::json;

impl A2eClient {
    /// `POST /api/v1/userVideoTwin/startTraining`: the record's `_id` is the avatar id.
    pub async fn start_training(&self, request: &TrainingRequest) -> Result<Record, A2eError> {
        self.call(
            Method::POST,
            "userVideoTwin/startTraining",
            Some(request),
            Repeat::Once,
        )
        .await
    }

    /// `GET /api/v1/userVideoTwin/{_id}`.
    pub async fn training_status(&self, avatar_id: &str) -> Result<Record, A2eError> {
        self.call(
            Method::GET,
            &format!("userVideoTwin/{}", path_id(avatar_id)?),
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }

    /// `POST /api/v1/userVideoTwin/continueTraining {_id}` (paid: never repeated blindly).
    pub async fn continue_training(&self, avatar_id: &str) -> Result<Record, A2eError> {
        let body = json!({ "_id": path_id(avatar_id)? });
        let record: Option<Record> = self
            .call(
                Method::POST,
                "userVideoTwin/continueTraining",
                Some(&body),
                Repeat::Once,
            )
            .await?;
        Ok(record.unwrap_or_default())
    }

    /// `POST /api/v1/userVideoTwin/remove {_id}`.
    pub async fn remove_avatar(&self, avatar_id: &str) -> Result<(), A2eError> {
        let body = json!({ "_id": path_id(avatar_id)? });
        let _: serde_json::Value = self
            .call(
                Method::POST,
                "userVideoTwin/remove",
                Some(&body),
                Repeat::Safe,
            )
            .await?;
        Ok(())
    }

    /// `GET /api/v1/userVideoTwin/records?pageNum=&pageSize=&status=`.
    pub async fn list_avatars(
        &self,
        page: u32,
        size: u32,
        status: Option<&str>,
    ) -> Result<Page, A2eError> {
        let mut path = format!("userVideoTwin/records?pageNum={page}&pageSize={size}");
        if let Some(status) = status {
            path.push_str(&format!("&status={}", url_word(status)));
        }
        let data: serde_json::Value = self
            .call(Method::GET, &path, None::<&()>, Repeat::Safe)
            .await?;
        read_page(data)
    }

    /// `GET /api/v1/anchor/character_list?user_video_twin_id=&type=custom`.
    pub async fn anchors(&self, avatar_id: &str) -> Result<Vec<Anchor>, A2eError> {
        let path = format!(
            "anchor/character_list?user_video_twin_id={}&type=custom",
            path_id(avatar_id)?
        );
        let data: Option<Vec<Anchor>> = self
            .call(Method::GET, &path, None::<&()>, Repeat::Safe)
            .await?;
        Ok(data.unwrap_or_default())
    }
}

fn url_word(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}
