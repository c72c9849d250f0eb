//! A confirmation step that works before the page's script has loaded: a disclosure
//! (`<details>`) whose summary asks (e.g. "Delete"), and whose body says what happens and holds
//! the confirming form (e.g. "Delete for good"). Browsers open and close it on their own, by
//! mouse and keyboard. Once the script runs, Escape also closes it (focus goes back to the
//! summary), a "step back" button appears, and it closes when its action succeeds.

use leptos::html;
use leptos::prelude::*;
use std::sync::Arc;

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
    /// Whether it is open; set it closed after the action succeeded ([`Step::close`]).
    open: Step,
    /// What happens, and the confirming form.
    children: Children,
) -> impl IntoView {
    let details = NodeRef::<html::Details>::new();
    let summary = NodeRef::<html::Summary>::new();
    let scripted = scripted();
    // A `Callback` (copied into each handler) that owns its own handle on the step.
    let close = {
        let open = open.clone();
        Callback::new(move |()| {
            open.close();
            if let Some(summary) = summary.try_get_untracked().flatten() {
                let _ = summary.focus();
            }
        })
    };
    let (shown, toggled) = (open.clone(), open);
    view! {
        <details class="confirm-step" node_ref=details prop:open=move || shown.is_open()
            on:toggle=move |_| {
                // `toggle` is queued: it may come after a reload replaced this step (and
                // disposed its node references) with a fresh one.
                if let Some(d) = details.try_get_untracked().flatten() {
                    toggled.set(d.open());
                }
            }
            on:keydown=move |ev| {
                use wasm_bindgen::JsCast;
                // The element's own state, not the step's: a `toggle` dropped by a redraw can
                // leave the step closed while the browser shows it open, and closing a closed
                // step would change nothing on the page.
                let shown = ev.current_target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok());
                if let Some(d) = shown.filter(|d| ev.key() == "Escape" && d.open()) {
                    ev.prevent_default();
                    d.set_open(false);
                    close.run(());
                }
            }>
            <summary class=class data-testid=testid node_ref=summary>{ask}</summary>
            <div class="confirm" role=role aria-label=label data-testid=body_testid>
                {children()}
                <Show when=move || scripted.get()>
                    <button type="button" class="secondary small" on:click=move |_| close.run(())>{keep}</button>
                </Show>
            </div>
        </details>
    }
}

/// `true` once the page's script runs (effects never run on the server), so controls that only
/// work with it appear only then, after hydration. One signal for the whole app (provided by
/// [`provide_scripted`]), not one per control: a page of cards has dozens of them.
pub fn scripted() -> ReadSignal<bool> {
    match use_context::<Scripted>() {
        Some(Scripted(on)) => on,
        None => own_scripted(),
    }
}

#[derive(Clone, Copy)]
struct Scripted(ReadSignal<bool>);

/// Called once by the app, above every page.
pub fn provide_scripted() {
    provide_context(Scripted(own_scripted()));
}

fn own_scripted() -> ReadSignal<bool> {
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

/// One confirmation step's open state: whether the page's open step (or, on a page without
/// one, its own) is this one. No signal or effect of its own per step.
#[derive(Clone)]
pub struct Step {
    open: RwSignal<Option<String>>,
    name: Arc<str>,
}

impl Step {
    pub fn new(name: String) -> Self {
        let open = match use_context::<OpenStep>() {
            Some(OpenStep(page)) => page,
            None => RwSignal::new(None),
        };
        Self {
            open,
            name: name.into(),
        }
    }

    fn is_mine(&self, open: &Option<String>) -> bool {
        open.as_deref() == Some(&*self.name)
    }

    fn is_open(&self) -> bool {
        self.open.with(|o| self.is_mine(o))
    }

    fn is_open_untracked(&self) -> bool {
        self.open.with_untracked(|o| self.is_mine(o))
    }

    /// Opens it (closing any other of the page), or closes it if it is the open one.
    fn set(&self, open: bool) {
        let mine = self.is_open_untracked();
        if open && !mine {
            self.open.set(Some(self.name.to_string()));
        } else if !open && mine {
            self.open.set(None);
        }
    }

    pub fn close(&self) {
        self.set(false);
    }
}

/// A card's steps after one of its actions succeeded (`succeeded` turns true, read in an
/// effect): they close, and `then` runs (the page reloads its list).
pub fn close_on_success<const N: usize>(
    steps: [&Step; N],
    succeeded: impl Fn() -> bool + 'static,
    then: Callback<()>,
) {
    let steps = steps.map(Step::clone);
    Effect::new(move |_| {
        if succeeded() {
            steps.iter().for_each(Step::close);
            then.run(());
        }
    });
}
