//! `tenpay-api-list CRATE.json`: a library crate's public API, one sorted line per item, from
//! rustdoc's JSON output (`cargo rustdoc -- -Z unstable-options --output-format json`).
//!
//! `.ci/api.sh` writes the listing of each library crate to `api/CRATE.txt` and CI fails when
//! a listing differs from the one checked in, so every change to a public API shows in
//! review as a diff of these files. `cargo-public-api` does the same but needs a nightly
//! toolchain; this reads the JSON through `serde_json::Value`, so it does not pin a
//! `rustdoc-types` format version, and renders the common type forms (others as `…`).

use std::collections::BTreeSet;
use std::process::ExitCode;

use serde_json::Value;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: tenpay-api-list CRATE.json");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{path} is not rustdoc JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let mut lister = Lister {
        index: &doc["index"],
        lines: BTreeSet::new(),
        seen: BTreeSet::new(),
    };
    let root = id_of(&doc["root"]);
    let name = lister.item(&root)["name"]
        .as_str()
        .unwrap_or("crate")
        .to_owned();
    lister.module(&root, &name);
    for line in &lister.lines {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

fn id_of(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

struct Lister<'a> {
    index: &'a Value,
    lines: BTreeSet<String>,
    /// (id, path) pairs walked, so a re-export cycle ends.
    seen: BTreeSet<(String, String)>,
}

impl<'a> Lister<'a> {
    fn item(&self, id: &str) -> &'a Value {
        &self.index[id]
    }

    fn module(&mut self, id: &str, path: &str) {
        let items: Vec<String> = self.item(id)["inner"]["module"]["items"]
            .as_array()
            .map(|a| a.iter().map(id_of).collect())
            .unwrap_or_default();
        for child in items {
            let item = self.item(&child);
            if item.is_null() || item["visibility"] != "public" {
                continue;
            }
            if let Some(u) = item["inner"].get("use") {
                let name = u["name"].as_str().unwrap_or("");
                let target = id_of(&u["id"]);
                let glob = u["is_glob"].as_bool().unwrap_or(false);
                if !target.is_empty() && !self.item(&target).is_null() {
                    if glob {
                        self.module(&target, path);
                    } else {
                        self.walk(&target, &format!("{path}::{name}"));
                    }
                } else {
                    let source = u["source"].as_str().unwrap_or("");
                    self.lines
                        .insert(format!("pub use {path}::{name} = {source}"));
                }
                continue;
            }
            let name = item["name"].as_str().unwrap_or("").to_owned();
            self.walk(&child, &format!("{path}::{name}"));
        }
    }

    fn walk(&mut self, id: &str, path: &str) {
        if !self.seen.insert((id.to_owned(), path.to_owned())) {
            return;
        }
        let item = self.item(id);
        let Some((kind, inner)) = item["inner"].as_object().and_then(|o| o.iter().next()) else {
            return;
        };
        match kind.as_str() {
            "module" => {
                self.lines.insert(format!("pub mod {path}"));
                self.module(id, path);
            }
            "struct" => {
                self.lines
                    .insert(format!("pub struct {path}{}", generics(&inner["generics"])));
                if let Some(fields) = inner["kind"]["plain"]["fields"].as_array() {
                    for f in fields {
                        self.field(&id_of(f), path);
                    }
                }
                if let Some(fields) = inner["kind"]["tuple"].as_array() {
                    for (n, f) in fields.iter().enumerate() {
                        if !f.is_null() {
                            let t = ty(&self.item(&id_of(f))["inner"]["struct_field"]);
                            self.lines.insert(format!("pub {path}.{n}: {t}"));
                        }
                    }
                }
                self.impls(&inner["impls"], path);
            }
            "enum" => {
                self.lines
                    .insert(format!("pub enum {path}{}", generics(&inner["generics"])));
                if let Some(variants) = inner["variants"].as_array() {
                    for v in variants {
                        let vi = self.item(&id_of(v));
                        let name = vi["name"].as_str().unwrap_or("");
                        let fields = match &vi["inner"]["variant"]["kind"] {
                            Value::Object(o) if o.contains_key("tuple") => {
                                let list: Vec<String> = o["tuple"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .map(|f| {
                                        if f.is_null() {
                                            "_".to_owned()
                                        } else {
                                            ty(&self.item(&id_of(f))["inner"]["struct_field"])
                                        }
                                    })
                                    .collect();
                                format!("({})", list.join(", "))
                            }
                            Value::Object(o) if o.contains_key("struct") => {
                                let list: Vec<String> = o["struct"]["fields"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .map(|f| {
                                        let fi = self.item(&id_of(f));
                                        format!(
                                            "{}: {}",
                                            fi["name"].as_str().unwrap_or(""),
                                            ty(&fi["inner"]["struct_field"])
                                        )
                                    })
                                    .collect();
                                format!(" {{ {} }}", list.join(", "))
                            }
                            _ => String::new(),
                        };
                        self.lines
                            .insert(format!("pub variant {path}::{name}{fields}"));
                    }
                }
                self.impls(&inner["impls"], path);
            }
            "union" => {
                self.lines.insert(format!("pub union {path}"));
            }
            "trait" => {
                self.lines
                    .insert(format!("pub trait {path}{}", generics(&inner["generics"])));
                for member in inner["items"].as_array().into_iter().flatten() {
                    self.member(&id_of(member), path, "trait ");
                }
            }
            "function" => {
                self.lines.insert(format!("pub {}", function(path, inner)));
            }
            "constant" => {
                self.lines
                    .insert(format!("pub const {path}: {}", ty(&inner["type"])));
            }
            "static" => {
                self.lines
                    .insert(format!("pub static {path}: {}", ty(&inner["type"])));
            }
            "type_alias" => {
                self.lines
                    .insert(format!("pub type {path} = {}", ty(&inner["type"])));
            }
            "macro" | "proc_macro" => {
                self.lines.insert(format!("pub macro {path}!"));
            }
            other => {
                self.lines.insert(format!("pub {other} {path}"));
            }
        }
    }

    fn field(&mut self, id: &str, path: &str) {
        let f = self.item(id);
        if f["visibility"] != "public" {
            return;
        }
        let name = f["name"].as_str().unwrap_or("");
        self.lines.insert(format!(
            "pub {path}.{name}: {}",
            ty(&f["inner"]["struct_field"])
        ));
    }

    fn impls(&mut self, impls: &Value, path: &str) {
        for id in impls.as_array().into_iter().flatten() {
            let imp = &self.item(&id_of(id))["inner"]["impl"];
            if imp.is_null()
                || imp["is_synthetic"].as_bool().unwrap_or(false)
                || !imp["blanket_impl"].is_null()
            {
                continue;
            }
            if imp["trait"].is_null() {
                for member in imp["items"].as_array().into_iter().flatten() {
                    let m = self.item(&id_of(member));
                    if m["visibility"] == "public" {
                        self.member(&id_of(member), path, "");
                    }
                }
            } else {
                let t = path_with_args(&imp["trait"]);
                if t == "StructuralPartialEq" {
                    // Written by `#[derive(PartialEq)]` beside the `PartialEq` impl.
                    continue;
                }
                let neg = if imp["is_negative"].as_bool().unwrap_or(false) {
                    "!"
                } else {
                    ""
                };
                self.lines.insert(format!(
                    "impl{} {neg}{t} for {}",
                    generics(&imp["generics"]),
                    ty(&imp["for"])
                ));
            }
        }
    }

    fn member(&mut self, id: &str, owner: &str, prefix: &str) {
        let m = self.item(id);
        let name = m["name"].as_str().unwrap_or("");
        let path = format!("{owner}::{name}");
        let Some((kind, inner)) = m["inner"].as_object().and_then(|o| o.iter().next()) else {
            return;
        };
        let line = match kind.as_str() {
            "function" => function(&path, inner),
            "assoc_const" => format!("const {path}: {}", ty(&inner["type"])),
            "assoc_type" => format!("type {path}"),
            other => format!("{other} {path}"),
        };
        self.lines.insert(format!("pub {prefix}{line}"));
    }
}

fn function(path: &str, f: &Value) -> String {
    let h = &f["header"];
    let mut quals = String::new();
    for (flag, word) in [
        ("is_const", "const "),
        ("is_async", "async "),
        ("is_unsafe", "unsafe "),
    ] {
        if h[flag].as_bool().unwrap_or(false) {
            quals.push_str(word);
        }
    }
    let inputs: Vec<String> = f["sig"]["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p[0].as_str().unwrap_or("_");
            let t = ty(&p[1]);
            match (name, t.as_str()) {
                ("self", "Self") => "self".to_owned(),
                ("self", "&Self") => "&self".to_owned(),
                ("self", "&mut Self") => "&mut self".to_owned(),
                _ => format!("{name}: {t}"),
            }
        })
        .collect();
    let out = &f["sig"]["output"];
    let output = if out.is_null() {
        String::new()
    } else {
        format!(" -> {}", ty(out))
    };
    format!(
        "{quals}fn {path}{}({}){output}{}",
        generics(&f["generics"]),
        inputs.join(", "),
        where_clause(&f["generics"])
    )
}

fn generics(g: &Value) -> String {
    let params: Vec<String> = g["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p["name"].as_str().unwrap_or("");
            let kind = &p["kind"];
            if let Some(t) = kind.get("type") {
                if t["is_synthetic"].as_bool().unwrap_or(false) {
                    return None;
                }
                let b = bounds(&t["bounds"]);
                Some(if b.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name}: {b}")
                })
            } else if let Some(c) = kind.get("const") {
                Some(format!("const {name}: {}", ty(&c["type"])))
            } else {
                Some(name.to_owned())
            }
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn where_clause(g: &Value) -> String {
    let preds: Vec<String> = g["where_predicates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let b = p.get("bound_predicate")?;
            Some(format!("{}: {}", ty(&b["type"]), bounds(&b["bounds"])))
        })
        .collect();
    if preds.is_empty() {
        String::new()
    } else {
        format!(" where {}", preds.join(", "))
    }
}

