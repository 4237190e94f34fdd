//! The editor's live preview: a workflow's steps run on a (downscaled) photo up to a chosen step.
//!
//! [`StepPath`] names a step inside the tree (`steps[1].then[0]`, the same paths as validation
//! errors). [`preview`] runs every step before it, following the branch the path goes through
//! whatever the condition says (the merchant asked to see that step), and then the step itself.
//! For an IF step it runs both branches on the same photo so they can be compared side by side.
//! Steps that only write files or text (export, copy, warn, notify) leave the picture as it is; a
//! channel step shows the channel's image. Pure: the same code can move into a web worker.

use crate::channels::Channel;
use crate::engine::Segmenter;
use crate::error::{Error, Result};
use crate::facts::{Facts, FileFacts, ImageFacts};
use crate::model::{Action, Step, Workflow};
use crate::ops;
use crate::products::Product;
use crate::raster::Raster;

/// Which block of an IF step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Branch {
    Then,
    Else,
}

impl Branch {
    /// The name used in paths and JSON (`then` / `else`).
    pub fn key(self) -> &'static str {
        match self {
            Branch::Then => "then",
            Branch::Else => "else",
        }
    }
}

/// Where a list of steps is: the top level (empty), or a branch of the IF at an index of the
/// enclosing list, level by level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListPath(pub Vec<(usize, Branch)>);

/// One step: its list and its index there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepPath {
    pub list: ListPath,
    pub index: usize,
}

impl ListPath {
    pub fn root() -> ListPath {
        ListPath(Vec::new())
    }
    /// The branch `branch` of the IF step at `index` of this list.
    pub fn branch(&self, index: usize, branch: Branch) -> ListPath {
        let mut v = self.0.clone();
        v.push((index, branch));
        ListPath(v)
    }
    /// The step at `index` of this list.
    pub fn at(&self, index: usize) -> StepPath {
        StepPath {
            list: self.clone(),
            index,
        }
    }
    /// True when this list is inside the step `p` (or is one of its branches).
    pub fn is_inside(&self, p: &StepPath) -> bool {
        self.0.len() > p.list.0.len()
            && self.0[..p.list.0.len()] == p.list.0[..]
            && self.0[p.list.0.len()].0 == p.index
    }
}

impl std::fmt::Display for ListPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("steps")?;
        for (i, b) in &self.0 {
            write!(f, "[{i}].{}", b.key())?;
        }
        Ok(())
    }
}

impl std::fmt::Display for StepPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.list, self.index)
    }
}

impl StepPath {
    /// Parses `steps[1].then[0]`; None for anything else.
    pub fn parse(s: &str) -> Option<StepPath> {
        let rest = s.strip_prefix("steps[")?;
        let mut levels = Vec::new();
        let (first, mut rest) = rest.split_once(']')?;
        let mut index: usize = first.parse().ok()?;
        while !rest.is_empty() {
            let r = rest.strip_prefix('.')?;
            let (branch, r) = if let Some(r) = r.strip_prefix("then[") {
                (Branch::Then, r)
            } else if let Some(r) = r.strip_prefix("else[") {
                (Branch::Else, r)
            } else {
                return None;
            };
            let (n, r) = r.split_once(']')?;
            levels.push((index, branch));
            index = n.parse().ok()?;
            rest = r;
        }
        Some(StepPath {
            list: ListPath(levels),
            index,
        })
    }
}

/// The list of steps at `path`, if there is one.
pub fn list_at<'a>(steps: &'a [Step], path: &ListPath) -> Option<&'a [Step]> {
    let mut list = steps;
    for (i, b) in &path.0 {
        let Action::If(iff) = &list.get(*i)?.action else {
            return None;
        };
        list = match b {
            Branch::Then => &iff.then,
            Branch::Else => &iff.otherwise,
        };
    }
    Some(list)
}

/// The step at `path`, if there is one.
pub fn step_at<'a>(steps: &'a [Step], path: &StepPath) -> Option<&'a Step> {
    list_at(steps, &path.list)?.get(path.index)
}

