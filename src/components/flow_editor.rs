//! The workflow editor: the trigger at the top, then the steps as a vertical list with IF /
//! OTHERWISE blocks nested under their rule (Shopify Flow's tree, not a free canvas).
//!
//! The tree is rebuilt only when its shape changes (a step added, moved, removed, a rule row
//! added); every value inside reads the workflow signal by path, so dragging a slider keeps focus
//! and costs one small re-render. Each change goes through [`Editing::change`]: it records undo
//! history and, when the workflow is valid, saves it to my workflows at once.

use crate::browser::now;
use crate::describe;
use crate::editing::{self, Combine, Hint, History, RuleGroup, RuleItem, RuleSlot};
use crate::library::MyWorkflows;
use leptos::prelude::*;
use serde_json::{json, Value};
use shotline_core::channels::Channel;
use shotline_core::condition::{Comparison, Op};
use shotline_core::facts::{field_kind, FieldKind};
use shotline_core::model::{Action, ProductSource, Step, Trigger, WebhookFormat, Workflow};
use shotline_core::preview::{step_at, Branch, ListPath, StepPath};
use shotline_core::validate::{validate, ValidationError};
use wasm_bindgen::JsCast;

/// The editor's state, shared by the tree, the forms and the preview (a context value).
#[derive(Clone, Copy)]
pub struct Editing {
    id: StoredValue<String>,
    lib: MyWorkflows,
    /// When the last coalescing change was made (ms), so a pause starts a new undo step.
    last_change: StoredValue<f64>,
    pub wf: RwSignal<Workflow>,
    history: StoredValue<History>,
    can_undo: RwSignal<bool>,
    can_redo: RwSignal<bool>,
    /// The step whose form is open and which the preview shows.
    pub selected: RwSignal<Option<StepPath>>,
    /// The list whose palette is open.
    adding: RwSignal<Option<ListPath>>,
    dragging: RwSignal<Option<StepPath>>,
    pub problems: Memo<Vec<ValidationError>>,
    /// A value that could not be set (`steps[1].quality`, why).
    field_error: RwSignal<Option<(String, String)>>,
    /// What the live region last told screen readers ("Moved “Resize” to step 2 of the workflow").
    announce: RwSignal<String>,
}

/// Where the workflow stands against what is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveState {
    Saved,
    Saving,
    NotSaved(String),
}

impl Editing {
    pub fn new(id: String, wf: Workflow) -> Self {
        let wf = RwSignal::new(wf);
        Editing {
            id: StoredValue::new(id),
            lib: MyWorkflows::expect(),
            last_change: StoredValue::new(0.0),
            wf,
            history: StoredValue::new(History::default()),
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
            selected: RwSignal::new(None),
            adding: RwSignal::new(None),
            dragging: RwSignal::new(None),
            problems: Memo::new(move |_| wf.with(validate)),
            field_error: RwSignal::new(None),
            announce: RwSignal::new(String::new()),
        }
    }

    pub fn expect() -> Self {
        expect_context::<Editing>()
    }

    /// Applies `f` to the workflow; records history (changes with the same `key` coalesce) and
    /// saves when the result is valid.
    pub fn change<R>(self, key: Option<&str>, f: impl FnOnce(&mut Workflow) -> R) -> R {
        let before = self.wf.get_untracked();
        let mut next = before.clone();
        let out = f(&mut next);
        if next != before {
            let t = now();
            if t - self.last_change.get_value() > 1500.0 {
                self.seal();
            }
            self.last_change.set_value(t);
            self.history.update_value(|h| h.record(before, key));
            self.wf.set(next);
            self.after_change();
        }
        out
    }

    fn after_change(self) {
        self.can_undo
            .set(self.history.with_value(History::can_undo));
        self.can_redo
            .set(self.history.with_value(History::can_redo));
        let wf = self.wf.get_untracked();
        if validate(&wf).is_empty() {
            let id = self.id.get_value();
            self.lib.update(|l| l.save(&id, wf, now()));
        }
    }

    /// Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y), except in text boxes, which keep the browser's own undo.
    pub fn on_key(self, ev: &web_sys::KeyboardEvent) {
        let z = ev.key().eq_ignore_ascii_case("z");
        if !(ev.ctrl_key() || ev.meta_key()) || !(z || ev.key().eq_ignore_ascii_case("y")) {
            return;
        }
        let in_text = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                el.tag_name() == "TEXTAREA"
                    || (el.tag_name() == "INPUT"
                        && matches!(
                            el.get_attribute("type").as_deref(),
                            None | Some("text") | Some("url")
                        ))
            });
        if in_text {
            return;
        }
        ev.prevent_default();
        if ev.shift_key() || !z {
            self.redo();
        } else {
            self.undo();
        }
    }

    /// Ends a slider drag: the next change is its own undo step.
    pub fn seal(self) {
        self.history.update_value(History::seal);
    }

    pub fn undo(self) {
        let current = self.wf.get_untracked();
        if let Some(prev) = self.history.try_update_value(|h| h.undo(current)).flatten() {
            self.wf.set(prev);
            self.field_error.set(None);
            self.after_change();
        }
    }

    pub fn redo(self) {
        let current = self.wf.get_untracked();
        if let Some(next) = self.history.try_update_value(|h| h.redo(current)).flatten() {
            self.wf.set(next);
            self.field_error.set(None);
            self.after_change();
        }
    }

    /// Takes the stored version (after an edit in the JSON tab) as a new change.
    pub fn reload(self) {
        let id = self.id.get_value();
        if let Some(stored) = self
            .lib
            .with_untracked(|l| l.get(&id).map(|r| r.workflow.clone()))
        {
            self.change(None, |w| *w = stored);
        }
    }

    pub fn save_state(self) -> SaveState {
        let lib = self.lib;
        if let Some(e) = lib.storage_error.get() {
            return SaveState::NotSaved(e);
        }
        if let Some(p) = self.problems.with(|p| p.first().cloned()) {
            return SaveState::NotSaved(self.wf.with(|w| problem_sentence(w, &p)));
        }
        let id = self.id.get_value();
        let same = lib.with(|l| l.get(&id).map(|r| self.wf.with(|w| *w == r.workflow)));
        match same {
            Some(true) => SaveState::Saved,
            Some(false) => SaveState::Saving,
            None => SaveState::NotSaved("this workflow was deleted on this device".into()),
        }
    }

    /// Sets one parameter of the step at `path`; a value the step cannot take is reported on it.
    fn set_field(self, path: &StepPath, field: &str, value: Value, coalesce: bool) {
        let Some(step) = self.wf.with_untracked(|w| step_at(&w.steps, path).cloned()) else {
            return;
        };
        let key = format!("{path}.{field}");
        match editing::with_field(&step, field, value) {
            Ok(s) => {
                self.field_error.set(None);
                self.change(coalesce.then_some(key.as_str()), |w| {
                    if let Some(slot) = editing::step_mut(&mut w.steps, path) {
                        *slot = s;
                    }
                });
            }
            Err(m) => self.field_error.set(Some((key, m))),
        }
    }

    fn field(self, path: &StepPath, field: &str) -> Value {
        self.wf.with(|w| {
            step_at(&w.steps, path)
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.get(field).cloned())
                .unwrap_or(Value::Null)
        })
    }

    fn add(self, list: &ListPath, id: &str) {
        let Some(step) = editing::new_step(id) else {
            return;
        };
        let at = self.change(None, |w| {
            let end = shotline_core::preview::list_at(&w.steps, list).map_or(0, <[Step]>::len);
            editing::insert(w, list, end, step)
        });
        self.adding.set(None);
        self.selected.set(at);
    }

    /// After a move: the moved step is selected, its handle keeps the focus (the tree was rebuilt
    /// under it) and screen readers hear where it went.
    fn moved(self, at: Option<StepPath>) {
        if let Some(at) = at {
            let name = self.step_name(&at);
            self.announce
                .set(format!("Moved “{name}” to {}", editing::place_words(&at)));
            self.selected.set(Some(at.clone()));
            focus_later(format!("[data-handle=\"{at}\"]"));
        }
    }

    /// Alt+↑ / Alt+↓ (and the ↑ / ↓ buttons): one place through the tree, into and out of IF
    /// branches (see [`editing::nudge_target`]), as one undo step.
    fn nudge(self, here: &StepPath, up: bool) {
        let at = self.change(None, |w| editing::nudge(w, here, up));
        if at.is_none() {
            let name = self.step_name(here);
            let end = if up { "top" } else { "bottom" };
            self.announce
                .set(format!("“{name}” is already at the {end} of the workflow"));
        }
        self.moved(at);
    }

    /// The step's own name if it has one, else its type's.
    fn step_name(self, path: &StepPath) -> String {
        self.wf.with_untracked(|w| {
            step_at(&w.steps, path).map_or_else(String::new, |s| {
                s.label
                    .clone()
                    .unwrap_or_else(|| editing::kind_name(s.action.kind()).to_string())
            })
        })
    }
}

