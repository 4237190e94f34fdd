//! The image actions. Each module holds one action's parameter struct (serde + JSON Schema, with
//! defaults), its `validate` (problems reported per field, before any pixel is touched) and its
//! algorithm, documented on the function that runs it.

pub mod background;
pub mod crop;
pub mod enhance;
pub mod filter;
pub mod glare;
pub mod remove_background;
pub mod resize;
pub mod shadow;
pub mod subject;
pub mod watermark;

/// One thing wrong with a step's parameters: the field and what to change.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Pushes a problem unless `lo <= v <= hi`.
pub fn check_range(problems: &mut Vec<Problem>, field: &str, v: f32, lo: f32, hi: f32) {
    if !v.is_finite() || v < lo || v > hi {
        problems.push(Problem::new(
            field,
            format!("must be between {lo} and {hi} (got {v})"),
        ));
    }
}

/// Parses `#RGB`, `#RRGGBB` or `#RRGGBBAA` (the `#` optional) into RGBA.
pub fn parse_hex_color(s: &str) -> Option<[u8; 4]> {
    let h = s.trim().trim_start_matches('#');
    let hex = |i: usize, n: usize| u8::from_str_radix(h.get(i..i + n)?, 16).ok();
    match h.len() {
        3 => {
            let f = |i| hex(i, 1).map(|v| v * 17);
            Some([f(0)?, f(1)?, f(2)?, 255])
        }
        6 => Some([hex(0, 2)?, hex(2, 2)?, hex(4, 2)?, 255]),
        8 => Some([hex(0, 2)?, hex(2, 2)?, hex(4, 2)?, hex(6, 2)?]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hex_colours() {
        assert_eq!(parse_hex_color("#FFFFFF"), Some([255, 255, 255, 255]));
        assert_eq!(parse_hex_color("f00"), Some([255, 0, 0, 255]));
        assert_eq!(parse_hex_color("#11223380"), Some([0x11, 0x22, 0x33, 0x80]));
        assert_eq!(parse_hex_color("#ggg"), None);
        assert_eq!(parse_hex_color(""), None);
    }
}