/// What a preview shows after the chosen step.
#[derive(Debug, Clone)]
pub enum Preview {
    /// The picture after the step.
    Single(Raster),
    /// An IF step: the picture after each branch, and the branch this photo takes.
    Branches {
        then: Raster,
        otherwise: Raster,
        taken: Branch,
    },
}

/// The photo's product data and file facts, which conditions read, and the host's neural
/// cut-out (if it has one) for `remove_background` steps, as in a run.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub product: &'a Product,
    pub file: &'a FileFacts,
    pub segmenter: Option<&'a dyn Segmenter>,
}

/// Runs `wf` on `img` up to and including the step at `upto` (see the module doc).
pub fn preview(wf: &Workflow, img: &Raster, upto: &StepPath, ctx: Context<'_>) -> Result<Preview> {
    let mut img = img.clone();
    let mut list: &[Step] = &wf.steps;
    for (i, b) in &upto.list.0 {
        run_steps(&list[..(*i).min(list.len())], &mut img, ctx)?;
        let Some(Step {
            action: Action::If(iff),
            ..
        }) = list.get(*i)
        else {
            return Err(Error::op(format!("preview: there is no IF step at {upto}")));
        };
        list = match b {
            Branch::Then => &iff.then,
            Branch::Else => &iff.otherwise,
        };
    }
    let Some(step) = list.get(upto.index) else {
        return Err(Error::op(format!("preview: there is no step at {upto}")));
    };
    run_steps(&list[..upto.index], &mut img, ctx)?;
    match &step.action {
        Action::If(iff) if step.enabled => {
            let taken = if holds(&iff.when, &img, ctx) {
                Branch::Then
            } else {
                Branch::Else
            };
            let mut then = img.clone();
            run_steps(&iff.then, &mut then, ctx)?;
            let mut otherwise = img;
            run_steps(&iff.otherwise, &mut otherwise, ctx)?;
            Ok(Preview::Branches {
                then,
                otherwise,
                taken,
            })
        }
        Action::Channel(c) if step.enabled => Ok(Preview::Single(channel_image(
            c.channel,
            &img,
            ctx.segmenter,
        )?)),
        _ => {
            run_steps(std::slice::from_ref(step), &mut img, ctx)?;
            Ok(Preview::Single(img))
        }
    }
}

fn holds(when: &crate::condition::Condition, img: &Raster, ctx: Context<'_>) -> bool {
    let image = ImageFacts::measure(img);
    let facts = Facts {
        product: ctx.product,
        file: ctx.file,
        image: &image,
    };
    when.eval(&|f| facts.get(f))
}

/// The channel's image: its preset steps on a copy of `img`.
fn channel_image(
    channel: Channel,
    img: &Raster,
    segmenter: Option<&dyn Segmenter>,
) -> Result<Raster> {
    let mut copy = img.clone();
    run_steps(
        &channel.preset_steps(),
        &mut copy,
        Context {
            product: &Product::default(),
            file: &FileFacts::new("preview", 0, None),
            segmenter,
        },
    )?;
    Ok(copy)
}

/// Runs steps as the engine does (IF by its condition, disabled steps skipped), for the picture
/// only.
fn run_steps(steps: &[Step], img: &mut Raster, ctx: Context<'_>) -> Result<()> {
    for s in steps.iter().filter(|s| s.enabled) {
        match &s.action {
            Action::If(iff) => {
                let branch = if holds(&iff.when, img, ctx) {
                    &iff.then
                } else {
                    &iff.otherwise
                };
                run_steps(branch, img, ctx)?;
            }
            // Picture actions exactly as a run does them; exports, copy and the like leave it as it is.
            other => {
                crate::engine::apply_picture(other, img, ctx.segmenter)?;
            }
        }
    }
    Ok(())
}

