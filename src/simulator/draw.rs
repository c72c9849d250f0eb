//! Real, small media for the simulator: PNG portraits and scenes whose look follows a seed
//! (same avatar → same face and colours), and WAV speech stand-ins.

use std::hash::{Hash, Hasher};

const SEED_KEYWORD: &str = "a2e-sim-seed";

/// The figure seed noted in a PNG drawn here, if it is one.
pub fn seed_in_png(bytes: &[u8]) -> Option<u64> {
    let mut rest = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n".as_slice())?;
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        let (kind, data) = (&rest[4..8], rest.get(8..8 + len)?);
        if kind == b"tEXt" {
            if let Some(value) = data
                .strip_prefix(SEED_KEYWORD.as_bytes())
                .and_then(|d| d.strip_prefix(b"\0"))
            {
                return std::str::from_utf8(value).ok()?.parse().ok();
            }
        }
        rest = rest.get(12 + len..)?;
    }
    None
}

pub fn seed_of(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

#[derive(Clone, Copy)]
struct Palette {
    skin: [u8; 3],
    hair: [u8; 3],
    shirt: [u8; 3],
    eyes: [u8; 3],
}

fn channel(seed: u64, shift: u32, lo: u8) -> u8 {
    lo.saturating_add(((seed >> shift) & 0xff) as u8 % (255 - lo))
}

fn palette(seed: u64) -> Palette {
    let skins = [
        [241, 194, 167],
        [224, 172, 105],
        [198, 134, 66],
        [141, 85, 36],
        [255, 219, 172],
    ];
    Palette {
        skin: skins[(seed % skins.len() as u64) as usize],
        hair: [
            channel(seed, 8, 10) / 2,
            channel(seed, 16, 10) / 2,
            channel(seed, 24, 10) / 2,
        ],
        shirt: [
            channel(seed, 32, 40),
            channel(seed, 40, 40),
            channel(seed, 48, 40),
        ],
        eyes: [
            channel(seed, 52, 0) / 3,
            channel(seed, 56, 0) / 2,
            channel(seed, 60, 60),
        ],
    }
}

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize, top: [u8; 3], bottom: [u8; 3]) -> Self {
        let mut px = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            let t = y as f32 / h as f32;
            let mix = |a: u8, b: u8| (a as f32 * (1.0 - t) + b as f32 * t) as u8;
            for _ in 0..w {
                px.extend_from_slice(&[
                    mix(top[0], bottom[0]),
                    mix(top[1], bottom[1]),
                    mix(top[2], bottom[2]),
                ]);
            }
        }
        Self { w, h, px }
    }

    fn fill(&mut self, inside: impl Fn(f32, f32) -> bool, color: [u8; 3]) {
        for y in 0..self.h {
            for x in 0..self.w {
                if inside(x as f32, y as f32) {
                    let i = (y * self.w + x) * 3;
                    self.px[i..i + 3].copy_from_slice(&color);
                }
            }
        }
    }

    /// A person: hair, head, eyes, mouth and shirt, centred at `cx`, scaled by `s`.
    fn figure(&mut self, cx: f32, base: f32, s: f32, p: Palette, seed: u64) {
        let head_y = base - 150.0 * s;
        let r = 38.0 * s;
        let hair_h = r * (0.6 + ((seed >> 5) % 5) as f32 / 10.0);
        self.fill(
            |x, y| {
                y > base - 80.0 * s
                    && y < base
                    && (x - cx).abs() < 55.0 * s + (y - (base - 80.0 * s)) * 0.3
            },
            p.shirt,
        );
        self.fill(
            |x, y| (x - cx).abs() < 12.0 * s && y > head_y + r * 0.8 && y < base - 78.0 * s,
            p.skin,
        );
        self.fill(
            |x, y| {
                (x - cx).powi(2) + (y - head_y + 6.0 * s).powi(2) < (r + 6.0 * s).powi(2)
                    && y < head_y - r + hair_h + 6.0 * s
            },
            p.hair,
        );
        self.fill(
            |x, y| (x - cx).powi(2) + (y - head_y).powi(2) < r * r && y > head_y - r + hair_h * 0.7,
            p.skin,
        );
        for side in [-1.0, 1.0] {
            let ex = cx + side * 14.0 * s;
            self.fill(
                |x, y| (x - ex).powi(2) + (y - head_y).powi(2) < (5.0 * s).powi(2),
                p.eyes,
            );
        }
        self.fill(
            |x, y| (x - cx).abs() < 12.0 * s && (y - head_y - 17.0 * s).abs() < 2.5 * s,
            [150, 40, 50],
        );
    }

    /// Encodes the picture, noting the main figure's seed in a text chunk: an avatar trained
    /// from this picture later reads it back and keeps the same face.
    fn png(&self, figure_seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.w as u32, self.h as u32);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let _ = encoder.add_text_chunk(SEED_KEYWORD.into(), figure_seed.to_string());
            let mut writer = encoder.write_header().expect("in-memory PNG header");
            writer
                .write_image_data(&self.px)
                .expect("in-memory PNG data");
        }
        out
    }
}

