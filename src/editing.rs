//! The editor's plain logic, tested natively: edits of the step tree by path (insert, remove,
//! duplicate, move, also into and out of IF branches, by drag or by keyboard), the undo history,
//! IF rules as groups inside groups, new steps for the palette, the hints that turn a step's
//! parameters into form controls, and logo files turned into the watermark's data URL.

use serde_json::{json, Value};
use shotline_core::channels::Channel;
use shotline_core::condition::{Comparison, Condition, Op};
use shotline_core::model::{Action, IfStep, Step, Workflow};
use shotline_core::preview::{list_at, Branch, ListPath, StepPath};

/// The list of steps at `path`, to change.
pub fn list_mut<'a>(steps: &'a mut Vec<Step>, path: &ListPath) -> Option<&'a mut Vec<Step>> {
    let mut list = steps;
    for (i, b) in &path.0 {
        let Action::If(iff) = &mut list.get_mut(*i)?.action else {
            return None;
        };
        list = match b {
            Branch::Then => &mut iff.then,
            Branch::Else => &mut iff.otherwise,
        };
    }
    Some(list)
}

/// The step at `path`, to change.
pub fn step_mut<'a>(steps: &'a mut Vec<Step>, path: &StepPath) -> Option<&'a mut Step> {
    list_mut(steps, &path.list)?.get_mut(path.index)
}

/// Inserts `step` at `index` of the list at `path` (clamped to its end). Returns where it went.
pub fn insert(wf: &mut Workflow, path: &ListPath, index: usize, step: Step) -> Option<StepPath> {
    let list = list_mut(&mut wf.steps, path)?;
    let index = index.min(list.len());
    list.insert(index, step);
    Some(path.at(index))
}

/// Removes and returns the step at `path`.
pub fn remove(wf: &mut Workflow, path: &StepPath) -> Option<Step> {
    let list = list_mut(&mut wf.steps, &path.list)?;
    (path.index < list.len()).then(|| list.remove(path.index))
}

/// Puts a copy of the step right below it. Returns the copy's path.
pub fn duplicate(wf: &mut Workflow, path: &StepPath) -> Option<StepPath> {
    let list = list_mut(&mut wf.steps, &path.list)?;
    let copy = list.get(path.index)?.clone();
    list.insert(path.index + 1, copy);
    Some(path.list.at(path.index + 1))
}

/// Moves the step at `from` so that it ends up before the step that is now at `to` (or at the end
/// of `to`'s list when its index is past the end). A step cannot move into itself. Returns its new
/// path.
pub fn move_step(wf: &mut Workflow, from: &StepPath, to: &StepPath) -> Option<StepPath> {
    if to.list.is_inside(from) {
        return None;
    }
    // Removing `from` shifts later siblings up, and lists inside later siblings too.
    let mut to = to.clone();
    let depth = from.list.0.len();
    if to.list.0.len() > depth && to.list.0[..depth] == from.list.0[..] {
        if to.list.0[depth].0 > from.index {
            to.list.0[depth].0 -= 1;
        }
    } else if to.list == from.list && to.index > from.index {
        to.index -= 1;
    }
    let mut next = wf.clone();
    let step = remove(&mut next, from)?;
    let at = insert(&mut next, &to.list, to.index, step)?;
    *wf = next;
    Some(at)
}

/// Where a keyboard move (Alt+↑ / Alt+↓) of the step at `path` goes, as a drop target for
/// [`move_step`]; None at the top or bottom of the workflow. The step moves one place through the
/// tree as it is drawn, so a step can travel anywhere with the arrows alone:
///
/// - next to an ordinary step, the two swap;
/// - down onto an IF, it becomes the first step of its THEN (the block drawn just below it);
/// - up onto an IF, it becomes the last step of its OTHERWISE: that is the block drawn just above
///   it, so the step moves one place on screen (THEN would make it jump over OTHERWISE);
/// - up from the first step of a THEN or OTHERWISE, it leaves the IF and lands just above it; down
///   from the last step of a branch, just below it.
pub fn nudge_target(wf: &Workflow, path: &StepPath, up: bool) -> Option<StepPath> {
    let list = list_at(&wf.steps, &path.list)?;
    if path.index >= list.len() {
        return None;
    }
    let neighbour = if up {
        path.index.checked_sub(1)
    } else {
        Some(path.index + 1).filter(|i| *i < list.len())
    };
    let Some(n) = neighbour else {
        // At an end of its list: out of the IF around it, if there is one.
        let mut outer = path.list.clone();
        let (at, _) = outer.0.pop()?;
        return Some(outer.at(if up { at } else { at + 1 }));
    };
    Some(match (&list[n].action, up) {
        (Action::If(iff), true) => path.list.branch(n, Branch::Else).at(iff.otherwise.len()),
        (Action::If(_), false) => path.list.branch(n, Branch::Then).at(0),
        // `move_step` puts the step before the target, so "after the next one" is two on.
        (_, true) => path.list.at(n),
        (_, false) => path.list.at(n + 1),
    })
}

/// Moves a step one place up (`up`) or down through the tree (see [`nudge_target`]). Returns its
/// new path; None at the top or bottom of the workflow.
pub fn nudge(wf: &mut Workflow, path: &StepPath, up: bool) -> Option<StepPath> {
    let to = nudge_target(wf, path, up)?;
    move_step(wf, path, &to)
}

/// Where a step is, in words for the screen reader's announcement after a move: "step 2 of the
/// workflow", "step 1 under Then of the IF at step 3", "step 2 under Otherwise of the IF at step 1
/// under Then of the IF at step 2".
pub fn place_words(path: &StepPath) -> String {
    let mut words = format!("step {}", path.index + 1);
    let mut levels = path.list.0.iter().rev().peekable();
    if levels.peek().is_none() {
        words.push_str(" of the workflow");
    }
    for (i, b) in levels {
        let branch = match b {
            Branch::Then => "Then",
            Branch::Else => "Otherwise",
        };
        words.push_str(&format!(" under {branch} of the IF at step {}", i + 1));
    }
    words
}

/// How a group of rule items combines them. The two negated ones stand for a `not` around an
/// all / any group, which reads better as one choice than as a group inside a NOT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    All,
    Any,
    /// `not: {any: …}`.
    NoneOf,
    /// `not: {all: …}`.
    NotAll,
}

