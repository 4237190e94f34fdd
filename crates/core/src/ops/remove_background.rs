//! `remove_background`: cuts the subject out and writes its mask into alpha (255 subject, 0
//! backdrop), with a soft, decontaminated edge.

use crate::engine::Segmenter;
use crate::error::{Error, Result};
use crate::ops::subject::{
    box_radii, dist2, gaussian_blur, to_u8, Backdrop, Proxy, PROXY_LONG_SIDE,
};
use crate::ops::{check_range, Problem};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the subject is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// On a plain backdrop (a uniform border), `color_key`: exact on studio shots and many times
    /// faster. Elsewhere, or where the colour key finds no subject, the host's model; without a
    /// model, `color_key`.
    #[default]
    Auto,
    /// Keys out a plain (or smoothly graded) studio backdrop. Works offline, everywhere.
    ColorKey,
    /// The host's neural segmentation model; fails if none is available.
    Neural,
}

/// Parameters of `remove_background`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RemoveBackground {
    pub method: Method,
    /// `color_key`: how far (0–100) a colour may be from the backdrop and still count as
    /// backdrop; 100 is an RGB distance of 128. Raised automatically on noisy backdrops.
    pub tolerance: f32,
    /// Width of the soft edge in px, 0–20 (a Gaussian with σ = feather / 2). 0 = hard edge.
    pub feather: f32,
    /// Keep the soft shadow under the product as semi-transparent black, instead of removing it
    /// with the backdrop (the colour key; the model on a plain backdrop).
    pub keep_shadow: bool,
    /// `color_key`: separate parts smaller than this share of the subject's area (0–0.5) are
    /// dropped as specks.
    pub min_island: f32,
}

impl Default for RemoveBackground {
    fn default() -> Self {
        RemoveBackground {
            method: Method::Auto,
            tolerance: 20.0,
            feather: 1.5,
            keep_shadow: false,
            min_island: 0.005,
        }
    }
}

impl RemoveBackground {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        check_range(&mut p, "tolerance", self.tolerance, 0.0, 100.0);
        check_range(&mut p, "feather", self.feather, 0.0, 20.0);
        check_range(&mut p, "min_island", self.min_island, 0.0, 0.5);
        p
    }
}

const BG: u8 = 0;
const SHADOW: u8 = 1;
const FG: u8 = 2;
const UNSEEN: u8 = 3;

/// Runs `remove_background` in place.
///
/// `neural`: alpha is the host model's mask. `color_key`, for products on a plain backdrop:
/// 1. Decisions are made on an area-averaged proxy (long side ≤ 1024 px).
/// 2. The backdrop is a quadratic colour surface fitted robustly to the border (follows sweeps
///    and vignettes; border cells of a subject touching the edge are rejected as outliers).
/// 3. A flood fill from the border takes a cell as backdrop if it is within the tolerance of the
///    model, or within twice the tolerance where the image is locally flat (drift the model
///    misses), or as *shadow* if it is a darker, same-hue version of the backdrop (I ≈ r·B with
///    0.2 ≤ r ≤ 1) with no step above the tolerance to any neighbour (soft shadows are gradual;
///    a grey product's outline is a step).
/// 4. Enclosed regions matching the backdrop within half the tolerance and larger than 0.1 % of
///    the subject are real holes (a mug's handle); everything else enclosed is subject.
///    Subject parts under `min_island` of the subject area are dropped.
/// 5. Full size: cells away from the edge copy their decision; edge cells get a per-pixel
///    alpha from I = a·F + (1−a)·B with F the nearest interior subject colour and B the nearest
///    backdrop (or shadow) colour,
///    or, where the pixel is not such a mix, a joint-bilateral upsample of the decisions.
///    Edge colours are replaced by F (decontamination, so no backdrop fringe survives),
///    and the edge is feathered by a 3-box blur over the edge tiles only.
///
/// With `keep_shadow`, shadow pixels become black with alpha 1 − r, which reproduces the
/// shadow on any background.
pub fn apply(
    img: &mut Raster,
    p: &RemoveBackground,
    segmenter: Option<&dyn Segmenter>,
) -> Result<()> {
    if img.is_empty() {
        return Err(Error::op("remove_background: the image is empty"));
    }
    match (p.method, segmenter) {
        (Method::Neural, None) => Err(Error::op(
            "remove_background: the neural background-removal model is not available here; \
             use method \"color_key\", which works offline on plain backdrops",
        )),
        (Method::Auto, Some(s)) => {
            if crate::facts::plain_border(img) {
                let mut keyed = img.clone();
                if color_key(&mut keyed, p).is_ok() {
                    *img = keyed;
                    return Ok(());
                }
            }
            neural(img, p, s)
        }
        (Method::Neural, Some(s)) => neural(img, p, s),
        (Method::ColorKey, _) | (Method::Auto, None) => color_key(img, p),
    }
}

fn no_subject(why: &str) -> Error {
    Error::op(format!(
        "no subject found: {why}; check that the product is in the photo, or lower `tolerance`"
    ))
}