/// Focuses an element once the tree has been rebuilt.
fn focus_later(selector: String) {
    request_animation_frame(move || {
        let el = document().query_selector(&selector).ok().flatten();
        if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}

/// A problem as a sentence: "Step 2 (Save image): JPEG quality must be between 1 and 100".
pub fn problem_sentence(wf: &Workflow, p: &ValidationError) -> String {
    if p.path == "name" {
        return "give the workflow a name".into();
    }
    if p.path == "steps" {
        return "add at least one step".into();
    }
    let (step_path, field) = split_problem(&p.path);
    let step = step_path.as_ref().and_then(|sp| step_at(&wf.steps, sp));
    let name = step.map_or("a step", |s| editing::kind_name(s.action.kind()));
    format!("{name}: {}", field_message(step, field, &p.message))
}

/// `steps[1].then[0].quality` → the step's path and `quality`.
fn split_problem(path: &str) -> (Option<StepPath>, &str) {
    match path.rfind(']') {
        Some(i) => (
            StepPath::parse(&path[..=i]),
            path[i + 1..].trim_start_matches('.'),
        ),
        None => (None, path),
    }
}

/// The message with the step type's prefix replaced by the field's label.
fn field_message(step: Option<&Step>, field: &str, message: &str) -> String {
    let kind = step.map_or("", |s| s.action.kind());
    let message = message
        .strip_prefix(&format!("{kind}: "))
        .unwrap_or(message);
    if field.is_empty() || field.starts_with("when") {
        return message.to_string();
    }
    let label = editing::hint(kind, field).map_or(field.to_string(), |(_, l)| l.to_string());
    format!("{label} {message}")
}

/// The tree's shape: what, when changed, rebuilds the list (values are read by path).
#[derive(Debug, Clone, PartialEq)]
struct Node {
    kind: &'static str,
    fields: Vec<String>,
    rule: RuleShape,
    then: Vec<Node>,
    otherwise: Vec<Node>,
}

/// What the rule editor draws: nothing (not an IF), the groups and conditions of a rule (redrawn
/// when a line is added or removed, not when a value changes), or a pointer to the JSON editor.
#[derive(Debug, Clone, PartialEq)]
enum RuleShape {
    None,
    Groups(Vec<RuleSlot>),
    OnlyAsJson,
}

fn shape(steps: &[Step]) -> Vec<Node> {
    steps
        .iter()
        .map(|s| {
            let kind = s.action.kind();
            let mut fields: Vec<String> = editing::fields(s).into_iter().map(|(k, _)| k).collect();
            if kind == "notify" && !fields.iter().any(|f| f == "secret") {
                fields.push("secret".into());
            }
            match &s.action {
                Action::If(iff) => Node {
                    kind,
                    fields,
                    rule: RuleGroup::from_condition(&iff.when)
                        .map_or(RuleShape::OnlyAsJson, |g| RuleShape::Groups(g.slots())),
                    then: shape(&iff.then),
                    otherwise: shape(&iff.otherwise),
                },
                _ => Node {
                    kind,
                    fields,
                    rule: RuleShape::None,
                    then: Vec::new(),
                    otherwise: Vec::new(),
                },
            }
        })
        .collect()
}

/// The page body: header (name, saved state, undo / redo), then the trigger and the tree.
#[component]
pub fn FlowEditor() -> impl IntoView {
    let ed = Editing::expect();
    let nodes = Memo::new(move |_| ed.wf.with(|w| shape(&w.steps)));
    view! {
        <div class="flow" data-testid="flow-editor">
            <p class="sr-only" role="status" aria-live="polite" data-testid="editor-announce">
                {move || ed.announce.get()}
            </p>
            <TriggerCard/>
            <div class="flow-tree">
                {move || {
                    let n = nodes.get();
                    list_view(ed, ListPath::root(), n)
                }}
            </div>
        </div>
    }
}

/// Undo and redo buttons, and the saved state.
#[component]
pub fn SaveBar() -> impl IntoView {
    let ed = Editing::expect();
    let state = Memo::new(move |_| ed.save_state());
    view! {
        <div class="save-bar">
            <button type="button" class="button secondary icon" data-testid="undo" title="Undo (Ctrl+Z)"
                prop:disabled=move || !ed.can_undo.get() on:click=move |_| ed.undo()>
                <span aria-hidden="true">"↶"</span>" Undo"
            </button>
            <button type="button" class="button secondary icon" data-testid="redo" title="Redo (Ctrl+Shift+Z)"
                prop:disabled=move || !ed.can_redo.get() on:click=move |_| ed.redo()>
                <span aria-hidden="true">"↷"</span>" Redo"
            </button>
            {move || match state.get() {
                SaveState::Saved => view! {
                    <span class="badge success" role="status" data-testid="save-state" data-state="saved">"✓ Saved"</span>
                }.into_any(),
                SaveState::Saving => view! {
                    <span class="badge attention" role="status" data-testid="save-state" data-state="saving">"Saving…"</span>
                }.into_any(),
                SaveState::NotSaved(why) => view! {
                    <span class="badge critical" role="status" data-testid="save-state" data-state="not-saved" title=why.clone()>
                        {format!("Not saved: {why}")}
                    </span>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn TriggerCard() -> impl IntoView {
    let ed = Editing::expect();
    let kind = move || {
        ed.wf.with(|w| match &w.trigger {
            Trigger::Manual(_) => "manual",
            Trigger::Webhook(_) => "webhook",
            Trigger::Api(_) => "api",
        })
    };
    let source = move || {
        ed.wf.with(|w| match &w.trigger {
            Trigger::Manual(m) => match m.products {
                ProductSource::None => "none",
                ProductSource::Csv => "csv",
            },
            Trigger::Webhook(h) => match h.format {
                WebhookFormat::Generic => "generic",
                WebhookFormat::Shopify => "shopify",
            },
            Trigger::Api(_) => "api",
        })
    };
    let set_kind = move |ev| {
        let v = event_target_value(&ev);
        ed.change(None, |w| {
            w.trigger = serde_json::from_value(json!({ "type": v })).unwrap_or_default();
        });
    };
    let set_source = move |ev| {
        let v = event_target_value(&ev);
        ed.change(None, |w| match &mut w.trigger {
            Trigger::Manual(m) => {
                m.products = if v == "csv" {
                    ProductSource::Csv
                } else {
                    ProductSource::None
                }
            }
            Trigger::Webhook(h) => {
                h.format = if v == "shopify" {
                    WebhookFormat::Shopify
                } else {
                    WebhookFormat::Generic
                }
            }
            Trigger::Api(_) => {}
        });
    };
    view! {
        <section class="flow-trigger" data-testid="trigger" aria-labelledby="trigger-title">
            <h3 id="trigger-title"><span class="step-icon" aria-hidden="true">"⚡"</span>"When this runs"</h3>
            <div class="trigger-grid">
                <div class="field">
                    <label class="label" for="trigger-kind">"Start"</label>
                    <select id="trigger-kind" class="input" prop:value=kind on:change=set_kind data-testid="trigger-kind">
                        <option value="manual">"Photos added here or on the command line"</option>
                        <option value="webhook">"A store sends a webhook"</option>
                        <option value="api">"A call to the Shotline API"</option>
                    </select>
                </div>
                <div class="field">
                    <label class="label" for="trigger-source">"Product data"</label>
                    {move || match kind() {
                        "manual" => view! {
                            <select id="trigger-source" class="input" prop:value=source on:change=set_source>
                                <option value="none">"No product data"</option>
                                <option value="csv">"A CSV file, matched by file name"</option>
                            </select>
                        }.into_any(),
                        "webhook" => view! {
                            <select id="trigger-source" class="input" prop:value=source on:change=set_source>
                                <option value="generic">"Generic JSON (images and product)"</option>
                                <option value="shopify">"Shopify product (create / update)"</option>
                            </select>
                        }.into_any(),
                        _ => view! {
                            <input id="trigger-source" class="input" readonly value="Sent with the photos, as JSON"/>
                        }.into_any(),
                    }}
                </div>
            </div>
        </section>
    }
}

fn list_view(ed: Editing, list: ListPath, nodes: Vec<Node>) -> AnyView {
    let len = nodes.len();
    let items = nodes
        .into_iter()
        .enumerate()
        .map(|(i, n)| step_view(ed, list.at(i), n))
        .collect_view();
    let end_list = list.clone();
    let end_list2 = list.clone();
    let list_name = list.to_string();
    let open = {
        let l = list.clone();
        move || ed.adding.with(|a| a.as_ref() == Some(&l))
    };
    let toggle = {
        let l = list.clone();
        move |_| {
            let now_open = ed.adding.with_untracked(|a| a.as_ref() == Some(&l));
            ed.adding.set(if now_open { None } else { Some(l.clone()) });
        }
    };
    let open2 = open.clone();
    let drop_end = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        if let Some(from) = ed.dragging.get_untracked() {
            let at = ed.change(None, |w| editing::move_step(w, &from, &end_list.at(len)));
            ed.dragging.set(None);
            ed.moved(at);
        }
    };
    view! {
        <ol class="flow-list" data-list=list_name.clone() data-testid="step-list-edit">
            {items}
            <li
                class="flow-end"
                class:drop-ready=move || ed.dragging.with(Option::is_some)
                on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
                on:drop=drop_end
            >
                <button
                    type="button"
                    class="button plain add-step"
                    data-testid="add-step"
                    data-list=list_name.clone()
                    aria-expanded=move || if open() { "true" } else { "false" }
                    on:click=toggle
                >
                    <span aria-hidden="true">"+"</span>"Add step"
                </button>
                <Show when=open2>
                    {palette_view(ed, end_list2.clone())}
                </Show>
            </li>
        </ol>
    }
    .into_any()
}

fn palette_view(ed: Editing, list: ListPath) -> impl IntoView {
    let groups = editing::palette()
        .into_iter()
        .map(|g| {
            let items = g
                .items
                .into_iter()
                .map(|(id, name)| {
                    let list = list.clone();
                    let kind = id.split(':').next().unwrap_or("").to_string();
                    let icon = editing::kind_icon(&kind);
                    let pid = id.clone();
                    view! {
                        <button type="button" class="palette-item" data-testid="palette-item" data-kind=id
                            on:click=move |_| ed.add(&list, &pid)>
                            <span class="step-icon" aria-hidden="true">{icon}</span>
                            {name}
                        </button>
                    }
                })
                .collect_view();
            view! {
                <div class="palette-group" role="group" aria-label=g.title>
                    <h4>{g.title}</h4>
                    <div class="palette-items">{items}</div>
                </div>
            }
        })
        .collect_view();
    view! { <div class="palette" data-testid="palette">{groups}</div> }
}

fn step_view(ed: Editing, path: StepPath, node: Node) -> AnyView {
    let p = path.to_string();
    let sp = StoredValue::new(path.clone());
    let kind = node.kind;
    let selected = move || ed.selected.with(|s| s.as_ref() == Some(&*sp.read_value()));
    let enabled = move || {
        ed.wf
            .with(|w| step_at(&w.steps, &sp.read_value()).is_none_or(|s| s.enabled))
    };
    let summary = move || {
        ed.wf.with(|w| {
            step_at(&w.steps, &sp.read_value()).map(|s| match &s.action {
                Action::If(iff) => format!("If {}", describe::condition(&iff.when)),
                a => describe::action(a),
            })
        })
    };
    let problems = {
        let p = p.clone();
        move || {
            ed.problems.with(|all| {
                all.iter()
                    .filter(|e| editing::belongs_to(&e.path, &p))
                    .map(|e| {
                        let (_, field) = split_problem(&e.path);
                        ed.wf.with_untracked(|w| {
                            field_message(step_at(&w.steps, &sp.read_value()), field, &e.message)
                        })
                    })
                    .collect::<Vec<_>>()
            })
        }
    };
    let field_error = {
        let p = p.clone();
        move || {
            ed.field_error.with(|fe| {
                fe.as_ref()
                    .filter(|(k, _)| {
                        k.strip_prefix(&p)
                            .is_some_and(|r| r.starts_with('.') && !r.contains('['))
                    })
                    .map(|(_, m)| m.clone())
            })
        }
    };
    let select = move |_| {
        let here = sp.get_value();
        ed.selected.update(|s| {
            *s = if s.as_ref() == Some(&here) {
                None
            } else {
                Some(here)
            };
        });
    };
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        let here = sp.get_value();
        ed.change(None, |w| {
            if let Some(s) = editing::step_mut(&mut w.steps, &here) {
                s.enabled = on;
            }
        });
    };
    let nudge = move |up: bool| ed.nudge(&sp.get_value(), up);
    let on_handle_key = move |ev: web_sys::KeyboardEvent| {
        if ev.alt_key() && (ev.key() == "ArrowUp" || ev.key() == "ArrowDown") {
            ev.prevent_default();
            nudge(ev.key() == "ArrowUp");
        }
    };
    let duplicate = move |_| {
        let here = sp.get_value();
        let at = ed.change(None, |w| editing::duplicate(w, &here));
        ed.selected.set(at);
    };
    let delete = move |_| {
        let here = sp.get_value();
        ed.change(None, |w| editing::remove(w, &here));
        ed.selected.set(None);
    };
    let drag_start = move |ev: web_sys::DragEvent| {
        let here = sp.get_value();
        if let Some(dt) = ev.data_transfer() {
            let _ = dt.set_data("text/plain", &here.to_string());
            dt.set_effect_allowed("move");
        }
        ed.dragging.set(Some(here));
    };
    let drop_here = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        ev.stop_propagation();
        if let Some(from) = ed.dragging.get_untracked() {
            let to = sp.get_value();
            let at = ed.change(None, |w| editing::move_step(w, &from, &to));
            ed.dragging.set(None);
            ed.moved(at);
        }
    };
    let over = RwSignal::new(false);
    let is_if = kind == "if";
    let branches = is_if.then(|| {
        let then = list_view(
            ed,
            path.list.branch(path.index, Branch::Then),
            node.then.clone(),
        );
        let otherwise = list_view(
            ed,
            path.list.branch(path.index, Branch::Else),
            node.otherwise.clone(),
        );
        view! {
            <div class="branches">
                <div class="branch then" data-testid="branch-then">
                    <div class="branch-label"><span aria-hidden="true">"✓ "</span>"Then"</div>
                    {then}
                </div>
                <div class="branch else" data-testid="branch-else">
                    <div class="branch-label"><span aria-hidden="true">"✗ "</span>"Otherwise"</div>
                    {otherwise}
                </div>
            </div>
        }
    });
    let form_id = format!("form-{}", sanitize(&p));
    let title_name = editing::kind_name(kind);
    let fields = node.fields.clone();
    let rule = node.rule.clone();
    view! {
        <li
            class="flow-step"
            class:is-if=is_if
            class:selected=selected
            class:off=move || !enabled()
            class:drag-over=move || over.get()
            data-testid="step"
            data-path=p.clone()
            data-kind=kind
            data-enabled=move || if enabled() { "true" } else { "false" }
            on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); ev.stop_propagation(); over.set(true) }
            on:dragleave=move |_| over.set(false)
            on:drop=move |ev| { over.set(false); drop_here(ev) }
        >
            <div class="step-card">
                <div class="step-head">
                    <button
                        type="button"
                        class="handle"
                        draggable="true"
                        data-handle=p.clone()
                        data-testid="step-handle"
                        aria-label=format!("Move “{title_name}”: drag, or Alt+Arrow up / down (also into and out of IF blocks)")
                        title="Drag to move (or Alt+↑ / Alt+↓)"
                        on:dragstart=drag_start
                        on:dragend=move |_| ed.dragging.set(None)
                        on:keydown=on_handle_key
                    >
                        <span aria-hidden="true">"⠿"</span>
                    </button>
                    <span class="step-icon" aria-hidden="true">{editing::kind_icon(kind)}</span>
                    <button
                        type="button"
                        class="step-title"
                        data-testid="step-title"
                        aria-expanded=move || if selected() { "true" } else { "false" }
                        aria-controls=form_id.clone()
                        on:click=select
                    >
                        <span class="step-kind">{title_name}</span>
                        <span class="step-summary">{summary}</span>
                    </button>
                    <label class="switch" title="Run this step">
                        <input type="checkbox" data-testid="step-enabled" prop:checked=enabled on:change=toggle/>
                        <span>{move || if enabled() { "On" } else { "Off" }}</span>
                    </label>
                    <div class="step-actions">
                        <button type="button" class="icon-button" aria-label="Move up" title="Move up" data-testid="step-up" on:click=move |_| nudge(true)>"↑"</button>
                        <button type="button" class="icon-button" aria-label="Move down" title="Move down" data-testid="step-down" on:click=move |_| nudge(false)>"↓"</button>
                        <button type="button" class="icon-button" aria-label="Duplicate" title="Duplicate" data-testid="step-duplicate" on:click=duplicate>"❏"</button>
                        <button type="button" class="icon-button critical" aria-label="Delete" title="Delete" data-testid="step-delete" on:click=delete>"✕"</button>
                    </div>
                </div>
                {move || {
                    let list = problems();
                    let fe = field_error();
                    (!list.is_empty() || fe.is_some()).then(|| view! {
                        <ul class="step-problems" role="alert" data-testid="step-problem">
                            {fe.map(|m| view! { <li>{m}</li> })}
                            {list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                        </ul>
                    })
                }}
                <Show when=selected>
                    <div class="step-form" id=form_id.clone() data-testid="step-form">
                        {step_form(ed, sp.get_value(), kind, fields.clone(), rule.clone())}
                    </div>
                </Show>
            </div>
            {branches}
        </li>
    }
    .into_any()
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn step_form(
    ed: Editing,
    path: StepPath,
    kind: &'static str,
    fields: Vec<String>,
    rule: RuleShape,
) -> AnyView {
    let sp = StoredValue::new(path.clone());
    let label_id = format!("label-{}", sanitize(&path.to_string()));
    let label_value = move || {
        ed.wf.with(|w| {
            step_at(&w.steps, &sp.read_value())
                .and_then(|s| s.label.clone())
                .unwrap_or_default()
        })
    };
    let set_label = move |ev| {
        let v = event_target_value(&ev);
        let here = sp.get_value();
        ed.change(Some(&format!("{here}.label")), |w| {
            if let Some(s) = editing::step_mut(&mut w.steps, &here) {
                s.label = if v.trim().is_empty() { None } else { Some(v) };
            }
        });
    };
    let controls = fields
        .into_iter()
        .map(|f| field_control(ed, path.clone(), kind, f))
        .collect_view();
    let rule_view = (kind == "if").then(|| rule_editor(ed, path.clone(), rule));
    view! {
        {rule_view}
        <div class="form-grid">
            {controls}
            <div class="control">
                <label class="label" for=label_id.clone()>"Name of this step (optional)"</label>
                <input id=label_id class="input" prop:value=label_value on:input=set_label placeholder=editing::kind_name(kind)/>
            </div>
        </div>
    }
    .into_any()
}

/// A number as JSON: whole numbers as integers, so `u8` / `u32` parameters accept them.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        json!(x as i64)
    } else {
        json!((x * 10000.0).round() / 10000.0)
    }
}

fn field_control(ed: Editing, path: StepPath, kind: &'static str, field: String) -> AnyView {
    let (hint, label) = editing::hint(kind, &field).unwrap_or_else(|| {
        let v = ed.wf.with_untracked(|w| {
            step_at(&w.steps, &path)
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.get(&field).cloned())
        });
        let h = match v {
            Some(Value::Bool(_)) => Hint::Switch,
            Some(Value::Number(_)) => Hint::Whole {
                min: f64::MIN,
                max: f64::MAX,
                optional: false,
            },
            _ => Hint::Text { optional: true },
        };
        (h, "")
    });
    let label: String = if label.is_empty() {
        field.replace('_', " ")
    } else {
        label.to_string()
    };
    let id = format!("f-{}-{}", sanitize(&path.to_string()), field);
    let sp = StoredValue::new(path);
    let fname = StoredValue::new(field.clone());
    let value = move || ed.field(&sp.read_value(), &fname.read_value());
    let set = move |v: Value, coalesce: bool| {
        ed.set_field(&sp.read_value(), &fname.read_value(), v, coalesce)
    };
    let invalid = move || {
        let key = format!("{}.{}", sp.read_value(), fname.read_value());
        ed.problems.with(|p| p.iter().any(|e| e.path == key))
    };
    let aria_invalid = move || if invalid() { "true" } else { "false" };
    match hint {
        Hint::Hidden => ().into_any(),
        Hint::Logo => logo_control(ed, sp, id, label, field, value),
        Hint::Slider { min, max, step, unit, optional } => {
            let auto = move || value().is_null();
            // f32 parameters come back as f64 (0.3 → 0.30000001…): show them as typed.
            let current = move || value().as_f64().map(|x| (x * 10000.0).round() / 10000.0).unwrap_or(if (min..=max).contains(&0.0) { 0.0 } else { min });
            let start = if (min..=max).contains(&0.0) { 0.0 } else { 1.0_f64.clamp(min, max) };
            view! {
                <div class="control slider" data-field=field.clone() data-testid="field">
                    <div class="control-head">
                        <label class="label" for=id.clone()>{label.clone()}</label>
                        {optional.then(|| view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=auto
                                    on:change=move |ev| set(if event_target_checked(&ev) { Value::Null } else { num(start) }, false)/>
                                "Automatic"
                            </label>
                        })}
                    </div>
                    <div class="slider-row">
                        <input type="range" id=id.clone() min=min max=max step=step
                            prop:value=move || current().to_string()
                            prop:disabled=auto
                            aria-invalid=aria_invalid
                            data-testid="slider"
                            on:input=move |ev| {
                                if let Ok(x) = event_target_value(&ev).parse::<f64>() { set(num(x), true) }
                            }
                        />
                        <input type="number" class="input num" min=min max=max step=step
                            aria-label=format!("{label} (number)")
                            prop:value=move || if auto() { String::new() } else { current().to_string() }
                            prop:disabled=auto
                            aria-invalid=aria_invalid
                            on:change=move |ev| {
                                if let Ok(x) = event_target_value(&ev).trim().parse::<f64>() { set(num(x), false) }
                            }
                        />
                        <span class="unit">{unit}</span>
                    </div>
                </div>
            }
            .into_any()
        }
        Hint::Whole { min, max, optional } => view! {
            <div class="control" data-field=field.clone() data-testid="field">
                <label class="label" for=id.clone()>{label.clone()}</label>
                <input type="number" class="input" id=id.clone() step="1"
                    min=(min > -1e15).then_some(min) max=(max < 1e15).then_some(max)
                    placeholder=optional.then_some("Automatic")
                    aria-invalid=aria_invalid
                    prop:value=move || value().as_f64().map(|x| x.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        let t = event_target_value(&ev);
                        let t = t.trim();
                        if t.is_empty() && optional { set(Value::Null, false) }
                        else if let Ok(x) = t.parse::<f64>() { set(num(x), false) }
                    }
                />
            </div>
        }
        .into_any(),
        Hint::Colour { transparent, optional } => {
            let text = move || value().as_str().map(str::to_string);
            let is_transparent = move || text().is_some_and(|t| t.eq_ignore_ascii_case("transparent"));
            let is_auto = move || value().is_null();
            let hex = move || {
                text()
                    .and_then(|t| shotline_core::ops::parse_hex_color(&t))
                    .map(|[r, g, b, _]| format!("#{r:02x}{g:02x}{b:02x}"))
                    .unwrap_or_else(|| "#ffffff".into())
            };
            view! {
                <div class="control colour" data-field=field.clone() data-testid="field">
                    <div class="control-head">
                        <label class="label" for=id.clone()>{label.clone()}</label>
                        {transparent.then(|| view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=is_transparent
                                    on:change=move |ev| set(json!(if event_target_checked(&ev) { "transparent" } else { "#FFFFFF" }), false)/>
                                "Transparent"
                            </label>
                        })}
                        {optional.then(|| view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=is_auto
                                    on:change=move |ev| set(if event_target_checked(&ev) { Value::Null } else { json!("#FFFFFF") }, false)/>
                                "Automatic"
                            </label>
                        })}
                    </div>
                    <div class="colour-row">
                        <input type="color" id=id.clone() prop:value=hex
                            prop:disabled=move || is_transparent() || is_auto()
                            on:input=move |ev| set(json!(event_target_value(&ev).to_uppercase()), true)/>
                        <input type="text" class="input mono hex" aria-label=format!("{label} (hex)")
                            aria-invalid=aria_invalid
                            prop:value=move || text().unwrap_or_default()
                            prop:disabled=is_auto
                            on:change=move |ev| set(json!(event_target_value(&ev).trim()), false)/>
                    </div>
                </div>
            }
            .into_any()
        }
        Hint::Choice { options, optional } => {
            let opts: Vec<(String, String)> = if kind == "filter" {
                shotline_core::ops::filter::FILTERS
                    .iter()
                    .map(|(n, d)| (n.to_string(), format!("{} — {d}", n.replace('_', " "))))
                    .collect()
            } else {
                options.iter().map(|(v, t)| (v.to_string(), t.to_string())).collect()
            };
            select_control(id, label, field, opts, optional, value, set)
        }
        Hint::Channel { optional } => {
            let opts = Channel::ALL
                .iter()
                .map(|c| (c.id().to_string(), describe::channel(*c).to_string()))
                .collect();
            select_control(id, label, field, opts, optional, value, set)
        }
        Hint::Switch => view! {
            <div class="control" data-field=field.clone() data-testid="field">
                <label class="check big">
                    <input type="checkbox" id=id prop:checked=move || value().as_bool().unwrap_or(false)
                        on:change=move |ev| set(json!(event_target_checked(&ev)), false)/>
                    {label}
                </label>
            </div>
        }
        .into_any(),
        Hint::Template { optional } | Hint::FileName { optional } | Hint::Text { optional } => {
            let chips: Vec<&'static str> = match hint {
                Hint::Template { .. } => vec![
                    "{{product.title}}", "{{product.brand}}", "{{product.category}}", "{{product.price}}",
                    "{{product.sku}}", "{{colors}}", "{{color}}", "{{hashtags}}", "{{file.stem}}", "{{image.width}}",
                ],
                Hint::FileName { .. } => vec!["{sku}", "{stem}", "{channel}", "{index}", "{ext}"],
                _ => Vec::new(),
            };
            let area = NodeRef::<leptos::html::Textarea>::new();
            let text = move || value().as_str().map(str::to_string).unwrap_or_default();
            let put = move |t: String| set(if t.is_empty() && optional { Value::Null } else { json!(t) }, false);
            let chip_views = chips
                .into_iter()
                .map(|c| {
                    let insert = move |_| {
                        let Some(el) = area.get_untracked() else { return };
                        let v = el.value();
                        let at = el.selection_start().ok().flatten().map_or(v.len(), |i| i as usize);
                        // selectionStart counts UTF-16 units; fall back to the end past multi-byte text.
                        let at = if v.is_char_boundary(at.min(v.len())) { at.min(v.len()) } else { v.len() };
                        let next = format!("{}{c}{}", &v[..at], &v[at..]);
                        el.set_value(&next);
                        put(next);
                        let _ = el.focus();
                    };
                    view! {
                        <button type="button" class="chip" data-testid="field-chip" aria-label=format!("Insert {c}") on:click=insert>{c}</button>
                    }
                })
                .collect_view();
            let rows = if kind == "generate_copy" && field == "description" { "3" } else { "1" };
            view! {
                <div class="control wide" data-field=field.clone() data-testid="field">
                    <label class="label" for=id.clone()>{label.clone()}</label>
                    <textarea id=id class="input template" rows=rows node_ref=area spellcheck="false"
                        aria-invalid=aria_invalid
                        placeholder=optional.then_some("Not set")
                        prop:value=text
                        on:input=move |ev| put(event_target_value(&ev))></textarea>
                    <div class="chips" aria-label="Insert a field">{chip_views}</div>
                </div>
            }
            .into_any()
        }
    }
}

