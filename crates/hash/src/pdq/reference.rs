//! A literal port of the reference pipeline, written for clarity, not speed.
//!
//! This is the oracle the fast path is property-tested against: same
//! buffers, same loops, same order of f32 operations as `pdqhashing.cpp` and
//! `downscaling.cpp`. Nothing in production calls it.

use super::core::{self, MIN_HASHABLE_DIM, jarosz_window};

/// RGB → f32 luma, `((R·0.299) + (G·0.587)) + (B·0.114)` in f32.
pub fn luma_from_rgb(rgb: &[u8], width: usize, height: usize) -> Vec<f32> {
    rgb.chunks_exact(3)
        .take(width * height)
        .map(|p| {
            f32::from(p[0]) * 0.299f32 + f32::from(p[1]) * 0.587f32 + f32::from(p[2]) * 0.114f32
        })
        .collect()
}

/// RGB → luma in f64, rounded once to f32 (pdqhash-python's numpy luma).
pub fn luma_from_rgb_f64(rgb: &[u8], width: usize, height: usize) -> Vec<f32> {
    rgb.chunks_exact(3)
        .take(width * height)
        .map(|p| {
            (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32
        })
        .collect()
}

/// `box1DFloat`: a running-sum mean over a clipped window, in the
/// reference's four phases and order of rounding.
fn box1d(input: &[f32], out: &mut [f32], start: usize, n: usize, stride: usize, w: usize) {
    let half = (w + 2) / 2;
    let (p1, p2, p3, p4) = (half - 1, w - half + 1, n - w, half - 1);
    let (mut li, mut ri, mut oi) = (start, start, start);
    let mut sum = 0f32;
    let mut cur = 0usize;
    for _ in 0..p1 {
        sum += input[ri];
        cur += 1;
        ri += stride;
    }
    for _ in 0..p2 {
        sum += input[ri];
        cur += 1;
        out[oi] = sum / cur as f32;
        ri += stride;
        oi += stride;
    }
    for _ in 0..p3 {
        sum += input[ri];
        sum -= input[li];
        out[oi] = sum / cur as f32;
        li += stride;
        ri += stride;
        oi += stride;
    }
    for _ in 0..p4 {
        sum -= input[li];
        cur -= 1;
        out[oi] = sum / cur as f32;
        li += stride;
        oi += stride;
    }
}

/// The 16×16 DCT and quality of a float luma image, reference order.
pub fn dct16_from_luma(luma: &[f32], width: usize, height: usize) -> Option<([[f32; 16]; 16], u8)> {
    if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM || luma.len() < width * height {
        return None;
    }
    let mut b1 = luma[..width * height].to_vec();
    let mut b2 = vec![0f32; width * height];
    let wr = jarosz_window(width);
    let wc = jarosz_window(height);
    for _ in 0..2 {
        for i in 0..height {
            box1d(&b1, &mut b2, i * width, width, 1, wr);
        }
        for j in 0..width {
            box1d(&b2, &mut b1, j, height, width, wc);
        }
    }
    let mut a = [[0f32; 64]; 64];
    for (i, row) in a.iter_mut().enumerate() {
        let ini = (((i as f64 + 0.5) * height as f64) / 64.0) as usize;
        for (j, v) in row.iter_mut().enumerate() {
            let inj = (((j as f64 + 0.5) * width as f64) / 64.0) as usize;
            *v = b1[ini * width + inj];
        }
    }
    let q = core::quality(&a);
    Some((core::dct64_to_16(&a), q))
}