fn neural(img: &mut Raster, p: &RemoveBackground, s: &dyn Segmenter) -> Result<()> {
    // Measured on the photo as it came, before alpha and edge colours change.
    let shadow_wanted = p.keep_shadow && crate::facts::plain_border(img);
    let mask = s.segment(img)?;
    if mask.len() != img.pixel_count() {
        return Err(Error::op(format!(
            "remove_background: the model {} returned a mask of the wrong size",
            s.name()
        )));
    }
    if mask.iter().all(|&m| m < 128) {
        return Err(no_subject("the model found no product in the photo"));
    }
    let proxy = Proxy::new(img, PROXY_LONG_SIDE);
    let labels: Vec<u8> = proxy
        .mask_means(&mask, img.width() as usize)
        .iter()
        .map(|&m| if m >= 128.0 { FG } else { BG })
        .collect();
    let edge = Edge::new(&proxy, &labels, p.feather);
    let (w, k) = (img.width() as usize, proxy.k as usize);
    for (i, (px, &a)) in img.pixels_mut().zip(&mask).enumerate() {
        px[3] = a;
        let c = (i / w / k) * proxy.w + (i % w) / k;
        if a > 0 && a < 255 && edge.have[c] {
            px[..3].copy_from_slice(&round3(edge.near[c]));
        }
    }
    let w = img.width() as usize;
    edge.feather(img, |x, y| mask[y * w + x], p.feather);
    if shadow_wanted {
        keep_model_shadow(img, &proxy, &mask, p);
    }
    Ok(())
}

/// `keep_shadow` after the model (which leaves shadows out): on a plain backdrop, the pixels the
/// model calls backdrop that are a darkened backdrop (I ≈ r·B, B the backdrop fitted as the colour
/// key fits it) become black with alpha 1 − r, as the colour key keeps them. A busy backdrop has no
/// such shadow to separate, so there the step keeps the model's cut-out.
fn keep_model_shadow(img: &mut Raster, proxy: &Proxy, mask: &[u8], p: &RemoveBackground) {
    let model = Backdrop::fit(proxy, img.width(), img.height());
    let bcell = model.cells(proxy);
    let thresh = key_threshold(p, &model);
    let t2 = 4.0 * thresh * thresh;
    let (w, k) = (img.width() as usize, proxy.k as usize);
    for (i, px) in img.pixels_mut().enumerate() {
        if mask[i] >= 128 {
            continue;
        }
        let c = (i / w / k) * proxy.w + (i % w) / k;
        let ip = [px[0] as f32, px[1] as f32, px[2] as f32];
        if let Some(r) = shadow_ratio(ip, bcell[c], t2) {
            let sa = shadow_alpha(r);
            if sa > px[3] {
                px.copy_from_slice(&[0, 0, 0, sa]);
            }
        }
    }
}

/// How far (RGB distance) a colour may be from the fitted backdrop and still be backdrop: what the
/// merchant asked for (`tolerance`), raised to 3σ of the border's noise but never more than twice
/// the request.
fn key_threshold(p: &RemoveBackground, model: &Backdrop) -> f32 {
    let user = (p.tolerance / 100.0 * 128.0).max(1.0);
    user.max((3.0 * model.noise).min(2.0 * user))
}

/// A shadow's alpha from its darkening ratio r (I ≈ r·B), with a small dead zone so backdrop
/// noise does not become faint alpha.
fn shadow_alpha(r: f32) -> u8 {
    to_u8(((1.0 - r - 0.03) / 0.97).clamp(0.0, 1.0) * 255.0)
}

fn color_key(img: &mut Raster, p: &RemoveBackground) -> Result<()> {
    let proxy = Proxy::new(img, PROXY_LONG_SIDE);
    let model = Backdrop::fit(&proxy, img.width(), img.height());
    let bcell = model.cells(&proxy);
    let thresh = key_threshold(p, &model);
    let labels = segment(&proxy, &bcell, thresh, p.min_island);
    if !labels.contains(&FG) {
        return Err(no_subject("the whole photo matches the backdrop colour"));
    }
    let edge = Edge::new(&proxy, &labels, p.feather);
    let hard = key_alpha(img, &proxy, &labels, &bcell, &edge, thresh, p.keep_shadow);
    edge.feather(img, |x, y| hard.at(x, y), p.feather);
    Ok(())
}

/// Whether a colour is a shadowed backdrop: I ≈ r·B with 0.2 ≤ r ≤ 1.02.
fn shadow_ratio(i: [f32; 3], b: [f32; 3], t2: f32) -> Option<f32> {
    shadow_ratio_min(i, b, t2, 0.2)
}

/// [`shadow_ratio`] with a floor on how dark the shadow may be.
fn shadow_ratio_min(i: [f32; 3], b: [f32; 3], t2: f32, min_r: f32) -> Option<f32> {
    let bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
    if bb < 1.0 {
        return None;
    }
    let r = (i[0] * b[0] + i[1] * b[1] + i[2] * b[2]) / bb;
    if !(min_r..=1.02).contains(&r) {
        return None;
    }
    (dist2(i, b.map(|v| v * r)) < t2).then_some(r)
}

/// Labels proxy cells BG / SHADOW / FG (steps 3 and 4 of [`apply`]).
/// A soft shadow never outweighs the product that casts it. When the shadow rule claims more
/// cells than it leaves to the product, it has flooded a grey or black product (e.g. through a
/// soft highlight at its edge, common on jewellery and chrome): segment again, accepting only
/// light shadows (at most 25 % darker than the backdrop).
fn segment(proxy: &Proxy, bcell: &[[f32; 3]], thresh: f32, min_island: f32) -> Vec<u8> {
    let labels = segment_with(proxy, bcell, thresh, min_island, 0.2);
    let shadow = labels.iter().filter(|&&l| l == SHADOW).count();
    let fg = labels.iter().filter(|&&l| l == FG).count();
    if shadow > fg {
        return segment_with(proxy, bcell, thresh, min_island, 0.75);
    }
    labels
}