fn bounds(b: &Value) -> String {
    let list: Vec<String> = b
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            if let Some(t) = b.get("trait_bound") {
                let m = if t["modifier"] == "maybe" { "?" } else { "" };
                format!("{m}{}", path_with_args(&t["trait"]))
            } else if let Some(l) = b.get("outlives") {
                l.as_str().unwrap_or("'_").to_owned()
            } else {
                "…".to_owned()
            }
        })
        .collect();
    list.join(" + ")
}

fn path_with_args(p: &Value) -> String {
    let name = p["path"].as_str().unwrap_or("…");
    format!("{name}{}", args(&p["args"]))
}

fn args(a: &Value) -> String {
    if let Some(ab) = a.get("angle_bracketed") {
        let mut list: Vec<String> = ab["args"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                if let Some(t) = g.get("type") {
                    ty(t)
                } else if let Some(l) = g.get("lifetime") {
                    l.as_str().unwrap_or("'_").to_owned()
                } else if let Some(c) = g.get("const") {
                    c["expr"].as_str().unwrap_or("…").to_owned()
                } else {
                    "_".to_owned()
                }
            })
            .collect();
        for c in ab["constraints"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            let eq = &c["binding"]["equality"]["type"];
            if !eq.is_null() {
                list.push(format!("{name} = {}", ty(eq)));
            } else {
                list.push(format!("{name}: {}", bounds(&c["binding"]["constraint"])));
            }
        }
        if list.is_empty() {
            String::new()
        } else {
            format!("<{}>", list.join(", "))
        }
    } else if let Some(p) = a.get("parenthesized") {
        let inputs: Vec<String> = p["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(ty)
            .collect();
        let out = if p["output"].is_null() {
            String::new()
        } else {
            format!(" -> {}", ty(&p["output"]))
        };
        format!("({}){out}", inputs.join(", "))
    } else {
        String::new()
    }
}

