//! Runs the shell blocks of the repository's docs that can run offline, so they cannot rot.
//!
//! A block runs when its first line is `# offline: runs in CI with TOOL`: in a fresh
//! directory that is also its `HOME`, with `bash -euo pipefail`, TOOL's directory first on
//! `PATH`, no `TENPAY_*` variable from the caller, and a minute at most. Shared by the
//! `tenpay` command's tests (TOOL `tenpay`) and the merchant server's (`merchant-server`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The docs that may hold blocks: the READMEs and `docs/`.
fn doc_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    for dir in ["docs", "crates", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            } else if p.join("README.md").is_file() {
                files.push(p.join("README.md"));
            }
        }
    }
    files.sort();
    files
}

/// The marked blocks of `text` for `tool`, each with its first line number.
fn blocks(text: &str, tool: &str) -> Vec<(usize, String)> {
    let marker = format!("# offline: runs in CI with {tool}");
    let mut found = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim_end() != "```sh" {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim_end() != "```")
            .collect();
        if body.first().is_some_and(|first| first.trim_end() == marker) {
            found.push((n + 1, body.join("\n") + "\n"));
        }
    }
    found
}

/// Runs every block marked for `tool` (found in `bin_dir`); returns how many ran.
pub(crate) fn run_blocks(root: &Path, tool: &str, bin_dir: &Path) -> usize {
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut ran = 0;
    for file in doc_files(root) {
        let text = std::fs::read_to_string(&file).expect("a doc file");
        for (line, script) in blocks(&text, tool) {
            let dir = std::env::temp_dir().join(format!(
                "tenpay-doc-{}-{tool}-{ran}-{line}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a scratch directory");
            std::fs::write(dir.join("block.sh"), &script).expect("the script");
            let mut cmd = Command::new("bash");
            cmd.args(["-euo", "pipefail", "block.sh"])
                .current_dir(&dir)
                .env("HOME", &dir)
                .env("PATH", &path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            for (k, _) in std::env::vars_os() {
                if k.to_string_lossy().starts_with("TENPAY_") {
                    cmd.env_remove(k);
                }
            }
            let mut child = cmd.spawn().expect("bash");
            let started = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().expect("wait") {
                    break Some(s);
                }
                if started.elapsed() > Duration::from_secs(60) {
                    let _ = child.kill();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            let out = child.wait_with_output().expect("output");
            let where_ = format!("{}:{line}", file.display());
            assert!(
                status.is_some_and(|s| s.success()),
                "the block at {where_} failed ({status:?})\n--- stdout\n{}\n--- stderr\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            let _ = std::fs::remove_dir_all(&dir);
            ran += 1;
        }
    }
    ran
}