fn segment_with(
    proxy: &Proxy,
    bcell: &[[f32; 3]],
    thresh: f32,
    min_island: f32,
    min_r: f32,
) -> Vec<u8> {
    let (pw, ph) = (proxy.w, proxy.h);
    let n = pw * ph;
    let t2 = thresh * thresh;
    let dmod: Vec<f32> = proxy
        .rgb
        .iter()
        .zip(bcell)
        .map(|(p, b)| dist2(*p, *b))
        .collect();
    let f = Flood {
        min_r,
        rgb: &proxy.rgb,
        bcell,
        dmod: &dmod,
        pw,
        ph,
        t2,
    };
    let mut labels = vec![UNSEEN; n];
    let mut stack = Vec::new();
    for c in 0..n {
        let (x, y) = (c % pw, c / pw);
        if x == 0 || y == 0 || x + 1 == pw || y + 1 == ph {
            let l = if dmod[c] < t2 {
                BG
            } else if f.shadowy(c) {
                SHADOW
            } else {
                continue;
            };
            labels[c] = l;
            stack.push(c);
        }
    }
    f.run(&mut labels, &mut stack, None);

    // The shadow right against the product has a step to the product, so the rule above stops
    // short of it: grow the shadow two cells into shadow-coloured cells by gradual steps.
    let mut grow = Vec::new();
    for _ in 0..2 {
        grow.clear();
        for c in 0..n {
            if labels[c] != UNSEEN {
                continue;
            }
            let from_shadow = f
                .neighbours(c)
                .into_iter()
                .flatten()
                .any(|q| labels[q] == SHADOW && dist2(proxy.rgb[c], proxy.rgb[q]) < t2);
            if from_shadow && f.shadowy(c) {
                grow.push(c);
            }
        }
        for &c in &grow {
            labels[c] = SHADOW;
        }
    }

    // Enclosed backdrop: real holes if large enough and a close match.
    let enclosed = labels.iter().filter(|&&l| l == UNSEEN).count();
    let min_hole = (enclosed as f32 * 0.001).max(4.0) as usize;
    let mut members = Vec::new();
    for c in 0..n {
        if labels[c] != UNSEEN || dmod[c] >= t2 / 4.0 {
            continue;
        }
        labels[c] = BG;
        members.clear();
        members.push(c);
        stack.push(c);
        f.run(&mut labels, &mut stack, Some(&mut members));
        if members.len() < min_hole {
            for &m in &members {
                labels[m] = FG;
            }
        }
    }
    for l in labels.iter_mut() {
        if *l == UNSEEN {
            *l = FG;
        }
    }

    // Stray islands.
    let total = labels.iter().filter(|&&l| l == FG).count();
    let min_size = (total as f32 * min_island).ceil() as usize;
    if min_size > 1 {
        let mut seen = vec![false; n];
        for c in 0..n {
            if labels[c] != FG || seen[c] {
                continue;
            }
            seen[c] = true;
            members.clear();
            members.push(c);
            let mut head = 0;
            while head < members.len() {
                let q = members[head];
                head += 1;
                for nb in neighbours8(q, pw, ph).into_iter().flatten() {
                    if labels[nb] == FG && !seen[nb] {
                        seen[nb] = true;
                        members.push(nb);
                    }
                }
            }
            if members.len() < min_size {
                for &m in &members {
                    labels[m] = BG;
                }
            }
        }
    }
    labels
}

/// The flood fill's acceptance rule over proxy cells (4-connected, so a one-cell outline stops
/// it). The shadow and smoothness tests run only for cells that are not plain backdrop.
struct Flood<'a> {
    /// Darkest accepted shadow, as a fraction of the backdrop.
    min_r: f32,
    rgb: &'a [[f32; 3]],
    bcell: &'a [[f32; 3]],
    dmod: &'a [f32],
    pw: usize,
    ph: usize,
    t2: f32,
}

impl Flood<'_> {
    fn neighbours(&self, c: usize) -> [Option<usize>; 4] {
        let (x, y) = (c % self.pw, c / self.pw);
        [
            (x > 0).then(|| c - 1),
            (x + 1 < self.pw).then(|| c + 1),
            (y > 0).then(|| c - self.pw),
            (y + 1 < self.ph).then(|| c + self.pw),
        ]
    }

    fn shadowy(&self, c: usize) -> bool {
        shadow_ratio_min(self.rgb[c], self.bcell[c], self.t2, self.min_r).is_some()
    }

    /// The largest step to a 4-neighbour: the gradual rules need it small all around, not only
    /// along the path (an anti-aliased outline is a gradual path along the edge).
    fn grad(&self, c: usize) -> f32 {
        self.neighbours(c)
            .into_iter()
            .flatten()
            .map(|q| dist2(self.rgb[c], self.rgb[q]))
            .fold(0.0, f32::max)
    }

    fn accept(&self, q: usize) -> Option<u8> {
        if self.dmod[q] < self.t2 {
            return Some(BG);
        }
        let grad = self.grad(q);
        if grad < self.t2 && self.shadowy(q) {
            return Some(SHADOW);
        }
        if self.dmod[q] < 4.0 * self.t2 && grad < self.t2 / 4.0 {
            return Some(BG);
        }
        None
    }

    fn run(&self, labels: &mut [u8], stack: &mut Vec<usize>, mut members: Option<&mut Vec<usize>>) {
        while let Some(c) = stack.pop() {
            for q in self.neighbours(c).into_iter().flatten() {
                if labels[q] != UNSEEN {
                    continue;
                }
                if let Some(l) = self.accept(q) {
                    labels[q] = l;
                    stack.push(q);
                    if let Some(m) = members.as_deref_mut() {
                        m.push(q);
                    }
                }
            }
        }
    }
}