impl Combine {
    /// Every choice, as `(value of the select, words)`.
    pub const CHOICES: [(Combine, &'static str, &'static str); 4] = [
        (Combine::All, "all", "all of these are true"),
        (Combine::Any, "any", "any of these is true"),
        (Combine::NoneOf, "none", "none of these is true"),
        (Combine::NotAll, "not_all", "not all of these are true"),
    ];

    /// The value the select uses for it.
    pub fn id(self) -> &'static str {
        Combine::CHOICES
            .iter()
            .find(|c| c.0 == self)
            .map_or("all", |c| c.1)
    }

    /// The choice for a select value (all when unknown).
    pub fn from_id(id: &str) -> Combine {
        Combine::CHOICES
            .iter()
            .find(|c| c.1 == id)
            .map_or(Combine::All, |c| c.0)
    }
}

/// An IF rule as the editor shows it: a group of conditions and of groups inside it, to any
/// depth. Converts to and from [`Condition`]; shapes it cannot show (a NOT around a NOT) are left
/// to the JSON editor.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub combine: Combine,
    pub items: Vec<RuleItem>,
}

/// One line of a rule group.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleItem {
    /// `field op value`, turned around when `not`.
    Compare {
        not: bool,
        cmp: Comparison,
    },
    Group(RuleGroup),
}

/// The shape of a rule group (a condition or a group per line): when it changes, the rule
/// editor is drawn again; values are read by position.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleSlot {
    Compare,
    Group(Vec<RuleSlot>),
}

impl RuleGroup {
    /// The editor's view of a whole IF rule. A rule that is a single comparison becomes a group of
    /// one ("all"), as the editor always shows a group. None when part of it cannot be shown.
    pub fn from_condition(c: &Condition) -> Option<RuleGroup> {
        Self::group(c).or_else(|| {
            Some(RuleGroup {
                combine: Combine::All,
                items: vec![Self::item(c)?],
            })
        })
    }

    /// A condition that is a group (maybe negated), as one.
    fn group(c: &Condition) -> Option<RuleGroup> {
        let (combine, list) = match c {
            Condition::All { all } => (Combine::All, all),
            Condition::Any { any } => (Combine::Any, any),
            Condition::Not { not } => match not.as_ref() {
                Condition::All { all } => (Combine::NotAll, all),
                Condition::Any { any } => (Combine::NoneOf, any),
                _ => return None,
            },
            Condition::Compare(_) => return None,
        };
        let items = list.iter().map(Self::item).collect::<Option<Vec<_>>>()?;
        Some(RuleGroup { combine, items })
    }

    fn item(c: &Condition) -> Option<RuleItem> {
        match c {
            Condition::Compare(cmp) => Some(RuleItem::Compare {
                not: false,
                cmp: cmp.clone(),
            }),
            Condition::Not { not } => match not.as_ref() {
                Condition::Compare(cmp) => Some(RuleItem::Compare {
                    not: true,
                    cmp: cmp.clone(),
                }),
                _ => Self::group(c).map(RuleItem::Group),
            },
            other => Self::group(other).map(RuleItem::Group),
        }
    }

    /// The condition this group stands for.
    pub fn to_condition(&self) -> Condition {
        let list: Vec<Condition> = self
            .items
            .iter()
            .map(|item| match item {
                RuleItem::Compare { not, cmp } => {
                    let c = Condition::Compare(cmp.clone());
                    if *not {
                        Condition::Not { not: Box::new(c) }
                    } else {
                        c
                    }
                }
                RuleItem::Group(g) => g.to_condition(),
            })
            .collect();
        let not = |c: Condition| Condition::Not { not: Box::new(c) };
        match self.combine {
            Combine::All => Condition::All { all: list },
            Combine::Any => Condition::Any { any: list },
            Combine::NotAll => not(Condition::All { all: list }),
            Combine::NoneOf => not(Condition::Any { any: list }),
        }
    }

    /// Its shape, line by line.
    pub fn slots(&self) -> Vec<RuleSlot> {
        self.items
            .iter()
            .map(|item| match item {
                RuleItem::Compare { .. } => RuleSlot::Compare,
                RuleItem::Group(g) => RuleSlot::Group(g.slots()),
            })
            .collect()
    }

    /// The group at `path` (item indices, group by group; empty is this one).
    pub fn group_at(&self, path: &[usize]) -> Option<&RuleGroup> {
        match path.split_first() {
            None => Some(self),
            Some((i, rest)) => match self.items.get(*i)? {
                RuleItem::Group(g) => g.group_at(rest),
                RuleItem::Compare { .. } => None,
            },
        }
    }

    /// The group at `path`, to change.
    pub fn group_at_mut(&mut self, path: &[usize]) -> Option<&mut RuleGroup> {
        match path.split_first() {
            None => Some(self),
            Some((i, rest)) => match self.items.get_mut(*i)? {
                RuleItem::Group(g) => g.group_at_mut(rest),
                RuleItem::Compare { .. } => None,
            },
        }
    }

    /// Where validation reports problems of the item at `path` (the last index is the item's
    /// place in its group): `when.all[1].not.any[0]`, and `.not` after it for a negated condition.
    pub fn problem_path(&self, path: &[usize]) -> Option<String> {
        let (i, rest) = path.split_first()?;
        let (prefix, key) = match self.combine {
            Combine::All => ("", "all"),
            Combine::Any => ("", "any"),
            Combine::NotAll => (".not", "all"),
            Combine::NoneOf => (".not", "any"),
        };
        let here = format!("{prefix}.{key}[{i}]");
        match (self.items.get(*i)?, rest.is_empty()) {
            (RuleItem::Compare { not, .. }, true) => {
                Some(format!("when{here}{}", if *not { ".not" } else { "" }))
            }
            (RuleItem::Group(_), true) => Some(format!("when{here}")),
            (RuleItem::Group(g), false) => g
                .problem_path(rest)
                .map(|p| format!("when{here}{}", &p["when".len()..])),
            (RuleItem::Compare { .. }, false) => None,
        }
    }

    /// A new condition line: an empty "product category is …" to fill in.
    pub fn new_compare() -> RuleItem {
        RuleItem::Compare {
            not: false,
            cmp: Comparison {
                field: "product.category".into(),
                op: Op::Eq,
                value: json!(""),
            },
        }
    }

    /// A new group inside a group: "any" of one new condition, as the usual reason for a group is
    /// an OR inside an AND.
    pub fn new_group() -> RuleItem {
        RuleItem::Group(RuleGroup {
            combine: Combine::Any,
            items: vec![RuleGroup::new_compare()],
        })
    }
}