/// The watermark's logo: a file picker that reads the file here in the browser into the step's
/// data URL (a WebP logo is redrawn as PNG, which the watermark step reads), a thumbnail of the
/// current logo and "Remove logo". A logo replaces the text of the mark.
fn logo_control(
    ed: Editing,
    sp: StoredValue<StepPath>,
    id: String,
    label: String,
    field: String,
    value: impl Fn() -> Value + Send + Sync + Copy + 'static,
) -> AnyView {
    let error = RwSignal::new(None::<String>);
    let src = move || value().as_str().map(editing::logo_src);
    let set_logo = move |logo: Option<String>| {
        let here = sp.get_value();
        let Some(step) = ed.wf.with_untracked(|w| step_at(&w.steps, &here).cloned()) else {
            return;
        };
        match editing::with_logo(&step, logo) {
            Ok(next) => {
                error.set(None);
                ed.change(None, |w| {
                    if let Some(slot) = editing::step_mut(&mut w.steps, &here) {
                        *slot = next;
                    }
                });
            }
            Err(m) => error.set(Some(m)),
        }
    };
    let pick = move |ev: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|l| l.get(0)) else {
            return;
        };
        // Cleared, so that choosing the same file again (after "Remove logo") is a change too.
        input.set_value("");
        error.set(None);
        leptos::task::spawn_local(async move {
            match read_logo(&file).await {
                Ok(url) => set_logo(Some(url)),
                Err(m) => error.set(Some(m)),
            }
        });
    };
    let hint_id = format!("{id}-hint");
    view! {
        <div class="control wide logo-field" data-field=field data-testid="field">
            <label class="label" for=id.clone()>{label}</label>
            <div class="logo-row">
                {move || match src() {
                    Some(s) => view! {
                        <img class="logo-thumb" data-testid="logo-thumb" src=s alt="The current logo"/>
                    }.into_any(),
                    None => view! {
                        <span class="logo-thumb empty" data-testid="logo-none">"No logo"</span>
                    }.into_any(),
                }}
                <div class="logo-actions">
                    <input type="file" id=id class="input" data-testid="logo-file"
                        accept="image/png,image/jpeg,image/webp" aria-describedby=hint_id.clone()
                        on:change=pick/>
                    <Show when=move || src().is_some()>
                        <button type="button" class="button plain critical" data-testid="logo-remove"
                            on:click=move |_| set_logo(None)>"Remove logo"</button>
                    </Show>
                </div>
            </div>
            <p class="subdued small" id=hint_id>
                {format!(
                    "PNG, JPEG or WebP, up to {} MB. The file is read here in your browser and kept in this workflow; choosing a logo replaces the text.",
                    editing::MAX_LOGO_BYTES / (1024 * 1024)
                )}
            </p>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="logo-error">{m}</p> })}
        </div>
    }
    .into_any()
}