fn neighbours8(c: usize, pw: usize, ph: usize) -> [Option<usize>; 8] {
    let (x, y) = ((c % pw) as isize, (c / pw) as isize);
    let mut out = [None; 8];
    let mut i = 0;
    for dy in -1isize..=1 {
        for dx in -1isize..=1 {
            if dx == 0 && dy == 0 {
                continue;
            }
            let (nx, ny) = (x + dx, y + dy);
            if nx >= 0 && ny >= 0 && (nx as usize) < pw && (ny as usize) < ph {
                out[i] = Some(ny as usize * pw + nx as usize);
            }
            i += 1;
        }
    }
    out
}

/// Cells whose whole 3×3 neighbourhood (inside the image) is in `m`: a row pass then a
/// column pass.
fn erode(m: &[bool], pw: usize, ph: usize) -> Vec<bool> {
    let mut rows = vec![false; m.len()];
    for (src, dst) in m.chunks_exact(pw).zip(rows.chunks_exact_mut(pw)) {
        for x in 0..pw {
            dst[x] = src[x.saturating_sub(1)] && src[x] && src[(x + 1).min(pw - 1)];
        }
    }
    let mut out = vec![false; m.len()];
    for y in 0..ph {
        let (a, b, c) = (y.saturating_sub(1) * pw, y * pw, (y + 1).min(ph - 1) * pw);
        for x in 0..pw {
            out[b + x] = rows[a + x] && rows[b + x] && rows[c + x];
        }
    }
    out
}