/// The undo history: snapshots of the workflow before each change. Consecutive changes with the
/// same key (one slider being dragged) make one step of history.
#[derive(Debug, Clone, Default)]
pub struct History {
    past: Vec<Workflow>,
    future: Vec<Workflow>,
    last_key: Option<String>,
}

/// Oldest snapshots are dropped beyond this many.
const MAX_HISTORY: usize = 200;

impl History {
    /// Records `before`, the workflow as it was before a change.
    pub fn record(&mut self, before: Workflow, key: Option<&str>) {
        let coalesce = key.is_some() && key == self.last_key.as_deref();
        self.last_key = key.map(str::to_string);
        self.future.clear();
        if coalesce {
            return;
        }
        self.past.push(before);
        if self.past.len() > MAX_HISTORY {
            self.past.remove(0);
        }
    }
    /// Ends coalescing (a slider was let go): the next change is a step of its own.
    pub fn seal(&mut self) {
        self.last_key = None;
    }
    /// The workflow to go back to, given the current one.
    pub fn undo(&mut self, current: Workflow) -> Option<Workflow> {
        let prev = self.past.pop()?;
        self.future.push(current);
        self.last_key = None;
        Some(prev)
    }
    /// The workflow to go forward to, given the current one.
    pub fn redo(&mut self, current: Workflow) -> Option<Workflow> {
        let next = self.future.pop()?;
        self.past.push(current);
        self.last_key = None;
        Some(next)
    }
    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }
    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}

/// A palette group: its heading and the steps it offers, as `(id, name)`.
pub struct Group {
    pub title: &'static str,
    pub items: Vec<(String, String)>,
}

/// The palette, grouped as merchants think of the work.
pub fn palette() -> Vec<Group> {
    let items = |ids: &[&str]| {
        ids.iter()
            .map(|id| (id.to_string(), kind_name(id).to_string()))
            .collect()
    };
    let channels = Channel::ALL
        .iter()
        .map(|c| {
            (
                format!("channel:{}", c.id()),
                format!("{} image", crate::describe::channel(*c)),
            )
        })
        .chain([("notify".to_string(), kind_name("notify").to_string())])
        .collect();
    vec![
        Group {
            title: "Background",
            items: items(&["remove_background", "background", "shadow"]),
        },
        Group {
            title: "Colour & light",
            items: items(&["auto_enhance", "adjust", "reduce_glare", "filter"]),
        },
        Group {
            title: "Size & crop",
            items: items(&["crop_to_subject", "resize"]),
        },
        Group {
            title: "Brand",
            items: items(&["watermark"]),
        },
        Group {
            title: "Export",
            items: items(&["export"]),
        },
        Group {
            title: "Copy",
            items: items(&["generate_copy"]),
        },
        Group {
            title: "Logic",
            items: items(&["if", "warn"]),
        },
        Group {
            title: "Channels",
            items: channels,
        },
    ]
}

/// A step type's name in plain words.
pub fn kind_name(kind: &str) -> &'static str {
    match kind {
        "remove_background" => "Remove background",
        "background" => "Background colour",
        "shadow" => "Shadow",
        "auto_enhance" => "Auto-enhance",
        "adjust" => "Adjust colour & light",
        "reduce_glare" => "Reduce glare",
        "filter" => "Filter",
        "crop_to_subject" => "Crop around product",
        "resize" => "Resize",
        "watermark" => "Watermark",
        "export" => "Save image",
        "generate_copy" => "Write listing text",
        "if" => "If / otherwise",
        "warn" => "Warning",
        "channel" => "Marketplace image",
        "notify" => "Notify a web address",
        _ => "Step",
    }
}

/// A small icon for a step type (decorative: the name is always next to it).
pub fn kind_icon(kind: &str) -> &'static str {
    match kind {
        "remove_background" => "✂",
        "background" => "◧",
        "shadow" => "◐",
        "auto_enhance" => "✦",
        "adjust" => "☀",
        "reduce_glare" => "◌",
        "filter" => "◍",
        "crop_to_subject" => "⌗",
        "resize" => "⤢",
        "watermark" => "©",
        "export" => "⇩",
        "generate_copy" => "✎",
        "if" => "⋔",
        "warn" => "⚠",
        "channel" => "⚑",
        "notify" => "✉",
        _ => "•",
    }
}

/// A new step for a palette id (`resize`, `channel:etsy`, …), with sensible settings.
pub fn new_step(id: &str) -> Option<Step> {
    let v = match id.split_once(':') {
        Some(("channel", c)) => json!({"type": "channel", "channel": c}),
        _ => match id {
            "if" => {
                return Some(Step::new(Action::If(IfStep {
                    when: Condition::All {
                        all: vec![Condition::compare("product.category", Op::Eq, "")],
                    },
                    then: Vec::new(),
                    otherwise: Vec::new(),
                })))
            }
            "warn" => json!({"type": "warn", "message": "Check {{file.name}}"}),
            "notify" => json!({"type": "notify", "url": "https://example.com/hook"}),
            "watermark" => json!({"type": "watermark", "text": "Your shop"}),
            other => json!({ "type": other }),
        },
    };
    serde_json::from_value(v).ok()
}

/// How a parameter is edited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hint {
    /// A slider with a number box. `optional`: the value may be left automatic (null).
    Slider {
        min: f64,
        max: f64,
        step: f64,
        unit: &'static str,
        optional: bool,
    },
    /// A whole number box; `optional`: empty means automatic.
    Whole { min: f64, max: f64, optional: bool },
    /// A colour; `transparent`: "transparent" is allowed; `optional`: automatic allowed.
    Colour { transparent: bool, optional: bool },
    /// One of a fixed list, `(value, words)`. `optional`: a "none" choice is null.
    Choice {
        options: &'static [(&'static str, &'static str)],
        optional: bool,
    },
    /// Text with `{{field}}` placeholders (chips insert them). `optional`: empty is null.
    Template { optional: bool },
    /// A file name pattern with `{sku}`-style placeholders.
    FileName { optional: bool },
    /// Plain text; `optional`: empty is null.
    Text { optional: bool },
    /// A switch.
    Switch,
    /// A logo image, kept as a data URL: a file picker, a thumbnail and "Remove logo".
    Logo,
    /// A marketplace; `optional`: "none" is null.
    Channel { optional: bool },
    /// Not shown as a field (edited elsewhere, e.g. an IF's condition).
    Hidden,
}

