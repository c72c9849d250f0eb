//! The account page: who you are, your credits, personal API tokens (create, list, revoke),
//! changing the password (other sessions end) and deleting the account (with a confirmation).

use crate::app::components::actions::{own_result, succeeded};
use crate::app::components::notice::ErrorNotice;
use crate::app::components::require_login::RequireLogin;
use crate::app::loaded::{load, when_loaded};
use crate::app::pages::credits::utc_time;
use crate::app::session::{start_afresh, use_session};
use crate::server_fns::account::{
    list_api_tokens, list_importable_avatars, ChangePassword, DeleteAccount, ImportAvatars,
    RevokeApiToken, TokenSummary,
};
use crate::server_fns::auth::CreateApiToken;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text="Account"/>
        <RequireLogin>
            <section class="card">
                <h1>"Account"</h1>
                <Transition fallback=|| ()>
                    {when_loaded(session.info, move |info| {
                        let user = info.ok().and_then(|i| i.user)?;
                        Some(view! {
                            <dl class="facts">
                                <dt>"Email"</dt><dd data-testid="account-email">{user.email}</dd>
                                <dt>"Credits"</dt>
                                <dd>{move || session.credits_or(user.credits)}" · "<A href="/account/credits">"See every entry"</A></dd>
                                <dt>"Presets"</dt>
                                <dd><A href="/presets">"Saved character defaults"</A></dd>
                            </dl>
                        })
                    })}
                </Transition>
            </section>
            <ApiTokens/>
            <ImportAvatars/>
            <PasswordChange/>
            <AccountDeletion/>
        </RequireLogin>
    }
}