/// The colour of the nearest cells deep inside a region (`deep`: the region eroded by one
/// cell, or the region itself when it is too thin), spread `reach` cells outward by
/// breadth-first layers, each cell taking the mean of its already-coloured neighbours.
fn spread(
    proxy: &Proxy,
    region: &[bool],
    mut deep: Vec<bool>,
    reach: usize,
) -> (Vec<[f32; 3]>, Vec<bool>) {
    let (pw, ph) = (proxy.w, proxy.h);
    if !deep.contains(&true) {
        deep = region.to_vec();
    }
    let inner = erode(&deep, pw, ph);
    let mut dist = vec![u16::MAX; pw * ph];
    let mut col = vec![[0f32; 3]; pw * ph];
    let mut frontier = Vec::new();
    for c in 0..pw * ph {
        if deep[c] {
            dist[c] = 0;
            col[c] = proxy.rgb[c];
            if !inner[c] {
                frontier.push(c);
            }
        }
    }
    let mut next = Vec::new();
    for layer in 1..=reach.min(1000) as u16 {
        next.clear();
        for &c in &frontier {
            for q in neighbours8(c, pw, ph).into_iter().flatten() {
                if dist[q] == u16::MAX {
                    dist[q] = layer;
                    next.push(q);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        for &q in &next {
            let (mut s, mut m) = ([0f32; 3], 0f32);
            for nb in neighbours8(q, pw, ph).into_iter().flatten() {
                if dist[nb] < layer {
                    for (a, b) in s.iter_mut().zip(col[nb]) {
                        *a += b;
                    }
                    m += 1.0;
                }
            }
            col[q] = s.map(|v| v / m.max(1.0));
        }
        std::mem::swap(&mut frontier, &mut next);
    }
    let have = dist.iter().map(|&d| d != u16::MAX).collect();
    (col, have)
}

fn round3(c: [f32; 3]) -> [u8; 3] {
    c.map(to_u8)
}

/// Where the subject's edge runs on the proxy, and the colours on either side of it.
struct Edge {
    k: usize,
    pw: usize,
    /// Cells with a subject / non-subject change in their 3×3 neighbourhood.
    band: Vec<bool>,
    /// Nearest interior subject colour (`have`: known), spread outward a few cells.
    near: Vec<[f32; 3]>,
    have: Vec<bool>,
    /// Nearest interior backdrop (or shadow) colour, spread inward a few cells.
    back: Vec<[f32; 3]>,
    have_back: Vec<bool>,
}

impl Edge {
    fn new(proxy: &Proxy, labels: &[u8], feather: f32) -> Edge {
        let (pw, ph, k) = (proxy.w, proxy.h, proxy.k as usize);
        let fg: Vec<bool> = labels.iter().map(|&l| l == FG).collect();
        let bg: Vec<bool> = fg.iter().map(|&f| !f).collect();
        let (deep_fg, deep_bg) = (erode(&fg, pw, ph), erode(&bg, pw, ph));
        let band = deep_fg
            .iter()
            .zip(&deep_bg)
            .map(|(a, b)| !(a | b))
            .collect();
        // Far enough to cover the edge cells plus the feather's reach.
        let reach = 2 + (1.5 * feather / k as f32).ceil() as usize;
        let (near, have) = spread(proxy, &fg, deep_fg, reach);
        let (back, have_back) = spread(proxy, &bg, deep_bg, reach);
        Edge {
            k,
            pw,
            band,
            near,
            have,
            back,
            have_back,
        }
    }

    #[inline]
    fn cell(&self, x: usize, y: usize) -> usize {
        (y / self.k) * self.pw + x / self.k
    }

    /// Blurs alpha over the tiles that touch an edge cell; `hard` is the alpha before feathering.
    /// Pixels that the feather makes partly transparent get the subject colour (edge pixels
    /// that were judged opaque may still hold some backdrop).
    fn feather(&self, img: &mut Raster, hard: impl Fn(usize, usize) -> u8, feather: f32) {
        let sigma = feather / 2.0;
        let reach: usize = box_radii(sigma).iter().sum();
        if reach == 0 {
            return;
        }
        let (w, h) = (img.width() as usize, img.height() as usize);
        const T: usize = 64;
        let (tw, th) = (w.div_ceil(T), h.div_ceil(T));
        let mut tiles = vec![false; tw * th];
        let ph = self.band.len() / self.pw.max(1);
        for cy in 0..ph {
            for cx in 0..self.pw {
                if !self.band[cy * self.pw + cx] {
                    continue;
                }
                let (x0, y0) = (
                    (cx * self.k).saturating_sub(reach),
                    (cy * self.k).saturating_sub(reach),
                );
                let x1 = ((cx + 1) * self.k + reach).min(w) - 1;
                let y1 = ((cy + 1) * self.k + reach).min(h) - 1;
                for ty in y0 / T..=y1 / T {
                    for tx in x0 / T..=x1 / T {
                        tiles[ty * tw + tx] = true;
                    }
                }
            }
        }
        let (mut buf, mut tmp) = (Vec::new(), Vec::new());
        let m = reach + 1;
        let raw = img.as_raw_mut();
        for ty in 0..th {
            for tx in 0..tw {
                if !tiles[ty * tw + tx] {
                    continue;
                }
                let (x0, y0) = (tx * T, ty * T);
                let (x1, y1) = ((x0 + T).min(w), (y0 + T).min(h));
                let (rx0, ry0) = (x0.saturating_sub(m), y0.saturating_sub(m));
                let (rx1, ry1) = ((x1 + m).min(w), (y1 + m).min(h));
                let rw = rx1 - rx0;
                buf.clear();
                for y in ry0..ry1 {
                    buf.extend((rx0..rx1).map(|x| hard(x, y) as f32));
                }
                gaussian_blur(&mut buf, rw, ry1 - ry0, sigma, &mut tmp);
                for y in y0..y1 {
                    for x in x0..x1 {
                        let a = to_u8(buf[(y - ry0) * rw + (x - rx0)]);
                        let i = y * w + x;
                        let px = &mut raw[i * 4..i * 4 + 4];
                        px[3] = a;
                        let c = self.cell(x, y);
                        if a > 0 && a < 255 && self.have[c] && (self.band[c] || hard(x, y) == 0) {
                            px[..3].copy_from_slice(&round3(self.near[c]));
                        }
                    }
                }
            }
        }
    }
}

/// The alpha before feathering, stored per pixel only for the cells that needed per-pixel work
/// (the edge); elsewhere it is the cell's decision. Saves a full-frame buffer.
struct Hard {
    k: usize,
    pw: usize,
    /// Start of each cell's k×k block in `data`, or `u32::MAX`.
    offs: Vec<u32>,
    data: Vec<u8>,
    cell: Vec<u8>,
}

impl Hard {
    #[inline]
    fn at(&self, x: usize, y: usize) -> u8 {
        let c = (y / self.k) * self.pw + x / self.k;
        match self.offs[c] {
            u32::MAX => self.cell[c],
            o => self.data[o as usize + (y % self.k) * self.k + x % self.k],
        }
    }
}

/// Full-size alpha of the colour key (step 5 of [`apply`]); writes alpha and decontaminated
/// edge colours into `img` and returns the alpha before feathering.
fn key_alpha(
    img: &mut Raster,
    proxy: &Proxy,
    labels: &[u8],
    bcell: &[[f32; 3]],
    edge: &Edge,
    thresh: f32,
    keep_shadow: bool,
) -> Hard {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (pw, ph, k) = (proxy.w, proxy.h, proxy.k as usize);
    let t2 = thresh * thresh;
    let shadowish: Vec<bool> = if keep_shadow {
        (0..pw * ph)
            .map(|c| {
                labels[c] == SHADOW
                    || neighbours8(c, pw, ph)
                        .iter()
                        .flatten()
                        .any(|&q| labels[q] == SHADOW)
            })
            .collect()
    } else {
        Vec::new()
    };
    // Joint-bilateral weights: spatial (σ 0.6 cells) per offset inside a cell, range by LUT.
    let spatial: Vec<[f32; 3]> = (0..k)
        .map(|o| {
            let pos = (o as f32 + 0.5) / k as f32;
            [-1.0f32, 0.0, 1.0].map(|d| {
                let dd = d + 0.5 - pos;
                (-dd * dd / (2.0 * 0.36)).exp()
            })
        })
        .collect();
    let sr2 = 2.0 * (0.5 * thresh).max(6.0).powi(2);
    const LUT: usize = 1024;
    let lut_scale = LUT as f32 / (5.0 * sr2);
    let lut: Vec<f32> = (0..LUT)
        .map(|i| (-(i as f32 / lut_scale) / sr2).exp() + 1e-3)
        .collect();

    let mut hard_px = Hard {
        k,
        pw,
        offs: vec![u32::MAX; pw * ph],
        data: Vec::new(),
        cell: labels
            .iter()
            .map(|&l| if l == FG { 255 } else { 0 })
            .collect(),
    };
    let per_pixel = |c: usize| edge.band[c] || (keep_shadow && shadowish[c]);
    let mut n_px = 0usize;
    for (c, off) in hard_px.offs.iter_mut().enumerate() {
        if per_pixel(c) {
            *off = n_px as u32;
            n_px += k * k;
        }
    }
    hard_px.data = vec![0u8; n_px];
    let raw = img.as_raw_mut();
    for y in 0..h {
        let cy = y / k;
        let wy = &spatial[y % k];
        for cx in 0..pw {
            let c = cy * pw + cx;
            let (xs, xe) = (cx * k, ((cx + 1) * k).min(w));
            let hard = if labels[c] == FG { 255u8 } else { 0 };
            if !per_pixel(c) {
                // Away from the edge: the cell's decision, no per-pixel work.
                for px in raw[(y * w + xs) * 4..(y * w + xe) * 4].chunks_exact_mut(4) {
                    px[3] = hard;
                }
                continue;
            }
            for x in xs..xe {
                let i = y * w + x;
                let px = &mut raw[i * 4..i * 4 + 4];
                let mut a = hard;
                if edge.band[c] {
                    let ip = [px[0] as f32, px[1] as f32, px[2] as f32];
                    // The local backdrop: a shadow's own colour where there is one.
                    let b = if edge.have_back[c] {
                        edge.back[c]
                    } else {
                        bcell[c]
                    };
                    let mut mix = None;
                    if edge.have[c] {
                        let f = edge.near[c];
                        let fb = [f[0] - b[0], f[1] - b[1], f[2] - b[2]];
                        let n2 = fb[0] * fb[0] + fb[1] * fb[1] + fb[2] * fb[2];
                        if n2 >= 4.0 * t2 {
                            let ib = [ip[0] - b[0], ip[1] - b[1], ip[2] - b[2]];
                            let t = (ib[0] * fb[0] + ib[1] * fb[1] + ib[2] * fb[2]) / n2;
                            let resid = dist2(ib, fb.map(|v| v * t));
                            if resid < 2.25 * t2 {
                                mix = Some(t.clamp(0.0, 1.0));
                            }
                        }
                    }
                    let alpha = mix.unwrap_or_else(|| {
                        let wx = &spatial[x % k];
                        let (mut sw, mut sf) = (0f32, 0f32);
                        for (j, dy) in (-1isize..=1).enumerate() {
                            let qy = cy as isize + dy;
                            if qy < 0 || qy >= ph as isize {
                                continue;
                            }
                            for (l, dx) in (-1isize..=1).enumerate() {
                                let qx = cx as isize + dx;
                                if qx < 0 || qx >= pw as isize {
                                    continue;
                                }
                                let q = qy as usize * pw + qx as usize;
                                let d2 = dist2(ip, proxy.rgb[q]);
                                let wr = lut[((d2 * lut_scale) as usize).min(LUT - 1)];
                                let wt = wy[j] * wx[l] * wr;
                                sw += wt;
                                if labels[q] == FG {
                                    sf += wt;
                                }
                            }
                        }
                        sf / sw.max(1e-12)
                    });
                    a = to_u8(alpha * 255.0);
                    if a > 0 && a < 255 && edge.have[c] {
                        px[..3].copy_from_slice(&round3(edge.near[c]));
                    }
                }
                if keep_shadow && shadowish[c] {
                    let ip = [px[0] as f32, px[1] as f32, px[2] as f32];
                    if let Some(r) = shadow_ratio(ip, bcell[c], 4.0 * t2) {
                        let sa = shadow_alpha(r);
                        if sa > a {
                            a = sa;
                            px[..3].copy_from_slice(&[0, 0, 0]);
                        }
                    }
                }
                px[3] = a;
                hard_px.data[hard_px.offs[c] as usize + (y % k) * k + (x - xs)] = a;
            }
        }
    }
    hard_px
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::subject::testutil::{self, Backdrop as Bd, Scene, Shape, Spec};

    fn key(scene: &Scene, p: &RemoveBackground) -> Raster {
        let mut img = scene.img.clone();
        apply(
            &mut img,
            &RemoveBackground {
                method: Method::ColorKey,
                ..p.clone()
            },
            None,
        )
        .unwrap();
        img
    }

    /// Share of shadow-only pixels (shadow > 0.2, no object) that ended up in the mask.
    fn shadow_kept(scene: &Scene, alpha: &[u8]) -> f32 {
        let (mut n, mut kept) = (0usize, 0usize);
        for ((&s, &m), &a) in scene.shadow.iter().zip(&scene.mask).zip(alpha) {
            if s > 0.2 && m == 0 {
                n += 1;
                kept += (a >= 128) as usize;
            }
        }
        assert!(n > 100, "the scene has a visible shadow");
        kept as f32 / n as f32
    }

    /// A red product with a soft shadow on a plain light backdrop: mask IoU ≥ 0.95, shadow out.
    #[test]
    fn plain_backdrop_with_shadow() {
        let scene = testutil::render(&Spec::default());
        let img = key(&scene, &RemoveBackground::default());
        let alpha = img.alpha();
        let iou = scene.iou(&alpha);
        assert!(iou >= 0.95, "IoU {iou}");
        assert!(shadow_kept(&scene, &alpha) < 0.02);
        // Corners are backdrop.
        assert_eq!(img.get(0, 0)[3], 0);
        assert_eq!(img.get(479, 359)[3], 0);
    }

    /// A sweep from light to mid grey with noise: IoU ≥ 0.9 and the shadow is still removed.
    #[test]
    fn gradient_backdrop() {
        let scene = testutil::render(&Spec {
            backdrop: Bd::Vertical([236, 236, 240], [150, 154, 168]),
            noise: 4.0,
            ..Default::default()
        });
        let alpha = key(&scene, &RemoveBackground::default()).alpha();
        let iou = scene.iou(&alpha);
        assert!(iou >= 0.9, "IoU {iou}");
        assert!(shadow_kept(&scene, &alpha) < 0.05);
    }

    /// A mug whose handle encloses backdrop: the hole is transparent, the mug is not.
    #[test]
    fn handle_hole_stays_transparent() {
        let scene = testutil::render(&Spec {
            shape: Shape::Mug {
                x0: 0.25,
                y0: 0.25,
                x1: 0.6,
                y1: 0.75,
            },
            color: [40, 70, 160],
            ..Default::default()
        });
        let img = key(&scene, &RemoveBackground::default());
        let (hx, hy) = scene.hole.unwrap();
        assert_eq!(
            scene.mask[(hy * 480 + hx) as usize],
            0,
            "test point is in the hole"
        );
        assert_eq!(img.get(hx, hy)[3], 0);
        assert_eq!(img.get(200, 180)[3], 255);
        assert!(scene.iou(&img.alpha()) >= 0.95);
    }

    /// A product that is nearly white would be cut as a hole if it matched the backdrop; a light
    /// grey one that differs by more than the tolerance is kept whole (no holes, no islands).
    #[test]
    fn light_product_is_kept() {
        let scene = testutil::render(&Spec {
            color: [190, 190, 196],
            shadow: 0.0,
            ..Default::default()
        });
        let alpha = key(&scene, &RemoveBackground::default()).alpha();
        let iou = scene.iou(&alpha);
        assert!(iou >= 0.95, "IoU {iou}");
    }

    /// Edge pixels are soft (feathered) and carry the product's colour, not the backdrop's.
    #[test]
    fn edges_are_soft_and_decontaminated() {
        let scene = testutil::render(&Spec {
            backdrop: Bd::Plain([60, 200, 70]),
            shadow: 0.0,
            ..Default::default()
        });
        let img = key(&scene, &RemoveBackground::default());
        let mut partial = 0;
        for px in img.pixels() {
            if px[3] > 0 && px[3] < 255 {
                partial += 1;
                // Red product on a green screen: no green may survive on the edge.
                assert!(px[1] < 90, "contaminated edge pixel {px:?}");
            }
        }
        assert!(partial > 300, "only {partial} soft edge pixels");
    }

    /// The shadow can be kept, as semi-transparent black.
    #[test]
    fn keep_shadow_makes_it_translucent_black() {
        let scene = testutil::render(&Spec::default());
        let img = key(
            &scene,
            &RemoveBackground {
                keep_shadow: true,
                ..Default::default()
            },
        );
        kept_shadow_pixel(&scene, &img);
    }

    /// Opaque random colours: a photo with no backdrop at all.
    fn noise(w: u32, h: u32, mut seed: u32) -> Raster {
        let data = (0..w * h * 4)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if i % 4 == 3 {
                    255
                } else {
                    (seed >> 24) as u8
                }
            })
            .collect();
        Raster::from_rgba(w, h, data).unwrap()
    }

    /// Asserts that a pixel deep in the scene's shadow, off the product, is translucent black in
    /// `img`, and returns its index.
    fn kept_shadow_pixel(scene: &Scene, img: &Raster) -> usize {
        let i = scene
            .shadow
            .iter()
            .zip(&scene.mask)
            .position(|(&s, &m)| s > 0.8 && m == 0)
            .unwrap();
        let px = img.pixels().nth(i).unwrap();
        assert!(px[3] > 60 && px[3] < 200, "{px:?}");
        assert_eq!(&px[..3], &[0, 0, 0]);
        i
    }

    /// A photo larger than the proxy gets the same quality through the upsampling path.
    #[test]
    fn large_photo_uses_the_proxy() {
        let scene = testutil::render(&Spec {
            width: 2400,
            height: 1800,
            ..Default::default()
        });
        let alpha = key(&scene, &RemoveBackground::default()).alpha();
        let iou = scene.iou(&alpha);
        assert!(iou >= 0.97, "IoU {iou}");
        assert!(shadow_kept(&scene, &alpha) < 0.02);
    }

    /// An empty backdrop fails with a clear message; a busy photo does not crash.
    #[test]
    fn no_subject_and_busy_border() {
        let mut img = Raster::new(64, 48, [240, 240, 240, 255]);
        let e = apply(&mut img, &RemoveBackground::default(), None).unwrap_err();
        assert!(e.to_string().starts_with("no subject found"), "{e}");

        let mut busy = noise(200, 150, 7);
        let _ = apply(&mut busy, &RemoveBackground::default(), None);
    }

    struct Fake(Vec<u8>);
    impl Segmenter for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn segment(&self, _: &Raster) -> Result<Vec<u8>> {
            Ok(self.0.clone())
        }
    }

    /// With the model, `keep_shadow` keeps the shadow on a plain backdrop as translucent black, and
    /// without it the shadow goes; on a busy backdrop it changes nothing.
    #[test]
    fn neural_keeps_the_shadow_when_asked() {
        let scene = testutil::render(&Spec::default());
        let fake = Fake(scene.mask.clone());
        let run = |keep_shadow| {
            let mut img = scene.img.clone();
            let p = RemoveBackground {
                method: Method::Neural,
                keep_shadow,
                ..Default::default()
            };
            apply(&mut img, &p, Some(&fake)).unwrap();
            img
        };
        let kept = run(true);
        let gone = run(false);
        let i = kept_shadow_pixel(&scene, &kept);
        assert_eq!(gone.pixels().nth(i).unwrap()[3], 0);
        assert!(shadow_kept(&scene, &gone.alpha()) < 0.02);
        // The product itself is the model's, untouched; the far backdrop stays clear.
        let (ka, ga) = (kept.alpha(), gone.alpha());
        assert!(scene
            .mask
            .iter()
            .enumerate()
            .all(|(i, &m)| m < 255 || ka[i] == ga[i]));
        assert_eq!(kept.get(0, 0)[3], 0);

        let photo = noise(96, 64, 11);
        let half: Vec<u8> = (0..96 * 64)
            .map(|i| if i % 96 < 48 { 255 } else { 0 })
            .collect();
        let (mut a, mut b) = (photo.clone(), photo);
        let p = |keep_shadow| RemoveBackground {
            method: Method::Neural,
            keep_shadow,
            ..Default::default()
        };
        apply(&mut a, &p(true), Some(&Fake(half.clone()))).unwrap();
        apply(&mut b, &p(false), Some(&Fake(half))).unwrap();
        assert_eq!(a.as_raw(), b.as_raw());
    }

    /// `neural` uses the host's model; without one it says what to do.
    #[test]
    fn neural_method() {
        let scene = testutil::render(&Spec::default());
        let mut img = scene.img.clone();
        let fake = Fake(scene.mask.clone());
        let p = RemoveBackground {
            method: Method::Neural,
            feather: 0.0,
            ..Default::default()
        };
        apply(&mut img, &p, Some(&fake)).unwrap();
        assert_eq!(img.alpha(), scene.mask);

        let p = RemoveBackground {
            method: Method::Neural,
            ..Default::default()
        };
        let e = apply(&mut scene.img.clone(), &p, None).unwrap_err();
        assert!(e.to_string().contains("color_key"), "{e}");
        let e = apply(&mut scene.img.clone(), &p, Some(&Fake(vec![0; 3]))).unwrap_err();
        assert!(e.to_string().contains("wrong size"), "{e}");
    }

    /// A model that notes whether it was asked.
    struct Asked(Vec<u8>, std::sync::atomic::AtomicBool);
    impl Segmenter for Asked {
        fn name(&self) -> &str {
            "asked"
        }
        fn segment(&self, _: &Raster) -> Result<Vec<u8>> {
            self.1.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok(self.0.clone())
        }
    }

    /// `auto`: on a plain backdrop the colour key (the model is not even asked); on a busy one,
    /// the model; with no model at all, the colour key.
    #[test]
    fn auto_keys_studio_shots_and_asks_the_model_elsewhere() {
        let plain = testutil::render(&Spec::default());
        let model = Asked(plain.mask.clone(), Default::default());
        let mut img = plain.img.clone();
        apply(&mut img, &RemoveBackground::default(), Some(&model)).unwrap();
        assert!(
            !model.1.into_inner(),
            "the model was asked about a studio shot"
        );
        assert!(plain.iou(&img.alpha()) > 0.95);

        let busy = testutil::render(&Spec {
            backdrop: Bd::Vertical([10, 10, 10], [250, 250, 250]),
            ..Default::default()
        });
        assert!(!crate::facts::plain_border(&busy.img));
        let model = Asked(busy.mask.clone(), Default::default());
        let mut img = busy.img.clone();
        let p = RemoveBackground {
            feather: 0.0,
            ..Default::default()
        };
        apply(&mut img, &p, Some(&model)).unwrap();
        assert!(
            model.1.into_inner(),
            "the model was not asked about a busy photo"
        );
        assert_eq!(img.alpha(), busy.mask);

        let mut img = plain.img.clone();
        apply(&mut img, &RemoveBackground::default(), None).unwrap();
        assert!(plain.iou(&img.alpha()) > 0.95);
    }

    #[test]
    fn validation() {
        assert!(RemoveBackground::default().validate().is_empty());
        let p = RemoveBackground {
            tolerance: 150.0,
            feather: -1.0,
            ..Default::default()
        };
        assert_eq!(p.validate().len(), 2);
        let json: RemoveBackground =
            serde_json::from_str(r#"{"method":"color_key","keep_shadow":true}"#).unwrap();
        assert_eq!(json.method, Method::ColorKey);
        assert!(json.keep_shadow);
    }

    /// Timing on a 12 MP scene (run with `--release -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing_12mp() {
        let scene = testutil::render(&Spec {
            width: 4000,
            height: 3000,
            ..Default::default()
        });
        let mut img = scene.img.clone();
        let runs = std::env::var("TIMING_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3);
        for _ in 0..runs {
            img.as_raw_mut().copy_from_slice(scene.img.as_raw());
            // CPU time of this thread, so that other work on the machine does not count.
            let cpu = || {
                std::fs::read_to_string("/proc/thread-self/schedstat")
                    .ok()
                    .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let (t, c) = (crate::time::Instant::now(), cpu());
            apply(&mut img, &RemoveBackground::default(), None).unwrap();
            eprintln!(
                "color_key 12 MP: {:?} wall, {} ms CPU",
                t.elapsed(),
                (cpu() - c) / 1_000_000
            );
        }
        eprintln!("IoU {}", scene.iou(&img.alpha()));
    }
}
