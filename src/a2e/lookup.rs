//! Finding a task whose start answer was lost: every start carries a unique name, and the
//! account's record lists tell whether a task of that name exists.
//!
//! Contract notes (A2E's public catalog, see a2e-api.md "Finding a task whose start answer
//! was lost"; seen for `userImage2Video` and `userText2Image`, assumed for the other families,
//! read leniently):
//! - `GET /api/v1/<family>/allRecords?pageNum=&pageSize=`: the account's records of that
//!   family, newest first, as `{list, total}` (a bare array is read too). Avatars are listed by
//!   `GET /api/v1/userVideoTwin/records?pageNum=&pageSize=` instead.
//! - `POST /api/v1/<family>/batchDetail {ids: [...]}`: the records of those ids, as a list (or
//!   `{list}`); ids A2E does not know are left out.
//! - Lipsync videos (`video/…`) are named by `title` and report `status`/`result`
//!   (see [`Record::normalized`]).

use super::client::{A2eClient, Repeat};
use super::images::path_id;
use super::{A2eError, Page, Record, TaskFamily};
use reqwest::Method;
use serde_json::{json, Value};

/// Records fetched per page while looking a name up.
const PAGE_SIZE: u32 = 100;
/// Pages read at most: a lost start is looked up soon after, so it is among the newest 500.
const MAX_PAGES: u32 = 5;

impl A2eClient {
    /// The newest task of `family` started with this `name` (lipsync: `title`), if A2E has one.
    /// Reads the newest ~500 records of the family, a page at a time.
    pub async fn find_by_name(
        &self,
        family: TaskFamily,
        name: &str,
    ) -> Result<Option<Record>, A2eError> {
        for page_num in 1..=MAX_PAGES {
            let page = self.records_page(family, page_num, PAGE_SIZE).await?;
            let short = page.list.len() < PAGE_SIZE as usize;
            let seen = u64::from(page_num) * u64::from(PAGE_SIZE);
            if let Some(found) = page.list.into_iter().find(|r| name_of(family, r) == name) {
                return Ok(Some(found));
            }
            // A missing `total` reads as 0: then only a short page ends the list.
            if short || (page.total > 0 && seen >= page.total as u64) {
                break;
            }
        }
        Ok(None)
    }

    /// `POST /api/v1/<family>/batchDetail {ids}`: the records of those ids that A2E knows.
    pub async fn batch_detail(
        &self,
        family: TaskFamily,
        ids: &[String],
    ) -> Result<Vec<Record>, A2eError> {
        // Only ids of A2E's own shape are sent; any other cannot name a record there.
        let ids: Vec<&str> = ids.iter().filter_map(|id| path_id(id).ok()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let path = format!("{}/batchDetail", family.path_prefix());
        let data: Value = self
            .call(
                Method::POST,
                &path,
                Some(&json!({ "ids": ids })),
                Repeat::Safe,
            )
            .await?;
        Ok(read_page(data)?.list)
    }

    /// One page of the family's records, newest first.
    pub(crate) async fn records_page(
        &self,
        family: TaskFamily,
        page: u32,
        size: u32,
    ) -> Result<Page, A2eError> {
        let list = match family {
            TaskFamily::Avatar => "records",
            _ => "allRecords",
        };
        let path = format!(
            "{}/{list}?pageNum={page}&pageSize={size}",
            family.path_prefix()
        );
        let data: Value = self
            .call(Method::GET, &path, None::<&()>, Repeat::Safe)
            .await?;
        read_page(data)
    }
}

fn name_of(family: TaskFamily, record: &Record) -> &str {
    match family {
        TaskFamily::Lipsync => &record.title,
        _ => &record.name,
    }
}

/// A list of records, seen both as `{list, total}` and as a bare array; `null` is empty.
pub(crate) fn read_page(data: Value) -> Result<Page, A2eError> {
    let malformed = |e: serde_json::Error| A2eError::Malformed {
        detail: format!("record list: {e}"),
    };
    let mut page = match data {
        Value::Null => Page::default(),
        Value::Array(items) => {
            let list: Vec<Record> =
                serde_json::from_value(Value::Array(items)).map_err(malformed)?;
            Page {
                total: list.len() as i64,
                list,
            }
        }
        other => serde_json::from_value(other).map_err(malformed)?,
    };
    page.list = page.list.into_iter().map(Record::normalized).collect();
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a2e::TaskStatus;

    #[test]
    fn lists_are_read_in_either_shape() {
        let bare = read_page(json!([{ "_id": "a", "name": "n" }])).unwrap();
        assert_eq!((bare.total, bare.list[0].name.as_str()), (1, "n"));
        let paged =
            read_page(json!({ "list": [{ "_id": "a" }, { "_id": "b" }], "total": 9 })).unwrap();
        assert_eq!((paged.total, paged.list.len()), (9, 2));
        assert!(read_page(Value::Null).unwrap().list.is_empty());
        assert!(matches!(
            read_page(json!("nope")),
            Err(A2eError::Malformed { .. })
        ));
    }

    #[test]
    fn lipsync_records_are_named_by_title() {
        let page = read_page(json!([{
            "_id": "a", "title": "job-7", "status": "success", "result": "https://x/v.mp4"
        }]))
        .unwrap();
        let record = &page.list[0];
        assert_eq!(name_of(TaskFamily::Lipsync, record), "job-7");
        assert_eq!(name_of(TaskFamily::Image2Video, record), "");
        assert_eq!(record.current_status, TaskStatus::Completed);
        assert_eq!(record.result_url.as_deref(), Some("https://x/v.mp4"));
    }
}
