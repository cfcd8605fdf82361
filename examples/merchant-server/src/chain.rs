//! An error with its chain of sources on one line: a leaf, for every module that reports one.

/// An error and its causes, `outer: inner: innermost` (each layer displays only itself).
#[must_use]
pub fn report(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
