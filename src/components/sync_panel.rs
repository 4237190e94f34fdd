//! "Workspace sync": connect this device to a workspace (new, or with a token from another
//! device), sync, see how it went, and settle conflicts.

use crate::api::{self, Token};
use crate::browser::time_of_day;
use crate::components::conflict_card::ConflictCard;
use crate::components::copy_button::CopyButton;
use crate::library::MyWorkflows;
use crate::sync::{Status, SyncState};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SyncPanel() -> impl IntoView {
    let sync = SyncState::expect();
    // The token of a workspace made here, shown once, until the merchant closes it.
    let new_token = RwSignal::new(None::<String>);
    let connected = Memo::new(move |_| sync.connection.with(Option::is_some));
    view! {
        <section class="card" aria-labelledby="sync-title" data-testid="sync-panel">
            <div class="card-head">
                <h2 id="sync-title">"Workspace sync"</h2>
                <Show when=move || connected.get()>
                    <span class="badge success" data-testid="connected">"Connected"</span>
                </Show>
            </div>
            <Show
                when=move || connected.get()
                fallback=move || view! { <ConnectForm new_token=new_token/> }
            >
                <Connected new_token=new_token/>
            </Show>
        </section>
    }
}

#[component]
fn ConnectForm(new_token: RwSignal<Option<String>>) -> impl IntoView {
    let sync = SyncState::expect();
    let lib = MyWorkflows::expect();
    let token = RwSignal::new(String::new());
    // Each failure is shown in the box of the button that caused it.
    let create_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let create = move |_| {
        busy.set(true);
        create_error.set(None);
        error.set(None);
        spawn_local(async move {
            match api::create_workspace().await {
                Ok(ws) => {
                    new_token.set(Some(ws.token.clone()));
                    sync.connect(Token(ws.token), ws.workspace_id, lib);
                }
                Err(e) => {
                    create_error.set(Some(format!("The workspace could not be created. {e}")))
                }
            }
            busy.set(false);
        });
    };
    let connect = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pasted = token.get_untracked().trim().to_string();
        if pasted.is_empty() {
            error.set(Some(
                "Paste the token from the device that is connected to the workspace.".into(),
            ));
            return;
        }
        busy.set(true);
        create_error.set(None);
        error.set(None);
        spawn_local(async move {
            let token = Token(pasted);
            match api::workspace(&token).await {
                Ok(info) => sync.connect(token, info.workspace_id, lib),
                Err(e) if e.status() == Some(401) => error.set(Some(
                    "This token was not accepted. Copy it again from a device that is connected to the workspace: it is one long line starting with “ws_”.".into(),
                )),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <p class="subdued">
            "Connect a workspace to have your workflows on your other devices too, and to share them by link. They stay saved in this browser as well."
        </p>
        <div class="connect-options">
            <div class="option">
                <h3>"New to workspaces?"</h3>
                <p class="subdued">"Create one for your shop. You get a token to connect your other devices with."</p>
                <div>
                    <button type="button" class="button" data-testid="create-workspace" prop:disabled=move || busy.get() on:click=create>
                        "Create a workspace"
                    </button>
                </div>
                {move || create_error.get().map(|e| view! { <p class="error" role="alert" data-testid="create-error">{e}</p> })}
            </div>
            <form class="option" on:submit=connect>
                <h3>"Already have one?"</h3>
                <label class="subdued" for="token-input">"Paste the token from a device that is connected:"</label>
                <div class="inline">
                    <input
                        id="token-input"
                        class="input mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="ws_…"
                        data-testid="token-input"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                    />
                    <button type="submit" class="button" data-testid="connect" prop:disabled=move || busy.get()>
                        "Connect"
                    </button>
                </div>
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="connect-error">{e}</p> })}
            </form>
        </div>
    }
}

