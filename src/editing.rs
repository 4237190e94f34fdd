//! The editor's plain logic, tested natively: edits of the step tree by path (insert, remove,
//! duplicate, move, also into and out of IF branches), the undo history, new steps for the palette
//! and the hints that turn a step's parameters into form controls.

use serde_json::{json, Value};
use shotline_core::channels::Channel;
use shotline_core::condition::{Condition, Op};
use shotline_core::model::{Action, IfStep, Step, Workflow};
use shotline_core::preview::{Branch, ListPath, StepPath};

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

/// Moves a step one place up (`up`) or down in its list. None at either end.
pub fn nudge(wf: &mut Workflow, path: &StepPath, up: bool) -> Option<StepPath> {
    let list = list_mut(&mut wf.steps, &path.list)?;
    let other = if up {
        path.index.checked_sub(1)?
    } else {
        path.index + 1
    };
    if other >= list.len() || path.index >= list.len() {
        return None;
    }
    list.swap(path.index, other);
    Some(path.list.at(other))
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
    /// A marketplace; `optional`: "none" is null.
    Channel { optional: bool },
    /// Not shown as a field (edited elsewhere, e.g. an IF's condition).
    Hidden,
}

const METHODS: &[(&str, &str)] = &[
    ("auto", "Automatic"),
    ("color_key", "Plain studio backdrop"),
    ("neural", "AI model (server)"),
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
        ("watermark", "image") => (Hint::Text { optional: true }, "Logo (data URL or base64)"),
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

    /// Keyboard moves swap with the neighbour and stop at the ends.
    #[test]
    fn nudges_stop_at_the_ends() {
        let mut w = sample();
        assert!(nudge(&mut w, &ListPath::root().at(0), true).is_none());
        let at = nudge(&mut w, &ListPath::root().at(0), false).unwrap();
        assert_eq!(at.index, 1);
        assert_eq!(kinds(&w.steps), ["if", "auto_enhance", "resize", "export"]);
        assert!(nudge(&mut w, &ListPath::root().at(3), false).is_none());
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