const METHODS: &[(&str, &str)] = &[
    ("auto", "Automatic (studio backdrop or AI model)"),
    ("color_key", "Plain studio backdrop"),
    ("neural", "AI model (any photo)"),
];
const SHADOW_KINDS: &[(&str, &str)] = &[
    ("contact", "Contact (under the product)"),
    ("drop", "Drop shadow"),
];
const ALIGN: &[(&str, &str)] = &[
    ("center", "Centre"),
    ("bottom", "On the floor"),
    ("top", "Top"),
];
const FITS: &[(&str, &str)] = &[
    ("contain", "Fit inside"),
    ("cover", "Fill and trim"),
    ("fill", "Stretch"),
    ("pad", "Fit and pad to exact size"),
];
const POSITIONS: &[(&str, &str)] = &[
    ("top_left", "Top left"),
    ("top", "Top"),
    ("top_right", "Top right"),
    ("left", "Left"),
    ("center", "Centre"),
    ("right", "Right"),
    ("bottom_left", "Bottom left"),
    ("bottom", "Bottom"),
    ("bottom_right", "Bottom right"),
    ("tile", "Repeated all over"),
];
const FORMATS: &[(&str, &str)] = &[("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WebP")];

fn slider(min: f64, max: f64, step: f64, unit: &'static str) -> Hint {
    Hint::Slider {
        min,
        max,
        step,
        unit,
        optional: false,
    }
}

/// The form control for `field` of a step of type `kind`, and its label. Fields not listed are
/// edited by the kind of their value (number, switch, text).
pub fn hint(kind: &str, field: &str) -> Option<(Hint, &'static str)> {
    let unit = slider(0.0, 1.0, 0.01, "");
    let h = match (kind, field) {
        ("remove_background", "method") => (
            Hint::Choice {
                options: METHODS,
                optional: false,
            },
            "How",
        ),
        ("remove_background", "tolerance") => (slider(0.0, 100.0, 1.0, ""), "Backdrop tolerance"),
        ("remove_background", "feather") => (slider(0.0, 20.0, 0.5, "px"), "Soft edge"),
        ("remove_background", "keep_shadow") => (Hint::Switch, "Keep the shadow under the product"),
        ("remove_background", "min_island") => {
            (slider(0.0, 0.5, 0.005, ""), "Drop specks smaller than")
        }
        ("background", "color") => (
            Hint::Colour {
                transparent: true,
                optional: false,
            },
            "Colour",
        ),
        ("shadow", "kind") => (
            Hint::Choice {
                options: SHADOW_KINDS,
                optional: false,
            },
            "Kind",
        ),
        ("shadow", "opacity") => (unit, "Darkness"),
        ("shadow", "blur") => (slider(0.0, 20.0, 0.1, "%"), "Softness"),
        ("shadow", "offset_x") => (
            Hint::Slider {
                min: -50.0,
                max: 50.0,
                step: 0.1,
                unit: "%",
                optional: true,
            },
            "Move sideways",
        ),
        ("shadow", "offset_y") => (
            Hint::Slider {
                min: -50.0,
                max: 50.0,
                step: 0.1,
                unit: "%",
                optional: true,
            },
            "Move down",
        ),
        ("shadow", "color") => (
            Hint::Colour {
                transparent: false,
                optional: false,
            },
            "Colour",
        ),
        ("auto_enhance", "strength") => (unit, "Overall strength"),
        ("auto_enhance", "white_balance") => (unit, "Fix colour cast"),
        ("auto_enhance", "levels") => (unit, "Stretch tones"),
        ("auto_enhance", "clip_percent") => (slider(0.0, 10.0, 0.1, "%"), "Allowed clipping"),
        ("auto_enhance", "exposure") => (unit, "Exposure"),
        ("auto_enhance", "contrast") => (unit, "Contrast"),
        ("auto_enhance", "vibrance") => (unit, "Vibrance"),
        ("auto_enhance", "sharpen") => (unit, "Sharpen"),
        ("auto_enhance", "sharpen_radius") => (slider(0.3, 20.0, 0.1, "px"), "Sharpen radius"),
        ("auto_enhance", "sharpen_threshold") => (slider(0.0, 64.0, 1.0, ""), "Sharpen threshold"),
        ("adjust", "brightness") => (slider(-1.0, 1.0, 0.01, ""), "Brightness"),
        ("adjust", "contrast") => (slider(-1.0, 1.0, 0.01, ""), "Contrast"),
        ("adjust", "saturation") => (slider(-1.0, 1.0, 0.01, ""), "Saturation"),
        ("adjust", "hue") => (slider(-180.0, 180.0, 1.0, "°"), "Hue"),
        ("adjust", "temperature") => (slider(-1.0, 1.0, 0.01, ""), "Warmth"),
        ("adjust", "gamma") => (slider(0.2, 5.0, 0.01, ""), "Mid-tones"),
        ("reduce_glare", "strength") => (unit, "Strength"),
        ("reduce_glare", "threshold") => (slider(0.5, 1.0, 0.01, ""), "From brightness"),
        ("crop_to_subject", "fill") => (slider(0.2, 1.0, 0.01, ""), "Product fills"),
        ("crop_to_subject", "aspect") => (
            Hint::Slider {
                min: 0.2,
                max: 5.0,
                step: 0.01,
                unit: "",
                optional: true,
            },
            "Shape (width ÷ height)",
        ),
        ("crop_to_subject", "align") => (
            Hint::Choice {
                options: ALIGN,
                optional: false,
            },
            "Product sits",
        ),
        ("crop_to_subject", "pad_color") => (
            Hint::Colour {
                transparent: false,
                optional: true,
            },
            "Padding colour",
        ),
        ("crop_to_subject", "tolerance") => (slider(0.0, 100.0, 1.0, ""), "Backdrop tolerance"),
        ("resize", "width") => (
            Hint::Whole {
                min: 1.0,
                max: 10000.0,
                optional: true,
            },
            "Width (px)",
        ),
        ("resize", "height") => (
            Hint::Whole {
                min: 1.0,
                max: 10000.0,
                optional: true,
            },
            "Height (px)",
        ),
        ("resize", "fit") => (
            Hint::Choice {
                options: FITS,
                optional: false,
            },
            "Fit",
        ),
        ("resize", "background") => (
            Hint::Colour {
                transparent: true,
                optional: false,
            },
            "Padding colour",
        ),
        ("resize", "upscale") => (Hint::Switch, "Enlarge smaller photos"),
        ("watermark", "text") => (Hint::Text { optional: true }, "Text"),
        ("watermark", "image") => (Hint::Logo, "Logo"),
        ("watermark", "position") => (
            Hint::Choice {
                options: POSITIONS,
                optional: false,
            },
            "Position",
        ),
        ("watermark", "opacity") => (unit, "Opacity"),
        ("watermark", "scale") => (slider(0.01, 1.0, 0.01, ""), "Size (share of width)"),
        ("watermark", "margin") => (slider(0.0, 0.45, 0.005, ""), "Margin"),
        ("watermark", "color") => (
            Hint::Colour {
                transparent: false,
                optional: false,
            },
            "Text colour",
        ),
        ("filter", "name") => (
            Hint::Choice {
                options: &[],
                optional: false,
            },
            "Filter",
        ),
        ("filter", "strength") => (unit, "Strength"),
        ("export", "format") => (
            Hint::Choice {
                options: FORMATS,
                optional: false,
            },
            "Format",
        ),
        ("export", "quality") => (slider(1.0, 100.0, 1.0, ""), "JPEG quality"),
        ("export", "max_bytes") => (
            Hint::Whole {
                min: 1.0,
                max: 1e12,
                optional: true,
            },
            "At most (bytes)",
        ),
        ("export", "name") => (Hint::FileName { optional: false }, "File name"),
        ("export", "check") => (Hint::Channel { optional: true }, "Check against"),
        ("export", "matte") => (
            Hint::Colour {
                transparent: false,
                optional: false,
            },
            "Fill transparency with",
        ),
        ("generate_copy", "title") => (Hint::Template { optional: false }, "Title"),
        ("generate_copy", "description") => (Hint::Template { optional: false }, "Description"),
        ("generate_copy", "alt_text") => (Hint::Template { optional: false }, "Alt text"),
        ("generate_copy", "instagram") => (Hint::Template { optional: false }, "Instagram caption"),
        ("generate_copy", "facebook") => (Hint::Template { optional: false }, "Facebook post"),
        ("generate_copy", "max_title_chars") => (
            Hint::Whole {
                min: 1.0,
                max: 1000.0,
                optional: false,
            },
            "Longest title (characters)",
        ),
        ("channel", "channel") => (Hint::Channel { optional: false }, "Marketplace"),
        ("channel", "name") => (Hint::FileName { optional: true }, "File name"),
        ("warn", "message") => (Hint::Template { optional: false }, "Message"),
        ("notify", "url") => (Hint::Text { optional: false }, "Web address"),
        ("notify", "secret") => (Hint::Text { optional: true }, "Signing secret"),
        ("if", _) => (Hint::Hidden, ""),
        _ => return None,
    };
    Some(h)
}