fn ty(t: &Value) -> String {
    let Some((kind, v)) = t.as_object().and_then(|o| o.iter().next()) else {
        return "…".to_owned();
    };
    match kind.as_str() {
        "resolved_path" => path_with_args(v),
        "generic" | "primitive" => v.as_str().unwrap_or("…").to_owned(),
        "borrowed_ref" => {
            let l = v["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let m = if v["is_mutable"].as_bool().unwrap_or(false) {
                "mut "
            } else {
                ""
            };
            format!("&{l}{m}{}", ty(&v["type"]))
        }
        "raw_pointer" => {
            let m = if v["is_mutable"].as_bool().unwrap_or(false) {
                "mut"
            } else {
                "const"
            };
            format!("*{m} {}", ty(&v["type"]))
        }
        "tuple" => {
            let list: Vec<String> = v.as_array().into_iter().flatten().map(ty).collect();
            format!("({})", list.join(", "))
        }
        "slice" => format!("[{}]", ty(v)),
        "array" => format!("[{}; {}]", ty(&v["type"]), v["len"].as_str().unwrap_or("…")),
        "impl_trait" => format!("impl {}", bounds(v)),
        "dyn_trait" => {
            let traits: Vec<String> = v["traits"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| path_with_args(&p["trait"]))
                .collect();
            let l = v["lifetime"]
                .as_str()
                .map(|l| format!(" + {l}"))
                .unwrap_or_default();
            format!("dyn {}{l}", traits.join(" + "))
        }
        "qualified_path" => {
            let self_ty = ty(&v["self_type"]);
            let name = v["name"].as_str().unwrap_or("…");
            if v["trait"].is_null() {
                format!("{self_ty}::{name}")
            } else {
                format!("<{self_ty} as {}>::{name}", path_with_args(&v["trait"]))
            }
        }
        "function_pointer" => {
            let inputs: Vec<String> = v["sig"]["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| ty(&p[1]))
                .collect();
            let out = if v["sig"]["output"].is_null() {
                String::new()
            } else {
                format!(" -> {}", ty(&v["sig"]["output"]))
            };
            format!("fn({}){out}", inputs.join(", "))
        }
        "infer" => "_".to_owned(),
        _ => "…".to_owned(),
    }
}