#[component]
fn Connected(new_token: RwSignal<Option<String>>) -> impl IntoView {
    let sync = SyncState::expect();
    let lib = MyWorkflows::expect();
    let workspace_id = move || {
        sync.connection
            .with(|c| c.as_ref().map(|c| c.workspace_id.clone()))
    };
    let token = Signal::derive(move || {
        sync.connection
            .with(|c| c.as_ref().map(|c| c.token.0.clone()).unwrap_or_default())
    });
    let syncing = move || sync.status.with(|s| *s == Status::Syncing);
    let unsynced = move || {
        lib.with(|l| {
            l.workflows
                .iter()
                .filter(|w| w.dirty || !w.synced())
                .count()
                + l.deleted.len()
        })
    };
    let status = move || {
        let last = sync
            .connection
            .with(|c| c.as_ref().and_then(|c| c.last_synced));
        let mut text = match (sync.status.get(), last) {
            (Status::Syncing, _) => "Syncing…".to_string(),
            (Status::Failed(_), Some(t)) => {
                format!("The last sync failed. Last synced at {}.", time_of_day(t))
            }
            (Status::Failed(_), None) => "The last sync failed.".to_string(),
            (Status::Idle, Some(t)) => format!("Last synced at {}.", time_of_day(t)),
            (Status::Idle, None) => "Not synced yet.".to_string(),
        };
        match unsynced() {
            0 => {}
            1 => text.push_str(" 1 change on this device is not synced yet."),
            n => text.push_str(&format!(" {n} changes on this device are not synced yet.")),
        }
        text
    };
    let failure = move || match sync.status.get() {
        Status::Failed(e) => {
            Some(view! { <p class="error" role="alert" data-testid="sync-error">{e}</p> })
        }
        _ => None,
    };
    view! {
        <p>
            "This device is connected to the workspace "
            <code data-testid="workspace-id">{workspace_id}</code>
            ". Your workflows are kept there and on every device connected to it."
        </p>
        {move || new_token.get().map(|t| view! {
            <div class="callout" data-testid="new-token-callout">
                <p><strong>"Your workspace token"</strong></p>
                <div class="inline">
                    <input class="input mono" readonly value=t.clone() aria-label="Workspace token" data-testid="new-token"/>
                    <CopyButton text=t label="Copy token" testid="copy-token"/>
                </div>
                <p>
                    "To see the same workflows on another device, open Shotline there and paste this token under “Already have one?”. Keep it private: anyone who has it can change your workflows. It is shown only this once."
                </p>
                <div>
                    <button type="button" class="button plain" data-testid="dismiss-token" on:click=move |_| new_token.set(None)>
                        "I have copied it"
                    </button>
                </div>
            </div>
        })}
        <div class="sync-row">
            <button
                type="button"
                class="button"
                data-testid="sync-now"
                prop:disabled=syncing
                on:click=move |_| sync.sync_now(lib)
            >
                {move || if syncing() { "Syncing…" } else { "Sync now" }}
            </button>
            <span class="subdued" role="status" aria-live="polite" data-testid="sync-status"
                data-syncing=move || syncing().to_string()
                data-last-synced=move || {
                    sync.connection
                        .with(|c| c.as_ref().and_then(|c| c.last_synced))
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                }
            >
                {status}
            </span>
            <span class="spacer"></span>
            <button
                type="button"
                class="button plain"
                data-testid="disconnect"
                on:click=move |_| {
                    new_token.set(None);
                    sync.disconnect();
                }
            >
                "Disconnect"
            </button>
        </div>
        {failure}
        {move || {
            let problems = sync.problems.get();
            (!problems.is_empty()).then(|| {
                let items = problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view();
                view! {
                    <div class="error" role="alert" data-testid="sync-problems">
                        <p>"Some workflows could not be synced:"</p>
                        <ul>{items}</ul>
                    </div>
                }
            })
        }}
        <For
            each=move || sync.conflicts.get()
            key=|c| (c.local_id.clone(), c.theirs.revision, c.error.clone())
            let:conflict
        >
            <ConflictCard conflict=conflict/>
        </For>
        <details class="more">
            <summary>"Connect another device"</summary>
            <p class="subdued">"Copy this device’s token and paste it on the other device under “Already have one?”. Keep it private."</p>
            <div>
                <CopyButton text=token label="Copy this device’s token" testid="copy-device-token"/>
            </div>
        </details>
    }
}