/// A copy of `img` whose longer side is at most `long_side` (Lanczos3); smaller images are
/// returned as they are. The editor previews on such a proxy so a slider answers at once.
pub fn proxy(img: &Raster, long_side: u32) -> Result<Raster> {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= long_side || long == 0 {
        return Ok(img.clone());
    }
    let s = long_side as f64 / long as f64;
    let pw = ((w as f64 * s).round() as u32).max(1);
    let ph = ((h as f64 * s).round() as u32).max(1);
    ops::resize::resample(img, pw, ph, false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wf(json: &str) -> Workflow {
        crate::validate::parse(json).unwrap()
    }

    /// A grey 40×20 photo with a dark box in the middle.
    fn photo() -> Raster {
        let mut r = Raster::new(40, 20, [200, 200, 200, 255]);
        for y in 5..15 {
            for x in 10..30 {
                r.put(x, y, [30, 40, 120, 255]);
            }
        }
        r
    }

    fn ctx<'a>(product: &'a Product, file: &'a FileFacts) -> Context<'a> {
        Context {
            product,
            file,
            segmenter: None,
        }
    }

    /// Paths print as validation errors write them and parse back.
    #[test]
    fn paths_print_and_parse() {
        let p = ListPath::root()
            .branch(1, Branch::Then)
            .branch(0, Branch::Else)
            .at(2);
        assert_eq!(p.to_string(), "steps[1].then[0].else[2]");
        assert_eq!(StepPath::parse("steps[1].then[0].else[2]"), Some(p));
        assert_eq!(StepPath::parse("steps[3]"), Some(ListPath::root().at(3)));
        assert_eq!(StepPath::parse("steps[1].when"), None);
        assert_eq!(StepPath::parse("name"), None);
    }

    /// The preview stops at the chosen step: a later resize does not show at an earlier step.
    #[test]
    fn preview_stops_at_the_chosen_step() {
        let w = wf(r#"{"schema":1,"name":"x","steps":[
            {"type":"adjust","brightness":0.5},
            {"type":"resize","width":20,"height":10}]}"#);
        let (p, f) = (Product::default(), FileFacts::new("a.jpg", 1, None));
        let Preview::Single(first) =
            preview(&w, &photo(), &ListPath::root().at(0), ctx(&p, &f)).unwrap()
        else {
            panic!("single")
        };
        assert_eq!(first.dimensions(), (40, 20));
        assert!(first.get(0, 0)[0] > 200, "brighter after the first step");
        let Preview::Single(second) =
            preview(&w, &photo(), &ListPath::root().at(1), ctx(&p, &f)).unwrap()
        else {
            panic!("single")
        };
        assert_eq!(second.dimensions(), (20, 10));
    }

    /// An IF step previews both branches on the same photo and says which one this photo takes;
    /// a step inside a branch is reached through that branch even when the condition is false.
    #[test]
    fn if_steps_show_both_branches() {
        let w = wf(r#"{"schema":1,"name":"x","steps":[
            {"type":"if","when":{"field":"product.category","op":"eq","value":"Rings"},
             "then":[{"type":"resize","width":20,"height":10}],
             "else":[{"type":"adjust","saturation":-1}]}]}"#);
        let mut p = Product::default();
        p.set("category", "Rings");
        let f = FileFacts::new("a.jpg", 1, None);
        match preview(&w, &photo(), &ListPath::root().at(0), ctx(&p, &f)).unwrap() {
            Preview::Branches {
                then,
                otherwise,
                taken,
            } => {
                assert_eq!(taken, Branch::Then);
                assert_eq!(then.dimensions(), (20, 10));
                assert_eq!(otherwise.dimensions(), (40, 20));
                let px = otherwise.get(20, 10);
                assert!(
                    px[0] == px[1] && px[1] == px[2],
                    "else made it grey: {px:?}"
                );
            }
            Preview::Single(_) => panic!("expected both branches"),
        }
        let none = Product::default();
        let inside = ListPath::root().branch(0, Branch::Then).at(0);
        let Preview::Single(img) = preview(&w, &photo(), &inside, ctx(&none, &f)).unwrap() else {
            panic!("single")
        };
        assert_eq!(
            img.dimensions(),
            (20, 10),
            "the THEN step ran although the rule is false"
        );
    }

    /// Disabled steps are skipped; a path to nowhere is an error, not a panic.
    #[test]
    fn disabled_steps_and_bad_paths() {
        let w = wf(r#"{"schema":1,"name":"x","steps":[
            {"type":"resize","width":20,"height":10,"enabled":false},
            {"type":"export"}]}"#);
        let (p, f) = (Product::default(), FileFacts::new("a.jpg", 1, None));
        let Preview::Single(img) =
            preview(&w, &photo(), &ListPath::root().at(1), ctx(&p, &f)).unwrap()
        else {
            panic!("single")
        };
        assert_eq!(img.dimensions(), (40, 20));
        assert!(preview(&w, &photo(), &ListPath::root().at(5), ctx(&p, &f)).is_err());
        let bad = ListPath::root().branch(0, Branch::Then).at(0);
        assert!(preview(&w, &photo(), &bad, ctx(&p, &f)).is_err());
    }

    /// Proxies keep the shape and cap the longer side.
    #[test]
    fn proxies_cap_the_long_side() {
        let p = proxy(&Raster::new(3000, 1500, [1, 2, 3, 255]), 1024).unwrap();
        assert_eq!(p.dimensions(), (1024, 512));
        let small = proxy(&Raster::new(300, 200, [1, 2, 3, 255]), 1024).unwrap();
        assert_eq!(small.dimensions(), (300, 200));
    }

    /// Lists inside a step are recognised (so a step cannot be dropped into itself).
    #[test]
    fn lists_know_when_they_are_inside_a_step() {
        let step = ListPath::root().at(2);
        assert!(ListPath::root().branch(2, Branch::Then).is_inside(&step));
        assert!(ListPath::root()
            .branch(2, Branch::Else)
            .branch(0, Branch::Then)
            .is_inside(&step));
        assert!(!ListPath::root().branch(1, Branch::Then).is_inside(&step));
        assert!(!ListPath::root().is_inside(&step));
    }

    /// A model that cuts out the middle box of [`photo`].
    struct BoxModel;

    impl Segmenter for BoxModel {
        fn name(&self) -> &str {
            "box"
        }
        fn segment(&self, img: &Raster) -> Result<Vec<u8>> {
            let (w, h) = img.dimensions();
            Ok((0..w * h)
                .map(|i| {
                    let (x, y) = (i % w, i / w);
                    if (10..30).contains(&x) && (5..15).contains(&y) {
                        255
                    } else {
                        0
                    }
                })
                .collect())
        }
    }

    /// A neural cut-out previews with the host's model, in a plain step and inside a channel;
    /// without a model it says so, as a run does.
    #[test]
    fn neural_cut_outs_preview_with_the_hosts_model() {
        let w = wf(r##"{"schema":1,"name":"x","steps":[
            {"type":"remove_background","method":"neural","feather":0},
            {"type":"background","color":"#FF0000"}]}"##);
        let (p, f) = (Product::default(), FileFacts::new("a.jpg", 1, None));
        let with = Context {
            segmenter: Some(&BoxModel),
            ..ctx(&p, &f)
        };
        let Preview::Single(cut) = preview(&w, &photo(), &ListPath::root().at(0), with).unwrap()
        else {
            panic!("single")
        };
        assert_eq!(cut.get(0, 0)[3], 0, "the backdrop is transparent");
        assert_eq!(cut.get(20, 10)[3], 255, "the box stays");
        let Preview::Single(red) = preview(&w, &photo(), &ListPath::root().at(1), with).unwrap()
        else {
            panic!("single")
        };
        assert_eq!(red.get(0, 0), [255, 0, 0, 255]);
        let err = preview(&w, &photo(), &ListPath::root().at(0), ctx(&p, &f)).unwrap_err();
        assert!(err.to_string().contains("not available"), "{err}");
    }
}
