//! `Raster`: the engine's one pixel buffer. RGBA8, straight (non-premultiplied) alpha, row-major,
//! no padding. Everything else (`image`'s buffers, photon-rs's `PhotonImage`) is converted at the edges.

use crate::error::{Error, Result};

/// An RGBA8 image with straight alpha. The alpha channel is also the subject mask: after
/// `remove_background`, 255 is subject and 0 is background.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raster({}×{})", self.width, self.height)
    }
}

impl Raster {
    /// A `width`×`height` image filled with one colour.
    pub fn new(width: u32, height: u32, fill: [u8; 4]) -> Self {
        let n = width as usize * height as usize;
        let mut data = Vec::with_capacity(n * 4);
        for _ in 0..n {
            data.extend_from_slice(&fill);
        }
        Raster {
            width,
            height,
            data,
        }
    }

    /// Wraps raw RGBA8 bytes; fails if the length does not match the size.
    pub fn from_rgba(width: u32, height: u32, data: Vec<u8>) -> Result<Self> {
        if data.len() != width as usize * height as usize * 4 {
            return Err(Error::op(format!(
                "pixel buffer of {} bytes does not match {width}×{height} RGBA",
                data.len()
            )));
        }
        Ok(Raster {
            width,
            height,
            data,
        })
    }

    /// Expands packed RGB8 bytes to opaque RGBA.
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Self> {
        if rgb.len() != width as usize * height as usize * 3 {
            return Err(Error::op("pixel buffer does not match the image size"));
        }
        let mut data = Vec::with_capacity(rgb.len() / 3 * 4);
        for p in rgb.chunks_exact(3) {
            data.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        Ok(Raster {
            width,
            height,
            data,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }
    /// The raw RGBA bytes.
    pub fn as_raw(&self) -> &[u8] {
        &self.data
    }
    pub fn as_raw_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }
    pub fn into_raw(self) -> Vec<u8> {
        self.data
    }

    #[inline]
    fn idx(&self, x: u32, y: u32) -> usize {
        (y as usize * self.width as usize + x as usize) * 4
    }
    /// The pixel at (x, y). Panics if out of bounds (engine-internal coordinates only).
    #[inline]
    pub fn get(&self, x: u32, y: u32) -> [u8; 4] {
        let i = self.idx(x, y);
        [
            self.data[i],
            self.data[i + 1],
            self.data[i + 2],
            self.data[i + 3],
        ]
    }
    #[inline]
    pub fn put(&mut self, x: u32, y: u32, p: [u8; 4]) {
        let i = self.idx(x, y);
        self.data[i..i + 4].copy_from_slice(&p);
    }
    /// Iterator over pixels as `[u8; 4]` chunks.
    pub fn pixels(&self) -> impl Iterator<Item = &[u8]> {
        self.data.chunks_exact(4)
    }
    pub fn pixels_mut(&mut self) -> impl Iterator<Item = &mut [u8]> {
        self.data.chunks_exact_mut(4)
    }

    /// True when any pixel is not fully opaque.
    pub fn has_transparency(&self) -> bool {
        self.data.chunks_exact(4).any(|p| p[3] != 255)
    }

    /// The alpha channel as a one-byte-per-pixel mask.
    pub fn alpha(&self) -> Vec<u8> {
        self.data.chunks_exact(4).map(|p| p[3]).collect()
    }

    /// A copy of the rectangle (x, y, w, h), clipped to the image.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Raster {
        let x = x.min(self.width);
        let y = y.min(self.height);
        let w = w.min(self.width - x);
        let h = h.min(self.height - y);
        let mut out = Vec::with_capacity(w as usize * h as usize * 4);
        for row in y..y + h {
            let start = self.idx(x, row);
            out.extend_from_slice(&self.data[start..start + w as usize * 4]);
        }
        Raster {
            width: w,
            height: h,
            data: out,
        }
    }

    /// Copies `src` onto this image with its top-left corner at (x, y) (may be negative), replacing
    /// pixels (no blending); parts outside are clipped.
    pub fn paste(&mut self, src: &Raster, x: i64, y: i64) {
        for sy in 0..src.height as i64 {
            let dy = y + sy;
            if dy < 0 || dy >= self.height as i64 {
                continue;
            }
            let x0 = x.max(0);
            let x1 = (x + src.width as i64).min(self.width as i64);
            if x1 <= x0 {
                continue;
            }
            let s = src.idx((x0 - x) as u32, sy as u32);
            let d = self.idx(x0 as u32, dy as u32);
            let n = (x1 - x0) as usize * 4;
            self.data[d..d + n].copy_from_slice(&src.data[s..s + n]);
        }
    }

    /// Converts to `image`'s RGBA buffer (copy), for codecs and photon-rs at the edges.
    pub fn to_image(&self) -> image::RgbaImage {
        image::RgbaImage::from_raw(self.width, self.height, self.data.clone())
            .unwrap_or_else(|| image::RgbaImage::new(self.width, self.height))
    }

    /// Takes `image`'s RGBA buffer without copying.
    pub fn from_image(img: image::RgbaImage) -> Self {
        let (width, height) = img.dimensions();
        Raster {
            width,
            height,
            data: img.into_raw(),
        }
    }

    /// Drops the alpha channel into packed RGB8 (alpha is ignored, not composited).
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pixel_count() * 3);
        for p in self.data.chunks_exact(4) {
            out.extend_from_slice(&p[..3]);
        }
        out
    }
}

/// Rec. 709 luma of an sRGB pixel, 0..=255.
#[inline]
pub fn luma(p: &[u8]) -> f32 {
    0.2126 * p[0] as f32 + 0.7152 * p[1] as f32 + 0.0722 * p[2] as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_and_paste_round_trip() {
        let mut img = Raster::new(10, 8, [1, 2, 3, 255]);
        img.put(4, 3, [9, 9, 9, 9]);
        let c = img.crop(3, 2, 4, 4);
        assert_eq!(c.dimensions(), (4, 4));
        assert_eq!(c.get(1, 1), [9, 9, 9, 9]);
        let mut canvas = Raster::new(6, 6, [0; 4]);
        canvas.paste(&c, -1, -1);
        assert_eq!(canvas.get(0, 0), [9, 9, 9, 9]);
    }

    #[test]
    fn crop_is_clipped_to_the_image() {
        let img = Raster::new(5, 5, [0; 4]);
        assert_eq!(img.crop(3, 3, 10, 10).dimensions(), (2, 2));
        assert_eq!(img.crop(9, 9, 10, 10).dimensions(), (0, 0));
    }
}