fn background(seed: u64) -> ([u8; 3], [u8; 3]) {
    let top = [
        channel(seed, 3, 120),
        channel(seed, 11, 120),
        channel(seed, 19, 120),
    ];
    let bottom = [
        channel(seed, 27, 30) / 2,
        channel(seed, 35, 30) / 2,
        channel(seed, 43, 30) / 2,
    ];
    (top, bottom)
}

/// One person on a background: a text-to-image portrait or an avatar's preview.
pub fn portrait(figure_seed: u64, scene_seed: u64) -> Vec<u8> {
    let (top, bottom) = background(scene_seed);
    let mut canvas = Canvas::new(240, 300, top, bottom);
    canvas.figure(120.0, 300.0, 1.2, palette(figure_seed), figure_seed);
    canvas.png(figure_seed)
}

/// Several people side by side in one scene, each drawn from their own seed.
pub fn scene(figure_seeds: &[u64], scene_seed: u64, wide: bool) -> Vec<u8> {
    let (w, h) = if wide { (400, 240) } else { (300, 300) };
    let (top, bottom) = background(scene_seed);
    let mut canvas = Canvas::new(w, h, top, bottom);
    let n = figure_seeds.len().max(1);
    let scale = (1.0 / n as f32).clamp(0.45, 1.0);
    for (i, seed) in figure_seeds.iter().enumerate() {
        let cx = w as f32 * (i as f32 + 0.5) / n as f32;
        canvas.figure(cx, h as f32, scale * 1.1, palette(*seed), *seed);
    }
    canvas.png(figure_seeds.first().copied().unwrap_or(scene_seed))
}

/// Raw RGB frames of figures moving in a scene (fighting, dancing, talking: they sway and bob).
pub fn animation_frames(
    figure_seeds: &[u64],
    scene_seed: u64,
    frames: usize,
) -> (usize, usize, Vec<Vec<u8>>) {
    let (w, h) = (240, 160);
    let (top, bottom) = background(scene_seed);
    let n = figure_seeds.len().max(1);
    let scale = (0.9 / n as f32).clamp(0.4, 0.75);
    let rendered = (0..frames)
        .map(|f| {
            let phase = f as f32 / frames as f32 * std::f32::consts::TAU;
            let mut canvas = Canvas::new(w, h, top, bottom);
            for (i, seed) in figure_seeds.iter().enumerate() {
                let direction = if i % 2 == 0 { 1.0 } else { -1.0 };
                let cx = w as f32 * (i as f32 + 0.5) / n as f32 + direction * 14.0 * phase.sin();
                let base = h as f32 + 4.0 * (phase * 2.0).cos();
                canvas.figure(cx, base, scale, palette(*seed), *seed);
            }
            canvas.px
        })
        .collect();
    (w, h, rendered)
}

/// A short tone as 16-bit mono WAV, pitched by the seed: a stand-in for speech.
pub fn speech_wav(seed: u64, seconds: f32) -> Vec<u8> {
    let rate = 16_000u32;
    let samples = (rate as f32 * seconds) as u32;
    let freq = 180.0 + (seed % 200) as f32;
    let mut out = Vec::with_capacity(44 + samples as usize * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let t = i as f32 / rate as f32;
        let envelope = (t * 6.0 * std::f32::consts::PI).sin().abs();
        let v = (t * freq * 2.0 * std::f32::consts::PI).sin() * envelope * 12_000.0;
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_follow_their_seeds() {
        let a = portrait(1, 10);
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(a, portrait(1, 10), "same seed, same picture");
        assert_ne!(a, portrait(2, 10), "another face");
        assert_eq!(
            seed_in_png(&a),
            Some(1),
            "the face's seed travels with the picture"
        );
        assert_eq!(seed_in_png(b"not a png"), None);
        assert_ne!(scene(&[1, 2], 5, true), scene(&[1, 3], 5, true));
        let wav = speech_wav(3, 0.5);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(wav.len(), 44 + 16_000);
    }
}