#[component]
fn ApiTokens() -> impl IntoView {
    let create_token = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = load(
        move || (create_token.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    view! {
        <section class="card shrinkable">
            <h2>"API tokens"</h2>
            <p class="muted">
                "Scripts can call the JSON API with "<code>"Authorization: Bearer <token>"</code>"."
            </p>
            <ActionForm action=create_token attr:class="row-form">
                <label class="visually-hidden" for="token-name">"Token name"</label>
                <input id="token-name" type="text" name="name" placeholder="Token name" maxlength="100" required/>
                <button type="submit">"Create token"</button>
            </ActionForm>
            <ErrorNotice result=own_result(create_token)/>
            {move || create_token.value().get().and_then(Result::ok).map(|token| view! {
                <p class="notice">"Copy it now; it is not shown again:"</p>
                <code class="secret" data-testid="new-token">{token}</code>
            })}
            <ErrorNotice result=own_result(revoke)/>
            <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || tokens.get().map(|answer| match answer {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" data-testid="no-tokens">"No tokens yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll">
                            <table class="list-table" data-testid="tokens">
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Created (UTC)"</th>
                                    <th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| token_row(t, revoke)).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn token_row(token: TokenSummary, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let label = format!("Revoke {}", token.name);
    view! {
        <tr data-testid="token-row">
            <td>{token.name.clone()}</td>
            <td class="nowrap">{utc_time(token.created_at)}</td>
            <td class="nowrap">{token.last_used_at.map(utc_time).unwrap_or_else(|| "never".into())}</td>
            <td>
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="id" value=token.id/>
                    <button type="submit" class="link-button danger-text" aria-label=label>"Revoke"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn PasswordChange() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <section class="card">
            <h2>"Password"</h2>
            <p class="muted">"Changing it logs out every other browser. API tokens keep working; revoke them above if needed."</p>
            <ActionForm action=change attr:class="stack-form">
                <label>"Current password"
                    <input type="password" name="current_password" autocomplete="current-password" required/>
                </label>
                <label>"New password"
                    <input type="password" name="new_password" autocomplete="new-password" minlength="8" required/>
                </label>
                <button type="submit">"Change password"</button>
            </ActionForm>
            <ErrorNotice result=own_result(change)/>
            {move || succeeded(change).then(|| view! {
                <p class="notice" role="status" data-testid="password-changed">
                    "Password changed. Other sessions were logged out."
                </p>
            })}
        </section>
    }
}

#[component]
fn AccountDeletion() -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let confirming = RwSignal::new(false);
    // The dialog takes focus: its password field, once shown.
    let password_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if confirming.get() {
            request_animation_frame(move || {
                if let Some(field) = password_field.get_untracked() {
                    let _ = field.focus();
                }
            });
        }
    });
    Effect::new(move |_| {
        if succeeded(delete) {
            start_afresh("/");
        }
    });
    view! {
        <section class="card danger-zone">
            <h2>"Delete account"</h2>
            <p class="muted">
                "Deletes your characters, generations, media, credits and tokens, and removes your trained avatars at A2E. This cannot be undone."
            </p>
            <Show when=move || !confirming.get()>
                <button class="danger" data-testid="delete-account" on:click=move |_| confirming.set(true)>
                    "Delete my account…"
                </button>
            </Show>
            <Show when=move || confirming.get()>
                <div class="confirm" role="dialog" aria-label="Confirm account deletion"
                    on:keydown=move |ev| if ev.key() == "Escape" { confirming.set(false) }>
                    <p><strong>"Really delete your account and everything in it?"</strong></p>
                    <ActionForm action=delete attr:class="stack-form">
                        <label>"Your password, to confirm"
                            <input type="password" name="password" autocomplete="current-password" required node_ref=password_field/>
                        </label>
                        <div class="card-actions">
                            <button type="submit" class="danger" data-testid="confirm-delete-account">"Delete for good"</button>
                            <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </div>
                    </ActionForm>
                    <ErrorNotice result=own_result(delete)/>
                </div>
            </Show>
        </section>
    }
}

/// Avatars the A2E account already has: looked up on demand (it asks A2E), picked by
/// checkbox, adopted as characters.
#[component]
fn ImportAvatars() -> impl IntoView {
    // How often the user asked (0: not yet): each click asks A2E again.
    let looks = RwSignal::new(0u32);
    let import = ServerAction::<ImportAvatars>::new();
    let importing = import.pending();
    let avatars = load(
        move || (looks.get(), import.version().get()),
        |(looks, _)| async move {
            match looks {
                0 => None,
                _ => Some(list_importable_avatars().await),
            }
        },
    );
    let chosen = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if succeeded(import) {
            chosen.set(vec![]);
        }
    });
    let toggle = move |id: String, on: bool| {
        chosen.update(|c| {
            c.retain(|x| x != &id);
            if on {
                c.push(id);
            }
        })
    };
    view! {
        <section class="card">
            <h2>"Import A2E avatars"</h2>
            <p class="muted">"Adopt avatars already trained in the studio's A2E account as characters. Nothing is retrained; deleting such a character later leaves the avatar at A2E."</p>
            <button type="button" class="secondary" data-testid="find-avatars" on:click=move |_| looks.update(|n| *n += 1)>
                {move || if looks.get() == 0 { "Look for avatars" } else { "Look again" }}
            </button>
            <Transition fallback=|| view! { <p class="muted">"Asking A2E…"</p> }>
                {move || avatars.get().flatten().map(|answer| match answer {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"The A2E account has no other avatars."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="preset-list" data-testid="a2e-avatars">
                            {list.into_iter().map(|a| {
                                let id = a.avatar_id.clone();
                                let state = if a.imported { "already imported".to_string() } else { a.status.clone() };
                                view! {
                                    <li class="preset" data-testid="a2e-avatar">
                                        <label>
                                            <input type="checkbox" disabled=!a.importable
                                                on:change=move |ev| toggle(id.clone(), event_target_checked(&ev))/>
                                            " "{a.name.clone()}
                                        </label>
                                        <span class="muted small">{state}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <button type="button" disabled=move || chosen.with(Vec::is_empty) || importing.get()
                            on:click=move |_| { import.dispatch(ImportAvatars { avatar_ids: chosen.get() }); }>
                            {move || format!("Import selected ({})", chosen.with(Vec::len))}
                        </button>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
            <ErrorNotice result=import.value()/>
            {move || import.value().get().and_then(Result::ok).map(|n| view! {
                <p class="notice" role="status">{format!("Imported {n}. They are on the Characters page.")}</p>
            })}
        </section>
    }
}