/// A chosen logo file as a data URL: refused over the size limit before it is read, recognised by
/// its first bytes, and (WebP) redrawn as PNG.
async fn read_logo(file: &web_sys::File) -> Result<String, String> {
    let name = file.name();
    editing::check_logo_size(&name, file.size() as usize)?;
    let bytes = crate::browser::read_bytes(file)
        .await
        .map_err(|e| format!("{name} could not be read: {e}"))?;
    match editing::logo_mime(&name, &bytes)? {
        "image/webp" => webp_as_png(&name, &bytes).await,
        mime => Ok(editing::data_url(mime, &bytes)),
    }
}

/// A WebP image redrawn as a PNG data URL by the browser's own decoder (`createImageBitmap` and a
/// canvas), as the watermark step reads PNG and JPEG logos only.
async fn webp_as_png(name: &str, bytes: &[u8]) -> Result<String, String> {
    use js_sys::{Function, Reflect};
    let fail = |_| format!("{name} could not be read as a WebP image");
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/webp");
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(fail)?;
    let window = web_sys::window().ok_or_else(|| fail(wasm_bindgen::JsValue::NULL))?;
    let create: Function = Reflect::get(&window, &"createImageBitmap".into())
        .and_then(|f| f.dyn_into().map_err(|_| wasm_bindgen::JsValue::NULL))
        .map_err(fail)?;
    let promise: js_sys::Promise = create.call1(&window, &blob).map_err(fail)?.unchecked_into();
    let bitmap = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(fail)?;
    let side = |key: &str| {
        Reflect::get(&bitmap, &key.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u32
    };
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .map_err(fail)?
        .unchecked_into();
    canvas.set_width(side("width"));
    canvas.set_height(side("height"));
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(fail)?
        .ok_or_else(|| fail(wasm_bindgen::JsValue::NULL))?
        .unchecked_into();
    let draw: Function = Reflect::get(&ctx, &"drawImage".into())
        .map_err(fail)?
        .unchecked_into();
    draw.call3(&ctx, &bitmap, &0.into(), &0.into())
        .map_err(fail)?;
    canvas.to_data_url_with_type("image/png").map_err(fail)
}

fn select_control(
    id: String,
    label: String,
    field: String,
    opts: Vec<(String, String)>,
    optional: bool,
    value: impl Fn() -> Value + Send + Sync + Copy + 'static,
    set: impl Fn(Value, bool) + Send + Sync + Copy + 'static,
) -> AnyView {
    let options = opts
        .into_iter()
        .map(|(v, t)| view! { <option value=v>{t}</option> })
        .collect_view();
    view! {
        <div class="control" data-field=field data-testid="field">
            <label class="label" for=id.clone()>{label}</label>
            <select id=id class="input"
                prop:value=move || value().as_str().unwrap_or("").to_string()
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    set(if v.is_empty() && optional { Value::Null } else { json!(v) }, false)
                }>
                {optional.then(|| view! { <option value="">"None"</option> })}
                {options}
            </select>
        </div>
    }
    .into_any()
}

