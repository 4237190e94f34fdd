//! One photo's outcome: before and after, the files made, their compliance, the generated listing
//! copy, and the step log.

use crate::components::copy_button::CopyButton;
use crate::process::{format_size, ArtifactView, PhotoResult};
use leptos::prelude::*;
use shotline_core::channels::Compliance;
use shotline_core::copy::Copy;
use shotline_core::engine::{Status, StepLog};
use std::sync::Arc;

/// A card for one photo. A failed photo says why, on the photo.
#[component]
pub fn PhotoCard(result: Arc<PhotoResult>) -> impl IntoView {
    let r = &result;
    let status = if r.ok() { "ok" } else { "failed" };
    let facts = r
        .report
        .facts
        .as_ref()
        .map(|f| format!("{} × {} px", f.width, f.height));
    let before = r.before.as_ref().map(|u| u.as_str().to_string());
    let after = r
        .artifacts
        .iter()
        .find(|a| a.artifact.mime.starts_with("image/"))
        .and_then(|a| a.url.as_ref().ok())
        .map(|u| u.as_str().to_string());
    let error = r.report.error.clone();
    let pair = (before.is_some() || after.is_some()).then(|| {
        view! {
            <div class="pair">
                <Thumb label="Before" src=before caption=facts.clone() testid="before"/>
                <Thumb label="After" src=after caption=None testid="after"/>
            </div>
        }
    });
    let artifacts = (!r.artifacts.is_empty()).then(|| {
        let rows = r.artifacts.iter().map(artifact_row).collect_view();
        view! { <ul class="artifacts">{rows}</ul> }
    });
    let warnings = (!r.report.warnings.is_empty()).then(|| {
        let items = r
            .report
            .warnings
            .iter()
            .map(|w| view! { <li>{w.clone()}</li> })
            .collect_view();
        view! { <ul class="warnings" data-testid="warnings">{items}</ul> }
    });
    view! {
        <article class="photo" data-testid="photo-result" data-status=status>
            <header class="photo-head">
                <h3 class="photo-name">{r.file.clone()}</h3>
                {if r.ok() {
                    view! { <span class="badge success">"Done"</span> }.into_any()
                } else {
                    view! { <span class="badge critical">"Failed"</span> }.into_any()
                }}
                <span class="subdued">{format!("{:.0} ms", r.report.ms)}</span>
            </header>
            {error.map(|e| view! { <p class="error" role="alert" data-testid="photo-error">{e}</p> })}
            {pair}
            {artifacts}
            {warnings}
            {r.report.copy.as_ref().map(copy_text)}
            {step_log(&r.report.steps)}
        </article>
    }
}

#[component]
fn Thumb(
    label: &'static str,
    src: Option<String>,
    caption: Option<String>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <figure class="thumb">
            {match src {
                Some(src) => view! { <img src=src alt=label data-testid=testid decoding="async"/> }.into_any(),
                None => view! { <div class="thumb-empty">"No image"</div> }.into_any(),
            }}
            <figcaption>
                {label}
                {caption.map(|c| view! { <span class="subdued">" · " {c}</span> })}
            </figcaption>
        </figure>
    }
}

fn artifact_row(a: &ArtifactView) -> impl IntoView {
    let art = &a.artifact;
    let facts = format!(
        "{} × {} px · {}{}",
        art.width,
        art.height,
        format_size(art.size),
        art.quality
            .map(|q| format!(" · quality {q}"))
            .unwrap_or_default()
    );
    let link = match &a.url {
        Ok(url) => view! {
            <a class="button" href=url.as_str().to_string() download=art.name.clone() data-testid="download">
                "Download"
            </a>
        }
        .into_any(),
        Err(e) => view! { <span class="error">{format!("cannot offer a download: {e}")}</span> }.into_any(),
    };
    view! {
        <li class="artifact" data-testid="artifact" data-mime=art.mime.clone()>
            <div class="artifact-main">
                <span class="artifact-name" data-testid="artifact-name">{art.name.clone()}</span>
                <span class="subdued" data-testid="artifact-facts">{facts}</span>
                {art.compliance.as_ref().map(compliance_badge)}
            </div>
            {link}
        </li>
    }
}

/// Pass/fail for a channel, with the failing rules listed (and all rules in the tooltip).
fn compliance_badge(c: &Compliance) -> impl IntoView {
    let id = c.channel.id().replace('_', " ");
    let mut chars = id.chars();
    let channel: String = chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    let tooltip = c
        .rules
        .iter()
        .map(|r| {
            format!(
                "{} {}: {}",
                if r.pass { "✓" } else { "✗" },
                r.rule,
                r.detail
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let failing = c
        .rules
        .iter()
        .filter(|r| !r.pass)
        .map(|r| view! { <li>{format!("{}: {}", r.rule, r.detail)}</li> })
        .collect_view();
    let (class, text) = if c.pass {
        ("badge success", format!("{channel}: compliant"))
    } else {
        ("badge critical", format!("{channel}: not compliant"))
    };
    view! {
        <span class="compliance" data-testid="compliance" data-pass=c.pass.to_string()>
            <span class=class title=tooltip>{text}</span>
            <ul class="reasons">{failing}</ul>
        </span>
    }
}

/// The listing copy the workflow generated (title, description, alt text, social captions), each
/// with a button to copy it.
fn copy_text(c: &Copy) -> impl IntoView {
    let rows = [
        ("Title", &c.title),
        ("Description", &c.description),
        ("Alt text", &c.alt_text),
        ("Instagram", &c.instagram),
        ("Facebook", &c.facebook),
    ]
    .into_iter()
    .filter(|(_, text)| !text.trim().is_empty())
    .map(|(label, text)| {
        let text = text.clone();
        view! {
            <div class="copy-row">
                <dt>{label}</dt>
                <dd>
                    <span class="copy-value">{text.clone()}</span>
                    <CopyButton text=text label="Copy" testid="copy-button"/>
                </dd>
            </div>
        }
    })
    .collect_view();
    let colors = (!c.colors.is_empty()).then(|| {
        view! {
            <div class="copy-row">
                <dt>"Colours"</dt>
                <dd>{c.colors.join(", ")}</dd>
            </div>
        }
    });
    view! {
        <details class="copytext" data-testid="copy">
            <summary>"Listing copy · " {c.title.clone()}</summary>
            <dl>{rows}{colors}</dl>
        </details>
    }
}

/// The per-step log, collapsed: what ran, how long it took, and any note or error.
fn step_log(steps: &[StepLog]) -> impl IntoView {
    let total: f64 = steps.iter().map(|s| s.ms).sum();
    let summary = format!(
        "{} step{} · {:.0} ms",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
        total
    );
    let rows = steps
        .iter()
        .map(|s| {
            let status = match s.status {
                Status::Ok => "ok",
                Status::Skipped => "skipped",
                Status::Failed => "failed",
            };
            view! {
                <li class="step" data-status=status>
                    <span class="step-name">{s.step.replace('_', " ")}</span>
                    <span class="step-status">{status}</span>
                    <span class="step-ms">{format!("{:.1} ms", s.ms)}</span>
                    {s.message.clone().map(|m| view! { <span class="step-note">{m}</span> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <details class="steplog" data-testid="step-log">
            <summary>"Steps · " {summary}</summary>
            <ol>{rows}</ol>
        </details>
    }
}