/// Largest logo file accepted by the picker. A logo is a small mark; 2 MB is plenty for a sharp
/// one and keeps the workflow (which carries it as base64, a third larger) quick to save and sync.
pub const MAX_LOGO_BYTES: usize = 2 * 1024 * 1024;

/// Refuses a logo file of more than [`MAX_LOGO_BYTES`] (before it is read), naming it.
pub fn check_logo_size(name: &str, bytes: usize) -> Result<(), String> {
    if bytes > MAX_LOGO_BYTES {
        return Err(format!(
            "{name} is {:.1} MB: choose a logo file of at most {} MB",
            // Rounded up, so a file just over the limit does not read as "2.0 MB".
            (bytes as f64 / (1024.0 * 1024.0) * 10.0).ceil() / 10.0,
            MAX_LOGO_BYTES / (1024 * 1024)
        ));
    }
    Ok(())
}

/// The image type of a logo file chosen in the picker, from its first bytes (not its name or the
/// type the browser guessed), or why it cannot be used, naming the file.
pub fn logo_mime(name: &str, bytes: &[u8]) -> Result<&'static str, String> {
    use shotline_core::codec::sniff;
    use shotline_core::model::Format;
    check_logo_size(name, bytes.len())?;
    match sniff(bytes) {
        Some(Format::Png) => Ok("image/png"),
        Some(Format::Jpeg) => Ok("image/jpeg"),
        Some(Format::Webp) => Ok("image/webp"),
        None => Err(format!("{name} is not a PNG, JPEG or WebP image")),
    }
}

/// Bytes as a base64 data URL.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// What an `<img>` shows for a stored logo: the data URL itself, or plain base64 with the type its
/// first characters give away (the watermark step takes both).
pub fn logo_src(stored: &str) -> String {
    let stored = stored.trim();
    if stored.starts_with("data:") {
        return stored.to_string();
    }
    let mime = if stored.starts_with("/9j/") {
        "image/jpeg"
    } else {
        "image/png"
    };
    format!("data:{mime};base64,{stored}")
}

/// The watermark step with `logo` as its mark, or with no logo. A logo replaces the text, as the
/// step takes one or the other: one change, so one undo brings both back.
pub fn with_logo(step: &Step, logo: Option<String>) -> Result<Step, String> {
    let next = with_field(
        step,
        "image",
        logo.as_ref().map_or(Value::Null, |l| json!(l)),
    )?;
    if logo.is_some() {
        with_field(&next, "text", Value::Null)
    } else {
        Ok(next)
    }
}

/// The parameter fields of a step, in document order, with their values.
pub fn fields(step: &Step) -> Vec<(String, Value)> {
    let Ok(Value::Object(map)) = serde_json::to_value(step) else {
        return Vec::new();
    };
    map.into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "type" | "enabled" | "label"))
        .collect()
}

/// The step with `field` set to `value`, or the reason it cannot be.
pub fn with_field(step: &Step, field: &str, value: Value) -> Result<Step, String> {
    let mut v = serde_json::to_value(step).map_err(|e| e.to_string())?;
    if let Value::Object(map) = &mut v {
        map.insert(field.to_string(), value);
    }
    serde_json::from_value(v).map_err(|e| {
        let m = e.to_string();
        if m.contains("invalid type") || m.contains("invalid value") {
            "this value does not fit here; enter a number in range".to_string()
        } else {
            m
        }
    })
}

