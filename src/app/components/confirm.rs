//! A confirmation step that works before the page's script has loaded: a disclosure
//! (`<details>`) whose summary asks (e.g. "Delete"), and whose body says what happens and holds
//! the confirming form (e.g. "Delete for good"). Browsers open and close it on their own, by
//! mouse and keyboard. Once the script runs, Escape also closes it (focus goes back to the
//! summary), a "step back" button appears, and it closes when its action succeeds.

use leptos::html;
use leptos::prelude::*;

#[component]
pub fn ConfirmStep(
    /// The summary's text: the first step ("Delete", "Continue training").
    #[prop(into)]
    ask: String,
    /// The summary's classes (styled like the button it replaces).
    #[prop(into)]
    class: String,
    /// The summary's `data-testid`, if any.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// The confirmation's accessible name ("Confirm delete").
    #[prop(into)]
    label: String,
    /// `dialog`, or `alertdialog` when the step cannot be undone.
    #[prop(default = "dialog")]
    role: &'static str,
    /// The confirmation body's `data-testid`, if any.
    #[prop(optional)]
    body_testid: Option<&'static str>,
    /// The step-back button's text ("Cancel", "Keep it"); shown once the script runs.
    keep: &'static str,
    /// Whether it is open; set it `false` to close it (e.g. after the action succeeded).
    open: RwSignal<bool>,
    /// What happens, and the confirming form.
    children: Children,
) -> impl IntoView {
    let details = NodeRef::<html::Details>::new();
    let summary = NodeRef::<html::Summary>::new();
    let scripted = scripted();
    let close = move || {
        open.set(false);
        if let Some(summary) = summary.get_untracked() {
            let _ = summary.focus();
        }
    };
    view! {
        <details class="confirm-step" node_ref=details prop:open=move || open.get()
            on:toggle=move |_| {
                if let Some(d) = details.get_untracked() {
                    open.set(d.open());
                }
            }
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.prevent_default();
                    close();
                }
            }>
            <summary class=class data-testid=testid node_ref=summary>{ask}</summary>
            <div class="confirm" role=role aria-label=label data-testid=body_testid>
                {children()}
                <Show when=move || scripted.get()>
                    <button type="button" class="secondary small" on:click=move |_| close()>{keep}</button>
                </Show>
            </div>
        </details>
    }
}

/// `true` once the page's script runs (effects never run on the server), so controls that only
/// work with it appear only then, after hydration.
pub fn scripted() -> ReadSignal<bool> {
    let (on, set_on) = signal(false);
    Effect::new(move |_| set_on.set(true));
    on
}

/// Which confirmation step of the page is open (e.g. `cancel:{id}`), kept above the cards:
/// a card is drawn anew whenever its character or generation changes (progress, every few
/// seconds), and a step someone opened must stay open through that.
#[derive(Clone, Copy)]
struct OpenStep(RwSignal<Option<String>>);

/// Called by pages listing cards, so their open steps outlive the cards' redraws.
pub fn provide_open_step() {
    provide_context(OpenStep(RwSignal::new(None)));
}

/// The open state of the step `name`: restored from, and kept in, the page's [`OpenStep`].
pub fn step_state(name: String) -> RwSignal<bool> {
    let Some(OpenStep(page)) = use_context::<OpenStep>() else {
        return RwSignal::new(false);
    };
    let open = RwSignal::new(page.get_untracked().as_deref() == Some(name.as_str()));
    Effect::new(move |_| {
        let now = open.get();
        let mine = page.with_untracked(|p| p.as_deref() == Some(name.as_str()));
        if now && !mine {
            page.set(Some(name.clone()));
        } else if !now && mine {
            page.set(None);
        }
    });
    open
}
