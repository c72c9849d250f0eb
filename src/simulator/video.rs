//! Short real videos (VP8 WebM, which Chromium plays) made from drawn frames by Debian's
//! `ffmpeg`. Without ffmpeg the simulator says so instead of serving something fake.

use super::draw;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

const FPS: usize = 8;
const SECONDS: usize = 2;

pub async fn webm(figure_seeds: &[u64], scene_seed: u64) -> Result<Vec<u8>, String> {
    let (w, h, frames) = draw::animation_frames(figure_seeds, scene_seed, FPS * SECONDS);
    let mut child = tokio::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
        ])
        .args([
            "-s",
            &format!("{w}x{h}"),
            "-r",
            &FPS.to_string(),
            "-i",
            "pipe:0",
        ])
        .args([
            "-c:v",
            "libvpx",
            "-b:v",
            "400k",
            "-pix_fmt",
            "yuv420p",
            "-auto-alt-ref",
            "0",
            "-f",
            "webm",
            "pipe:1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("ffmpeg is needed to make videos (apt-get install ffmpeg): {e}"))?;
    let mut stdin = child.stdin.take().ok_or("ffmpeg has no stdin")?;
    let feed = tokio::spawn(async move {
        for frame in frames {
            if stdin.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let output = child.wait_with_output().await.map_err(|e| e.to_string())?;
    let _ = feed.await;
    if !output.status.success() || output.stdout.is_empty() {
        return Err(format!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}