/// Fields that `{{…}}` templates and conditions can read.
pub fn known_fields() -> Vec<String> {
    let mut out: Vec<String> = [
        "title",
        "category",
        "brand",
        "sku",
        "tags",
        "price",
        "description",
        "vendor",
        "color",
    ]
    .iter()
    .map(|f| format!("product.{f}"))
    .collect();
    out.extend(
        shotline_core::facts::IMAGE_FIELDS
            .iter()
            .map(|f| format!("image.{f}")),
    );
    out.extend(
        shotline_core::facts::FILE_FIELDS
            .iter()
            .map(|f| format!("file.{f}")),
    );
    out
}

/// Which validation problems belong to the step at `path` (not to steps inside it): the step
/// itself, its fields and its condition.
pub fn belongs_to(problem_path: &str, step: &str) -> bool {
    match problem_path.strip_prefix(step) {
        Some("") => true,
        Some(rest) => {
            rest.starts_with('.') && !rest.starts_with(".then[") && !rest.starts_with(".else[")
        }
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wf(json: &str) -> Workflow {
        shotline_core::validate::parse(json).unwrap()
    }

    fn kinds(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(|s| s.action.kind()).collect()
    }

    fn sample() -> Workflow {
        wf(r#"{"schema":1,"name":"x","steps":[
            {"type":"auto_enhance"},
            {"type":"if","when":{"field":"product.category","op":"eq","value":"Rings"},
             "then":[{"type":"reduce_glare"}],"else":[]},
            {"type":"resize"},
            {"type":"export"}]}"#)
    }

    fn iff(w: &Workflow, i: usize) -> &IfStep {
        match &w.steps[i].action {
            Action::If(x) => x,
            _ => panic!("not an IF"),
        }
    }

    /// Insert, duplicate and remove work at any depth and report where the step went.
    #[test]
    fn insert_duplicate_remove_by_path() {
        let mut w = sample();
        let into_else = ListPath::root().branch(1, Branch::Else);
        let at = insert(&mut w, &into_else, 9, new_step("filter").unwrap()).unwrap();
        assert_eq!(at.to_string(), "steps[1].else[0]");
        assert_eq!(kinds(&iff(&w, 1).otherwise), ["filter"]);
        let copy = duplicate(&mut w, &ListPath::root().at(0)).unwrap();
        assert_eq!(copy.to_string(), "steps[1]");
        assert_eq!(
            kinds(&w.steps),
            ["auto_enhance", "auto_enhance", "if", "resize", "export"]
        );
        let gone = remove(&mut w, &ListPath::root().branch(2, Branch::Then).at(0)).unwrap();
        assert_eq!(gone.action.kind(), "reduce_glare");
        assert!(iff(&w, 2).then.is_empty());
        assert!(remove(&mut w, &ListPath::root().at(9)).is_none());
    }

    /// Moving down within a list, into a branch and out of one lands each step where it was
    /// dropped; a step cannot be dropped inside itself.
    #[test]
    fn moves_within_into_and_out_of_branches() {
        let mut w = sample();
        // Drop the first step before the export (index 3): it lands just above it.
        let at = move_step(&mut w, &ListPath::root().at(0), &ListPath::root().at(3)).unwrap();
        assert_eq!(at.to_string(), "steps[2]");
        assert_eq!(kinds(&w.steps), ["if", "resize", "auto_enhance", "export"]);
        // Into the THEN branch of the IF, now at index 0.
        let then = ListPath::root().branch(0, Branch::Then);
        let at = move_step(&mut w, &ListPath::root().at(3), &then.at(1)).unwrap();
        assert_eq!(at.to_string(), "steps[0].then[1]");
        assert_eq!(kinds(&iff(&w, 0).then), ["reduce_glare", "export"]);
        // Out again, to the very end.
        let at = move_step(&mut w, &then.at(0), &ListPath::root().at(99)).unwrap();
        assert_eq!(at.to_string(), "steps[3]");
        assert_eq!(
            kinds(&w.steps),
            ["if", "resize", "auto_enhance", "reduce_glare"]
        );
        // A step above an IF moving into that IF: the IF's index shifts up by one.
        let mut w = sample();
        let at = move_step(
            &mut w,
            &ListPath::root().at(0),
            &ListPath::root().branch(1, Branch::Else).at(0),
        )
        .unwrap();
        assert_eq!(at.to_string(), "steps[0].else[0]");
        assert_eq!(kinds(&iff(&w, 0).otherwise), ["auto_enhance"]);
        // Not into itself.
        let before = w.clone();
        assert!(move_step(
            &mut w,
            &ListPath::root().at(0),
            &ListPath::root().branch(0, Branch::Then).at(0)
        )
        .is_none());
        assert_eq!(w, before);
    }

    /// Keyboard moves swap with an ordinary neighbour, both ways, and stop at the ends.
    #[test]
    fn nudges_swap_with_ordinary_neighbours_and_stop_at_the_ends() {
        let mut w = sample();
        assert!(nudge(&mut w, &ListPath::root().at(0), true).is_none());
        let at = nudge(&mut w, &ListPath::root().at(2), false).unwrap();
        assert_eq!(at.to_string(), "steps[3]");
        assert_eq!(kinds(&w.steps), ["auto_enhance", "if", "export", "resize"]);
        assert!(nudge(&mut w, &ListPath::root().at(3), false).is_none());
        let at = nudge(&mut w, &at, true).unwrap();
        assert_eq!(at.to_string(), "steps[2]");
        assert_eq!(w, sample());
    }

    /// A tree for keyboard moves: a step, an IF with one step in each branch (the THEN one has an
    /// IF inside it), and a step below.
    fn tree() -> Workflow {
        wf(r#"{"schema":1,"name":"x","steps":[
            {"type":"auto_enhance"},
            {"type":"if","when":{"field":"product.category","op":"eq","value":"Rings"},
             "then":[{"type":"reduce_glare"},
                     {"type":"if","when":{"field":"image.width","op":"gt","value":100},
                      "then":[],"else":[{"type":"shadow"}]}],
             "else":[{"type":"filter"}]},
            {"type":"resize"}]}"#)
    }

    fn at(s: &str) -> StepPath {
        StepPath::parse(s).unwrap()
    }

    /// Alt+↓ above an IF goes to the top of its THEN; Alt+↑ at the top of a branch leaves the IF
    /// upwards; Alt+↓ at the bottom of a branch leaves it downwards; Alt+↑ below an IF goes to the
    /// bottom of its OTHERWISE. Each move keeps the step and lands where the arithmetic says.
    #[test]
    fn nudges_walk_in_and_out_of_branches() {
        let mut w = tree();
        let to = nudge(&mut w, &at("steps[0]"), false).unwrap();
        assert_eq!(to.to_string(), "steps[0].then[0]");
        assert_eq!(kinds(&w.steps), ["if", "resize"]);
        assert_eq!(
            kinds(&iff(&w, 0).then),
            ["auto_enhance", "reduce_glare", "if"]
        );
        // And back out above it.
        let to = nudge(&mut w, &to, true).unwrap();
        assert_eq!(to.to_string(), "steps[0]");
        assert_eq!(w, tree(), "down then up is where it started");

        // The last step of a branch leaves downwards, just below its IF.
        let mut w = tree();
        let to = nudge(&mut w, &at("steps[1].else[0]"), false).unwrap();
        assert_eq!(to.to_string(), "steps[2]");
        assert_eq!(kinds(&w.steps), ["auto_enhance", "if", "filter", "resize"]);
        assert!(iff(&w, 1).otherwise.is_empty());
        // Up again from below the IF: the bottom of OTHERWISE, the block drawn just above.
        let to = nudge(&mut w, &to, true).unwrap();
        assert_eq!(to.to_string(), "steps[1].else[0]");
        assert_eq!(w, tree());

        // Below an IF with steps in OTHERWISE: after them.
        let mut w = tree();
        let to = nudge(&mut w, &at("steps[2]"), true).unwrap();
        assert_eq!(to.to_string(), "steps[1].else[1]");
        assert_eq!(kinds(&iff(&w, 1).otherwise), ["filter", "resize"]);

        // Nested: the THEN step above the inner IF goes into the inner IF's THEN, and from the
        // inner OTHERWISE's only step up out of the inner IF (above it, still in the outer THEN).
        let mut w = tree();
        let to = nudge(&mut w, &at("steps[1].then[0]"), false).unwrap();
        assert_eq!(to.to_string(), "steps[1].then[0].then[0]");
        let mut w = tree();
        let to = nudge(&mut w, &at("steps[1].then[1].else[0]"), true).unwrap();
        assert_eq!(to.to_string(), "steps[1].then[1]");
        assert_eq!(kinds(&iff(&w, 1).then), ["reduce_glare", "shadow", "if"]);

        // A first step of THEN leaves upwards too (not into OTHERWISE of anything).
        let mut w = tree();
        let to = nudge(&mut w, &at("steps[1].then[0]"), true).unwrap();
        assert_eq!(to.to_string(), "steps[1]");
        assert_eq!(
            kinds(&w.steps),
            ["auto_enhance", "reduce_glare", "if", "resize"]
        );
    }

    /// The top and bottom of the workflow stop a keyboard move, leaving it unchanged; a path that
    /// names no step moves nothing.
    #[test]
    fn nudges_stop_at_the_top_and_bottom_of_the_workflow() {
        let mut w = tree();
        assert!(nudge_target(&w, &at("steps[0]"), true).is_none());
        assert!(nudge_target(&w, &at("steps[2]"), false).is_none());
        assert!(nudge_target(&w, &at("steps[7]"), true).is_none());
        assert!(nudge(&mut w, &at("steps[1].else[4]"), true).is_none());
        assert_eq!(w, tree());
    }

    /// The announcement names the place in words, level by level.
    #[test]
    fn places_read_as_words() {
        assert_eq!(place_words(&at("steps[1]")), "step 2 of the workflow");
        assert_eq!(
            place_words(&at("steps[2].else[0]")),
            "step 1 under Otherwise of the IF at step 3"
        );
        assert_eq!(
            place_words(&at("steps[1].then[1].then[0]")),
            "step 1 under Then of the IF at step 2 under Then of the IF at step 2"
        );
    }

    fn cond(json: &str) -> Condition {
        serde_json::from_str(json).unwrap()
    }

    /// Nested groups (also NOT around a group, shown as "none of" / "not all of") come into the
    /// editor and go back out as the same condition; a NOT around a NOT is left to the JSON
    /// editor; a single comparison becomes a group of one.
    #[test]
    fn rule_groups_round_trip_nested_conditions() {
        let c = cond(
            r#"{"all":[{"field":"product.category","op":"eq","value":"Rings"},
                {"any":[{"not":{"field":"image.width","op":"gte","value":1000}},
                        {"not":{"all":[{"field":"product.brand","op":"is_empty"}]}}]},
                {"not":{"any":[]}}]}"#,
        );
        let g = RuleGroup::from_condition(&c).unwrap();
        assert_eq!(g.to_condition(), c);
        assert_eq!(
            g.slots(),
            [
                RuleSlot::Compare,
                RuleSlot::Group(vec![
                    RuleSlot::Compare,
                    RuleSlot::Group(vec![RuleSlot::Compare])
                ]),
                RuleSlot::Group(vec![])
            ]
        );
        assert_eq!(g.group_at(&[1]).unwrap().combine, Combine::Any);
        assert_eq!(g.group_at(&[1, 1]).unwrap().combine, Combine::NotAll);
        assert_eq!(g.group_at(&[2]).unwrap().combine, Combine::NoneOf);
        assert!(g.group_at(&[0]).is_none(), "a comparison is not a group");
        let twice = cond(r#"{"all":[{"not":{"not":{"field":"sku","op":"is_empty"}}}]}"#);
        assert!(RuleGroup::from_condition(&twice).is_none());
        let single = cond(r#"{"field":"product.sku","op":"is_empty"}"#);
        let g = RuleGroup::from_condition(&single).unwrap();
        assert_eq!(
            (g.combine, g.slots()),
            (Combine::All, vec![RuleSlot::Compare])
        );
        for (c, id, _) in Combine::CHOICES {
            assert_eq!(Combine::from_id(id), c);
            assert_eq!(c.id(), id);
        }
    }

    /// Editing a nested group by its path (add a condition and a group inside it, change how it
    /// combines) changes only that group, and validation's paths for its lines are the ones the
    /// editor computes.
    #[test]
    fn rule_groups_edit_by_path_and_name_their_problems() {
        let c = cond(
            r#"{"all":[{"field":"product.category","op":"eq","value":"Rings"},
                {"not":{"any":[{"field":"product.price","op":"gt","value":"cheap"}]}}]}"#,
        );
        let mut g = RuleGroup::from_condition(&c).unwrap();
        let inner = g.group_at_mut(&[1]).unwrap();
        inner.items.push(RuleGroup::new_group());
        inner.combine = Combine::Any;
        assert_eq!(
            g.slots()[1],
            RuleSlot::Group(vec![
                RuleSlot::Compare,
                RuleSlot::Group(vec![RuleSlot::Compare])
            ])
        );
        let json = serde_json::to_value(g.to_condition()).unwrap();
        assert_eq!(
            json["all"][1]["any"][1]["any"][0]["field"],
            "product.category"
        );
        assert_eq!(
            json["all"][0]["value"], "Rings",
            "the first line is untouched"
        );

        // The price compared with text is a problem; its path is the one validation reports.
        g.group_at_mut(&[1]).unwrap().combine = Combine::NoneOf;
        let mut problems = Vec::new();
        g.to_condition().check("when", &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            g.problem_path(&[1, 0]).as_deref(),
            Some(problems[0].0.as_str())
        );
        assert_eq!(problems[0].0, "when.all[1].not.any[0]");
        if let RuleItem::Compare { not, .. } = &mut g.group_at_mut(&[]).unwrap().items[0] {
            *not = true;
        }
        assert_eq!(g.problem_path(&[0]).as_deref(), Some("when.all[0].not"));
        assert_eq!(
            g.problem_path(&[1, 1, 0]).as_deref(),
            Some("when.all[1].not.any[1].any[0]")
        );
        assert!(g.problem_path(&[0, 0]).is_none());
    }

    /// A PNG, JPEG or WebP logo is recognised by its bytes and becomes a base64 data URL; a file
    /// over 2 MB or of another kind is refused with a message naming it; a logo replaces the text.
    #[test]
    fn logos_become_data_urls_and_replace_the_text() {
        let png = b"\x89PNG\r\n\x1a\n rest";
        assert_eq!(logo_mime("logo.png", png), Ok("image/png"));
        assert_eq!(
            logo_mime("logo.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok("image/jpeg")
        );
        assert_eq!(
            logo_mime("logo.webp", b"RIFF\0\0\0\0WEBPVP8L"),
            Ok("image/webp")
        );
        let err = logo_mime("notes.txt", b"hello").unwrap_err();
        assert_eq!(err, "notes.txt is not a PNG, JPEG or WebP image");
        let mut big = png.to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        let err = logo_mime("huge.png", &big).unwrap_err();
        assert!(
            err.starts_with("huge.png is 2.1 MB:") && err.contains("at most 2 MB"),
            "{err}"
        );
        assert!(logo_mime("edge.png", &big[..MAX_LOGO_BYTES]).is_ok());

        let url = data_url("image/png", b"abc");
        assert_eq!(url, "data:image/png;base64,YWJj");
        assert_eq!(logo_src(&url), url);
        assert_eq!(logo_src("/9j/4AAQ"), "data:image/jpeg;base64,/9j/4AAQ");
        assert_eq!(logo_src("iVBORw0K"), "data:image/png;base64,iVBORw0K");

        let step = new_step("watermark").unwrap();
        let with = with_logo(&step, Some(url.clone())).unwrap();
        match &with.action {
            Action::Watermark(m) => {
                assert_eq!(m.image.as_deref(), Some(url.as_str()));
                assert_eq!(m.text, None, "the text gave way to the logo");
            }
            other => panic!("{other:?}"),
        }
        let without = with_logo(&with, None).unwrap();
        assert!(matches!(&without.action, Action::Watermark(m) if m.image.is_none()));
        assert_eq!(hint("watermark", "image").map(|h| h.0), Some(Hint::Logo));
    }

    /// A slider drag is one undo step; undo and redo walk the snapshots both ways.
    #[test]
    fn history_coalesces_drags_and_undoes_and_redoes() {
        let named = |n: &str| {
            let mut w = sample();
            w.name = n.into();
            w
        };
        let mut h = History::default();
        h.record(named("a"), Some("steps[0].strength"));
        h.record(named("b"), Some("steps[0].strength"));
        h.record(named("c"), Some("steps[0].strength"));
        h.seal();
        h.record(named("d"), None);
        assert_eq!(h.undo(named("e")).unwrap().name, "d");
        assert_eq!(
            h.undo(named("d")).unwrap().name,
            "a",
            "the drag was one step"
        );
        assert!(!h.can_undo());
        assert_eq!(h.redo(named("a")).unwrap().name, "d");
        assert_eq!(h.redo(named("d")).unwrap().name, "e");
        assert!(!h.can_redo());
        h.undo(named("e"));
        h.record(named("f"), None);
        assert!(!h.can_redo(), "a new change drops the redo list");
    }

    /// Every palette entry makes a step, every such step's fields have a control, and a default
    /// step passes validation once it has a name.
    #[test]
    fn palette_steps_are_valid_and_fully_editable() {
        for g in palette() {
            for (id, name) in g.items {
                let step = new_step(&id).unwrap_or_else(|| panic!("{id}"));
                assert!(!name.contains('_'), "{name}");
                for (field, _) in fields(&step) {
                    assert!(
                        hint(step.action.kind(), &field).is_some(),
                        "{id}.{field} has no control"
                    );
                }
                let w = Workflow {
                    schema: 1,
                    name: "x".into(),
                    description: String::new(),
                    trigger: Default::default(),
                    steps: vec![step],
                };
                let problems = shotline_core::validate::validate(&w);
                assert!(
                    problems.iter().all(|p| p.path.contains("when")),
                    "{id}: {problems:?}"
                );
            }
        }
    }

    /// Setting a field goes through the step's own types: a wrong type is refused with a message.
    #[test]
    fn fields_are_set_through_serde() {
        let s = new_step("export").unwrap();
        let s2 = with_field(&s, "quality", json!(55)).unwrap();
        assert!(matches!(&s2.action, Action::Export(e) if e.quality == 55));
        assert!(with_field(&s, "quality", json!(500)).is_err());
    }

    /// Problems are shown on the step they belong to, not on the IF around it.
    #[test]
    fn problems_belong_to_their_own_step() {
        assert!(belongs_to("steps[1].quality", "steps[1]"));
        assert!(belongs_to("steps[1].when", "steps[1]"));
        assert!(!belongs_to("steps[1].then[0].quality", "steps[1]"));
        assert!(belongs_to("steps[1].then[0].quality", "steps[1].then[0]"));
        assert!(!belongs_to("steps[11].quality", "steps[1]"));
    }
}
