//! The dashboard: one HTML page, a stylesheet and a small script, served from the binary
//! (no build step), plus QR codes for NATIVE orders.

use http::StatusCode;
use qrcode::QrCode;
use qrcode::render::svg;

use super::body::{SimBody, respond};

const PAGE: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");

pub(super) fn page() -> http::Response<SimBody> {
    let mut r = respond(StatusCode::OK, "text/html; charset=utf-8", PAGE);
    secure(&mut r);
    r
}

pub(super) fn asset(name: &str) -> http::Response<SimBody> {
    let (content_type, body) = match name {
        "app.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "style.css" => ("text/css; charset=utf-8", STYLE),
        _ => return respond(StatusCode::NOT_FOUND, "text/plain", "no such asset"),
    };
    let mut r = respond(StatusCode::OK, content_type, body);
    secure(&mut r);
    r
}

/// A `code_url` as an SVG QR code (what the payer would scan).
pub(super) fn qr(code_url: &str) -> http::Response<SimBody> {
    match QrCode::new(code_url.as_bytes()) {
        Ok(code) => {
            let image = code
                .render::<svg::Color<'_>>()
                .min_dimensions(160, 160)
                .build();
            respond(StatusCode::OK, "image/svg+xml", image)
        }
        Err(e) => respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text/plain",
            e.to_string(),
        ),
    }
}

/// Only the simulator's own script and styles run on the page.
fn secure(r: &mut http::Response<SimBody>) {
    r.headers_mut().insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        ),
    );
    r.headers_mut().insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
}
