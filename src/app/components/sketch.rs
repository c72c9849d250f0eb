//! A freehand sketch on an HTML canvas (pen, eraser, clear), used as a composition guide.

use leptos::html::Canvas;
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Pen,
    Eraser,
}

/// The sketch pad. `sketch` holds the drawing as a PNG data URL once something is drawn.
#[component]
pub fn SketchPad(sketch: RwSignal<Option<String>>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let tool = RwSignal::new(Tool::Pen);
    let drawing = RwSignal::new(None::<(f64, f64)>);
    let clear = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = canvas.get().and_then(|c| context(&c)) {
            paper(&ctx);
        }
        sketch.set(None);
    };
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = canvas.get().and_then(|c| context(&c)) {
            paper(&ctx);
        }
    });
    let down = move |ev: leptos::ev::PointerEvent| {
        drawing.set(Some(on_bitmap(canvas, &ev)));
    };
    let moved = move |ev: leptos::ev::PointerEvent| {
        let Some(_from) = drawing.get_untracked() else {
            return;
        };
        let to = on_bitmap(canvas, &ev);
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = canvas.get_untracked().and_then(|c| context(&c)) {
            stroke(&ctx, _from, to, tool.get_untracked() == Tool::Eraser);
        }
        drawing.set(Some(to));
    };
    let up = move |_: leptos::ev::PointerEvent| {
        if drawing.get_untracked().is_some() {
            drawing.set(None);
            #[cfg(feature = "hydrate")]
            if let Some(c) = canvas.get_untracked() {
                sketch.set(c.to_data_url_with_type("image/png").ok());
            }
        }
    };
    let tool_button = move |which: Tool, label: &'static str| {
        view! {
            <button type="button" class="secondary small" aria-pressed=move || (tool.get() == which).to_string()
                on:click=move |_| tool.set(which)>{label}</button>
        }
    };
    view! {
        <div class="sketch">
            <div class="sketch-tools">
                <span class="muted small">"Sketch (optional)"</span>
                {tool_button(Tool::Pen, "Pen")}
                {tool_button(Tool::Eraser, "Eraser")}
                <button type="button" class="secondary small" on:click=clear>"Clear"</button>
                {move || sketch.get().is_some().then(|| view! { <span class="small muted" data-testid="sketch-used">"sketch will guide the composition"</span> })}
            </div>
            <canvas node_ref=canvas width="480" height="270" class="sketch-canvas" data-testid="sketch-canvas"
                on:pointerdown=down on:pointermove=moved on:pointerup=up on:pointerleave=up></canvas>
        </div>
    }
}

/// Where the pointer is on the bitmap: the canvas may be shown smaller (phones) or larger than
/// its 480×270 pixels, so CSS pixels are scaled to bitmap pixels.
fn on_bitmap(canvas: NodeRef<Canvas>, ev: &leptos::ev::PointerEvent) -> (f64, f64) {
    let (x, y) = (ev.offset_x() as f64, ev.offset_y() as f64);
    #[cfg(feature = "hydrate")]
    if let Some(c) = canvas.get_untracked() {
        let (shown_w, shown_h) = (c.client_width() as f64, c.client_height() as f64);
        if shown_w > 0.0 && shown_h > 0.0 {
            return (
                x * c.width() as f64 / shown_w,
                y * c.height() as f64 / shown_h,
            );
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = canvas;
    (x, y)
}

#[cfg(feature = "hydrate")]
fn context(canvas: &web_sys::HtmlCanvasElement) -> Option<web_sys::CanvasRenderingContext2d> {
    use wasm_bindgen::JsCast;
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

#[cfg(feature = "hydrate")]
fn paper(ctx: &web_sys::CanvasRenderingContext2d) {
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, 480.0, 270.0);
}

#[cfg(feature = "hydrate")]
fn stroke(ctx: &web_sys::CanvasRenderingContext2d, from: (f64, f64), to: (f64, f64), erase: bool) {
    ctx.set_stroke_style_str(if erase { "#ffffff" } else { "#1d1b2e" });
    ctx.set_line_width(if erase { 18.0 } else { 3.0 });
    ctx.set_line_cap("round");
    ctx.begin_path();
    ctx.move_to(from.0, from.1);
    ctx.line_to(to.0, to.1);
    ctx.stroke();
}
