//! A2E's public text-to-speech voices.

use super::client::{A2eClient, Repeat};
use super::A2eError;
use crate::models::Voice;
use reqwest::Method;
use serde_json::Value;

impl A2eClient {
    /// `GET /api/v1/anchor/voice_list`: every public voice, flattened from A2E's groups.
    pub async fn voices(&self) -> Result<Vec<Voice>, A2eError> {
        let data: Value = self
            .call(Method::GET, "anchor/voice_list", None::<&()>, Repeat::Safe)
            .await?;
        let mut voices = Vec::new();
        flatten(&data, "", &mut voices);
        Ok(voices)
    }
}

/// A2E answers groups `{value, label, children: [{value: tts_id, label}]}`; flat lists (with
/// `tts_id` or `id`) are read too, as everywhere lenient.
fn flatten(data: &Value, group: &str, out: &mut Vec<Voice>) {
    let items = match data {
        Value::Array(items) => items.as_slice(),
        Value::Object(map) => match map.get("list").or_else(|| map.get("children")) {
            Some(Value::Array(items)) => items.as_slice(),
            _ => return,
        },
        _ => return,
    };
    for item in items {
        let label = text(item, &["label", "name", "title"]);
        if let Some(children) = item.get("children").filter(|c| c.is_array()) {
            let name = label.unwrap_or_else(|| text(item, &["value"]).unwrap_or_default());
            flatten(children, &name, out);
        } else if let Some(id) = text(item, &["value", "tts_id", "id", "_id"]) {
            out.push(Voice {
                name: label.unwrap_or_else(|| id.clone()),
                id,
                group: group.to_string(),
            });
        }
    }
}

fn text(item: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match item.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_and_flat_lists_are_read() {
        let mut voices = Vec::new();
        let grouped = json!([
            { "value": "en-US", "label": "English (US)", "children": [
                { "value": "v-1", "label": "Aria" }, { "value": 42, "label": "Brian" } ] },
            { "value": "es-ES", "children": [ { "value": "v-3" } ] }
        ]);
        flatten(&grouped, "", &mut voices);
        let flat = json!({ "list": [ { "tts_id": "v-4", "name": "Dana" }, { "label": "no id" } ] });
        flatten(&flat, "", &mut voices);
        let ids: Vec<_> = voices
            .iter()
            .map(|v| (&*v.id, &*v.name, &*v.group))
            .collect();
        assert_eq!(
            ids,
            [
                ("v-1", "Aria", "English (US)"),
                ("42", "Brian", "English (US)"),
                ("v-3", "v-3", "es-ES"),
                ("v-4", "Dana", ""),
            ]
        );
    }
}
