//! Share links of one of my workflows: make one, copy it, revoke it.

use crate::api::{self, Share};
use crate::browser::origin;
use crate::components::copy_button::CopyButton;
use crate::library::MyWorkflows;
use crate::sync::SyncState;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The share links of the workflow `local_id`, once it is in the connected workspace.
#[component]
pub fn ShareLinks(local_id: String) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let sync = SyncState::expect();
    let link = Memo::new(move |_| {
        lib.with(|l| {
            l.get(&local_id)
                .map(|w| (w.remote_id.clone(), w.dirty))
                .unwrap_or((None, false))
        })
    });
    let token = Memo::new(move |_| {
        sync.connection
            .with(|c| c.as_ref().map(|c| c.token.clone()))
    });
    let remote_id = Memo::new(move |_| link.get().0);
    // Bumped after a link is made or revoked, so the list is read again.
    let reload = RwSignal::new(0u32);
    let shares = LocalResource::new(move || {
        let token = token.get();
        let remote_id = remote_id.get();
        reload.track();
        async move {
            match (token, remote_id) {
                (Some(t), Some(id)) => Some(api::list_shares(&t, &id).await),
                _ => None,
            }
        }
    });
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let create = move |_| {
        let (Some(t), Some(id)) = (token.get_untracked(), remote_id.get_untracked()) else {
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::create_share(&t, &id).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let revoke = move |slug: String| {
        let Some(t) = token.get_untracked() else {
            return;
        };
        error.set(None);
        spawn_local(async move {
            match api::delete_share(&t, &slug).await {
                Ok(()) => reload.update(|n| *n += 1),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let body = move || {
        match (token.get(), remote_id.get()) {
        (None, _) => view! {
            <p class="subdued">"Connect a workspace (in “Workspace sync”) to share this workflow by link."</p>
        }
        .into_any(),
        (Some(_), None) => view! {
            <p class="subdued">"Press “Sync now” to put this workflow in your workspace; then you can share it."</p>
        }
        .into_any(),
        (Some(_), Some(_)) => view! {
            <p class="subdued">
                "Anyone with a link sees this workflow’s steps and can save a copy; they cannot change yours. "
                {move || link.get().1.then_some("The link shows the version in your workspace: sync to share your latest changes.")}
            </p>
            <div>
                <button
                    type="button"
                    class="button"
                    data-testid="create-share"
                    prop:disabled=move || busy.get()
                    on:click=create
                >
                    {move || if busy.get() { "Making a link…" } else { "Share link" }}
                </button>
            </div>
            {move || shares.get().flatten().map(|list| match list {
                Ok(list) => share_list(list, revoke).into_any(),
                Err(e) => view! { <p class="error" role="alert">{format!("The links could not be listed: {e}")}</p> }.into_any(),
            })}
        }
        .into_any(),
    }
    };
    view! {
        <div class="shares" data-testid="share-links">
            <h4>"Share by link"</h4>
            {body}
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="share-error">{e}</p> })}
        </div>
    }
}

fn share_list(list: Vec<Share>, revoke: impl Fn(String) + Copy + 'static) -> impl IntoView {
    let base = origin();
    let rows = list
        .into_iter()
        .map(|s| {
            let url = format!("{base}/s/{}", s.slug);
            let slug = s.slug.clone();
            view! {
                <li class="share" data-testid="share">
                    <input class="input mono" readonly value=url.clone() aria-label="Share link" data-testid="share-url"/>
                    <CopyButton text=url label="Copy" testid="copy-share"/>
                    <button type="button" class="button plain critical" data-testid="revoke-share" on:click=move |_| revoke(slug.clone())>
                        "Revoke"
                    </button>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="share-list">{rows}</ul> }
}
