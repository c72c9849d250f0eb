//! Moving pictures: motion transfer, image-to-video, talking photo, avatar lipsync, speech.

use super::client::{A2eClient, Repeat};
use super::images::path_id;
use super::{
    A2eError, Image2VideoRequest, LipsyncRequest, LipsyncResult, MotionTransferRequest, Record,
    TalkingPhotoRequest, TtsRequest,
};
use reqwest::Method;
use serde_json::json;

impl A2eClient {
    /// `POST /api/v1/motionTransfer/start`.
    pub async fn motion_transfer_start(
        &self,
        request: &MotionTransferRequest,
    ) -> Result<Record, A2eError> {
        self.call(
            Method::POST,
            "motionTransfer/start",
            Some(request),
            Repeat::Once,
        )
        .await
    }

    /// `POST /api/v1/motionTransfer/start` with a `name`, so that [`A2eClient::find_by_name`]
    /// can find the task when the answer is lost.
    // A separate call only until `MotionTransferRequest` grows a `name` of its own.
    pub async fn motion_transfer_start_named(
        &self,
        name: &str,
        request: &MotionTransferRequest,
    ) -> Result<Record, A2eError> {
        let mut body = serde_json::to_value(request).map_err(|e| A2eError::BadInput {
            message: e.to_string(),
        })?;
        if let Some(fields) = body.as_object_mut() {
            fields.insert("name".into(), json!(name));
        }
        self.call(
            Method::POST,
            "motionTransfer/start",
            Some(&body),
            Repeat::Once,
        )
        .await
    }

    /// `GET /api/v1/motionTransfer/{_id}` (status path unconfirmed in A2E's reference).
    pub async fn motion_transfer_status(&self, id: &str) -> Result<Record, A2eError> {
        self.call(
            Method::GET,
            &format!("motionTransfer/{}", path_id(id)?),
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }

    /// `POST /api/v1/userImage2Video/start`.
    pub async fn image_to_video_start(
        &self,
        request: &Image2VideoRequest,
    ) -> Result<Record, A2eError> {
        self.call(
            Method::POST,
            "userImage2Video/start",
            Some(request),
            Repeat::Once,
        )
        .await
    }

    /// `GET /api/v1/userImage2Video/{_id}` (status path unconfirmed).
    pub async fn image_to_video_status(&self, id: &str) -> Result<Record, A2eError> {
        self.call(
            Method::GET,
            &format!("userImage2Video/{}", path_id(id)?),
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }

    /// `POST /api/v1/talkingPhoto/start`.
    pub async fn talking_photo_start(
        &self,
        request: &TalkingPhotoRequest,
    ) -> Result<Record, A2eError> {
        self.call(
            Method::POST,
            "talkingPhoto/start",
            Some(request),
            Repeat::Once,
        )
        .await
    }

    /// `GET /api/v1/talkingPhoto/{_id}` (status path unconfirmed).
    pub async fn talking_photo_status(&self, id: &str) -> Result<Record, A2eError> {
        self.call(
            Method::GET,
            &format!("talkingPhoto/{}", path_id(id)?),
            None::<&()>,
            Repeat::Safe,
        )
        .await
    }

    /// `POST /api/v1/video/generate`: an avatar (anchor) speaking the given audio.
    pub async fn lipsync_start(&self, request: &LipsyncRequest) -> Result<Record, A2eError> {
        self.call(Method::POST, "video/generate", Some(request), Repeat::Once)
            .await
    }

    /// `POST /api/v1/video/awsResult {_id}`.
    pub async fn lipsync_status(&self, id: &str) -> Result<LipsyncResult, A2eError> {
        let body = json!({ "_id": path_id(id)? });
        let data: serde_json::Value = self
            .call(Method::POST, "video/awsResult", Some(&body), Repeat::Safe)
            .await?;
        // Seen as an object and as a one-element array.
        let data = match data {
            serde_json::Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        serde_json::from_value(data).map_err(|e| A2eError::Malformed {
            detail: e.to_string(),
        })
    }

    /// `POST /api/v1/video/send_tts`: the URL of the spoken audio.
    pub async fn text_to_speech(&self, request: &TtsRequest) -> Result<String, A2eError> {
        let data: serde_json::Value = self
            .call(Method::POST, "video/send_tts", Some(request), Repeat::Once)
            .await?;
        match data {
            serde_json::Value::String(url) if !url.is_empty() => Ok(url),
            serde_json::Value::Object(map) => map
                .get("audioSrc")
                .or_else(|| map.get("url"))
                .and_then(|v| v.as_str())
                .map(String::from)
                .ok_or_else(|| A2eError::Malformed {
                    detail: "send_tts: no audio URL".into(),
                }),
            _ => Err(A2eError::Malformed {
                detail: "send_tts: no audio URL".into(),
            }),
        }
    }
}
