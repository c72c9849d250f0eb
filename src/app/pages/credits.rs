//! The credits page (`/account/credits`): the balance, A2E's coins with a real key, and the
//! itemised ledger, a page at a time. Paging is by links (`?cursor=`), so it works before the
//! WASM has loaded and every page has its own address.

use crate::account_types::{LedgerEntry, LedgerPage};
use crate::app::components::require_login::RequireLogin;
use crate::app::loaded::{load, when_loaded};
use crate::server_fns::account::load_credits;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn CreditsPage() -> impl IntoView {
    view! {
        <Title text="Credits"/>
        <RequireLogin>
            <CreditsLedger/>
        </RequireLogin>
    }
}

#[component]
fn CreditsLedger() -> impl IntoView {
    let query = use_query_map();
    let cursor = Memo::new(move |_| query.read().get("cursor"));
    let data = load(move || cursor.get(), load_credits);
    view! {
        <section class="card shrinkable">
            <h1>"Credits"</h1>
            <p class="muted"><A href="/account">"← Account"</A></p>
            <Transition fallback=|| view! { <p class="muted">"Loading the ledger…"</p> }>
                {when_loaded(data, move |answer| match answer {
                    Ok((summary, page)) => view! {
                        <dl class="facts">
                            <dt>"Balance"</dt>
                            <dd data-testid="credit-balance">{format!("{} credits", summary.balance)}</dd>
                            {summary.a2e.map(|a2e| view! {
                                <dt>"A2E account"</dt>
                                <dd data-testid="a2e-coins">
                                    {format!("{} coins, {} diamonds left", a2e.coins, a2e.diamonds)}
                                </dd>
                            })}
                        </dl>
                        <LedgerTable page=page first=cursor.get().is_none()/>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn LedgerTable(page: LedgerPage, first: bool) -> impl IntoView {
    let empty = page.entries.is_empty();
    let rows = page.entries.into_iter().map(entry_row).collect_view();
    let next = page.next_cursor.map(|cursor| {
        view! { <A href=format!("/account/credits?cursor={cursor}") attr:rel="next">"Older entries →"</A> }
    });
    let newest = (!first).then(|| view! { <A href="/account/credits">"← Newest"</A> });
    view! {
        <h2 class="ledger-title">"Ledger"</h2>
        {empty.then(|| view! { <p class="muted">"No entries here."</p> })}
        <div class="table-scroll">
            <table class="ledger" data-testid="ledger">
                <thead>
                    <tr><th scope="col">"When (UTC)"</th><th scope="col">"What"</th><th scope="col">"For"</th><th scope="col" class="num">"Credits"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Ledger pages">{newest}{next}</nav>
    }
}

fn entry_row(entry: LedgerEntry) -> impl IntoView {
    let amount = match entry.amount {
        0 => "0".to_string(),
        n if n > 0 => format!("+{n}"),
        n => n.to_string(),
    };
    let subject = entry.subject.map(|s| {
        let label = s
            .name
            .clone()
            .unwrap_or_else(|| format!("deleted {}", s.kind));
        match s.link {
            Some(link) => view! { <a href=link>{label}</a> }.into_any(),
            None => view! { <span class="muted">{label}</span> }.into_any(),
        }
    });
    view! {
        <tr data-testid="ledger-row" data-kind=entry.kind.clone()>
            <td class="nowrap">{utc_time(entry.created_at)}</td>
            <td>{entry.description}</td>
            <td>{subject}</td>
            <td class="num">{amount}</td>
        </tr>
    }
}

/// `YYYY-MM-DD HH:MM` of a Unix time in milliseconds (UTC; the same on server and browser,
/// so hydration sees the text the server rendered).
pub fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_formatted_in_utc() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00");
        assert_eq!(super::utc_time(1_764_066_000_000), "2025-11-25 10:20");
        assert_eq!(super::utc_time(951_782_400_000), "2000-02-29 00:00");
    }
}