const OPS: &[(&str, &str)] = &[
    ("eq", "is"),
    ("ne", "is not"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("in", "is one of (comma-separated)"),
    ("gt", "is more than"),
    ("gte", "is at least"),
    ("lt", "is less than"),
    ("lte", "is at most"),
    ("matches", "matches the pattern"),
    ("is_empty", "is empty"),
    ("not_empty", "is not empty"),
];

fn op_id(c: &Comparison) -> &'static str {
    if c.op == Op::IsEmpty && c.value == Value::Bool(false) {
        "not_empty"
    } else {
        c.op.name()
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The typed value for a field and operator from what was typed.
fn typed_value(field: &str, op: Op, text: &str) -> Value {
    let one = |t: &str| -> Value {
        match field_kind(field) {
            Some(FieldKind::Number) => t
                .trim()
                .parse::<f64>()
                .map(num)
                .unwrap_or_else(|_| json!(t)),
            Some(FieldKind::Bool) => match t.trim() {
                "true" | "yes" => json!(true),
                "false" | "no" => json!(false),
                _ => json!(t),
            },
            _ => json!(t),
        }
    };
    match op {
        Op::In => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(one)
                .collect(),
        ),
        Op::IsEmpty => Value::Null,
        _ => one(text),
    }
}

/// The IF step at a path, seen through its rule: reads and edits of its groups by position.
#[derive(Clone, Copy)]
struct Rule {
    ed: Editing,
    step: StoredValue<StepPath>,
}

impl Rule {
    fn read<R>(self, f: impl FnOnce(&RuleGroup) -> R) -> Option<R> {
        self.ed.wf.with(
            |w| match step_at(&w.steps, &self.step.read_value()).map(|s| &s.action) {
                Some(Action::If(iff)) => RuleGroup::from_condition(&iff.when).map(|g| f(&g)),
                _ => None,
            },
        )
    }

    /// The condition line `i` of the group at `group`.
    fn line(self, group: &[usize], i: usize) -> Option<(bool, Comparison)> {
        self.read(|g| match g.group_at(group)?.items.get(i)? {
            RuleItem::Compare { not, cmp } => Some((*not, cmp.clone())),
            RuleItem::Group(_) => None,
        })
        .flatten()
    }

    /// Changes the group at `group` (one undo step, or one per `key` while typing).
    fn edit(self, group: &[usize], key: Option<&str>, f: impl FnOnce(&mut RuleGroup)) {
        let here = self.step.get_value();
        self.ed.change(key, |w| {
            if let Some(Step {
                action: Action::If(iff),
                ..
            }) = editing::step_mut(&mut w.steps, &here)
            {
                if let Some(mut g) = RuleGroup::from_condition(&iff.when) {
                    if let Some(target) = g.group_at_mut(group) {
                        f(target);
                        iff.when = g.to_condition();
                    }
                }
            }
        });
    }

    /// Changes condition line `i` of the group at `group`.
    fn edit_line(
        self,
        group: &[usize],
        i: usize,
        key: Option<&str>,
        f: impl FnOnce(&mut bool, &mut Comparison),
    ) {
        self.edit(group, key, |g| {
            if let Some(RuleItem::Compare { not, cmp }) = g.items.get_mut(i) {
                f(not, cmp);
            }
        });
    }

    /// True when validation found a problem in the condition at `at` (a group path, then the
    /// line's index).
    fn invalid(self, at: &[usize]) -> bool {
        let Some(Some(p)) = self.read(|g| g.problem_path(at)) else {
            return false;
        };
        let key = format!("{}.{p}", self.step.read_value());
        self.ed
            .problems
            .with(|all| all.iter().any(|e| e.path == key))
    }
}

/// The IF's rule: a group of conditions (field / test / value, each with NOT) and of groups inside
/// it, to any depth, each group with its own all / any / none choice.
fn rule_editor(ed: Editing, path: StepPath, shape: RuleShape) -> AnyView {
    let RuleShape::Groups(slots) = shape else {
        return view! {
            <p class="subdued" data-testid="rule-json-only">
                "This rule has a NOT inside a NOT, which the form cannot show. Edit it under “Edit as JSON”."
            </p>
        }
        .into_any();
    };
    let base = sanitize(&path.to_string());
    let rule = Rule {
        ed,
        step: StoredValue::new(path),
    };
    let list_id = format!("fields-{base}");
    let field_options = editing::known_fields()
        .into_iter()
        .map(|f| view! { <option value=f.clone()>{f.replace(['.', '_'], " ")}</option> })
        .collect_view();
    view! {
        <fieldset class="rule-editor" data-testid="rule-editor">
            <legend>"Rule"</legend>
            <datalist id=list_id.clone()>{field_options}</datalist>
            {group_view(rule, &base, &list_id, Vec::new(), slots)}
        </fieldset>
    }
    .into_any()
}

/// `1-0` for the group at items 1 then 0; `top` for the rule itself.
fn group_key(group: &[usize]) -> String {
    if group.is_empty() {
        "top".into()
    } else {
        group
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// One group: how it combines its lines, the lines (conditions and groups, drawn recursively) and
/// the buttons that add to it.
fn group_view(
    rule: Rule,
    base: &str,
    list_id: &str,
    group: Vec<usize>,
    slots: Vec<RuleSlot>,
) -> AnyView {
    let key = group_key(&group);
    let top = group.is_empty();
    let gp = StoredValue::new(group.clone());
    let select_id = format!("rule-{base}-{key}-combine");
    let combine = move || {
        rule.read(|g| g.group_at(&gp.read_value()).map(|x| x.combine))
            .flatten()
            .unwrap_or(Combine::All)
    };
    let choices = Combine::CHOICES
        .iter()
        .map(|(_, id, words)| view! { <option value=*id>{*words}</option> })
        .collect_view();
    let lines = slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let mut at = group.clone();
            at.push(i);
            match slot {
                RuleSlot::Compare => line_view(rule, base, list_id, gp, i, at),
                RuleSlot::Group(inner) => {
                    let inner_key = group_key(&at);
                    let remove = move |_| rule.edit(&gp.read_value(), None, |g| {
                        if i < g.items.len() {
                            g.items.remove(i);
                        }
                    });
                    view! {
                        <div class="rule-subgroup" role="group" aria-label="Group of conditions"
                            data-testid="rule-subgroup" data-group=inner_key>
                            {group_view(rule, base, list_id, at, inner)}
                            <button type="button" class="button plain critical" data-testid="remove-rule-group"
                                on:click=remove>
                                <span aria-hidden="true">"✕"</span>"Remove this group"
                            </button>
                        </div>
                    }
                    .into_any()
                }
            }
        })
        .collect_view();
    let add_line = move |_| {
        rule.edit(&gp.read_value(), None, |g| {
            g.items.push(RuleGroup::new_compare())
        })
    };
    let add_group = move |_| {
        rule.edit(&gp.read_value(), None, |g| {
            g.items.push(RuleGroup::new_group())
        })
    };
    view! {
        <div class="rule-group">
            <label for=select_id.clone()>{if top { "Run THEN when" } else { "This group is true when" }}</label>
            <select id=select_id class="input" data-testid="rule-group" data-group=key.clone()
                prop:value=move || combine().id()
                on:change=move |ev| {
                    let c = Combine::from_id(&event_target_value(&ev));
                    rule.edit(&gp.read_value(), None, |g| g.combine = c)
                }>
                {choices}
            </select>
        </div>
        {lines}
        <div class="rule-adds">
            <button type="button" class="button plain" data-testid="add-rule" data-group=key.clone() on:click=add_line>
                <span aria-hidden="true">"+"</span>"Add condition"
            </button>
            <button type="button" class="button plain" data-testid="add-rule-group" data-group=key on:click=add_group>
                <span aria-hidden="true">"+"</span>"Add group"
            </button>
        </div>
    }
    .into_any()
}

/// One condition: NOT, field, test, value and remove.
fn line_view(
    rule: Rule,
    base: &str,
    list_id: &str,
    gp: StoredValue<Vec<usize>>,
    i: usize,
    at: Vec<usize>,
) -> AnyView {
    let ids = format!("rule-{base}-{}", group_key(&at));
    let (fid, oid, vid) = (
        format!("{ids}-field"),
        format!("{ids}-op"),
        format!("{ids}-value"),
    );
    let at = StoredValue::new(at);
    let cmp = move || rule.line(&gp.read_value(), i);
    let negated = move || cmp().is_some_and(|c| c.0);
    let invalid = move || {
        if rule.invalid(&at.read_value()) {
            "true"
        } else {
            "false"
        }
    };
    let typing_key = move || {
        format!(
            "{}.when.{}",
            rule.step.read_value(),
            group_key(&at.read_value())
        )
    };
    let op_options = OPS
        .iter()
        .map(|(v, t)| view! { <option value=*v>{*t}</option> })
        .collect_view();
    view! {
        <div class="rule-row" data-testid="rule-row">
            <label class="check" title="Turn this condition around">
                <input type="checkbox" data-testid="rule-not" prop:checked=negated
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        rule.edit_line(&gp.read_value(), i, None, |not, _| *not = on)
                    }/>
                "Not"
            </label>
            <div class="field">
                <label class="label sr-only" for=fid.clone()>"Field"</label>
                <input id=fid class="input" list=list_id.to_string() data-testid="rule-field" placeholder="product.category"
                    aria-invalid=invalid
                    prop:value=move || cmp().map(|c| c.1.field).unwrap_or_default()
                    on:change=move |ev| {
                        let v = event_target_value(&ev).trim().to_string();
                        rule.edit_line(&gp.read_value(), i, None, |_, c| {
                            c.value = typed_value(&v, c.op, &value_text(&c.value));
                            c.field = v;
                        })
                    }/>
            </div>
            <div class="field">
                <label class="label sr-only" for=oid.clone()>"Test"</label>
                <select id=oid class="input" data-testid="rule-op"
                    aria-invalid=invalid
                    prop:value=move || cmp().map(|c| op_id(&c.1)).unwrap_or("eq")
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        rule.edit_line(&gp.read_value(), i, None, |_, c| {
                            let (op, val) = match v.as_str() {
                                "not_empty" => (Op::IsEmpty, json!(false)),
                                other => {
                                    let op: Op = serde_json::from_value(json!(other)).unwrap_or(Op::Eq);
                                    (op, typed_value(&c.field, op, &value_text(&c.value)))
                                }
                            };
                            c.op = op;
                            c.value = val;
                        })
                    }>
                    {op_options}
                </select>
            </div>
            <div class="field">
                <label class="label sr-only" for=vid.clone()>"Value"</label>
                <input id=vid class="input" data-testid="rule-value"
                    aria-invalid=invalid
                    prop:disabled=move || cmp().is_some_and(|c| c.1.op == Op::IsEmpty)
                    prop:value=move || cmp().map(|c| value_text(&c.1.value)).unwrap_or_default()
                    on:input=move |ev| {
                        let t = event_target_value(&ev);
                        let key = typing_key();
                        rule.edit_line(&gp.read_value(), i, Some(&key), |_, c| c.value = typed_value(&c.field, c.op, &t))
                    }/>
            </div>
            <button type="button" class="icon-button critical" data-testid="remove-rule"
                aria-label="Remove this condition" title="Remove this condition"
                on:click=move |_| rule.edit(&gp.read_value(), None, |g| {
                    if i < g.items.len() {
                        g.items.remove(i);
                    }
                })>"✕"</button>
        </div>
    }
    .into_any()
}
