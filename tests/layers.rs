//! The layering `src/lib.rs` documents holds in the code: every `crate::X` that a module of
//! `src/` names (outside its unit tests) is a module of its own layer or a lower one, and the
//! top-level modules form no cycle. The layers are read from lib.rs's numbered list, so the
//! documentation and this check cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module → layer number, from lines like ``//! 3. [`model`], [`optim`]: ...`` of lib.rs.
fn documented_layers() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut layers = BTreeMap::new();
    for line in lib.lines() {
        let Some(item) = line.strip_prefix("//! ") else {
            continue;
        };
        let Some((number, rest)) = item.split_once(". ") else {
            continue;
        };
        let Ok(number) = number.parse::<usize>() else {
            continue;
        };
        let names = rest.split(':').next().unwrap_or_default();
        for name in names.split(',') {
            let name = name.trim().trim_start_matches("[`").trim_end_matches("`]");
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "lib.rs layer {number}: cannot read module name {name:?} in {line:?}"
            );
            layers.insert(name.to_string(), number);
        }
    }
    layers
}

/// The top-level module a file under src/ belongs to (`train` for src/train/step.rs).
fn top_module(relative: &Path) -> String {
    let first = relative.components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every top-level module named as `crate::X` (or inside `crate::{X, ...}`) in `text`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `mycrate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The first path segment of each top-level item: `{a::{B, C}, d}` names a and d.
            let (mut depth, mut item_start) = (0usize, true);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => {
                        item_start = false;
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        names.insert(name);
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

/// Top-level module → the other top-level modules it names, with one file that does.
fn edges(modules: &BTreeSet<String>) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src()).unwrap().to_path_buf();
        let from = top_module(&relative);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // A module's unit tests may reach anywhere.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for to in named_modules(code) {
            if to != from && modules.contains(&to) {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| relative.clone());
            }
        }
    }
    edges
}

#[test]
fn every_module_of_src_is_in_a_documented_layer() {
    let layers = documented_layers();
    assert!(
        layers.len() >= 10,
        "lib.rs lists too few modules: {layers:?}"
    );
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| top_module(f.strip_prefix(src()).unwrap()))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let undocumented: Vec<&String> = modules
        .iter()
        .filter(|m| !layers.contains_key(*m))
        .collect();
    assert!(
        undocumented.is_empty(),
        "modules missing from lib.rs's layer list: {undocumented:?}"
    );
    let stale: Vec<&String> = layers.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(
        stale.is_empty(),
        "lib.rs lists modules that do not exist: {stale:?}"
    );
}

#[test]
fn no_module_imports_a_higher_layer() {
    let layers = documented_layers();
    let modules: BTreeSet<String> = layers.keys().cloned().collect();
    let mut upward = Vec::new();
    for (from, targets) in edges(&modules) {
        for (to, file) in targets {
            if layers[&to] > layers[&from] {
                upward.push(format!(
                    "{from} (layer {}) imports {to} (layer {}) in src/{}",
                    layers[&from],
                    layers[&to],
                    file.display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn top_level_modules_form_no_cycle() {
    let layers = documented_layers();
    let modules: BTreeSet<String> = layers.keys().cloned().collect();
    let edges = edges(&modules);
    // Depth-first search for a back edge, reporting the cycle's path.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeMap<String, PathBuf>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flat_map(|t| t.keys()) {
            if let Some(cycle) = visit(next, edges, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for module in &modules {
        if let Some(cycle) = visit(module, &edges, &mut done, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_import_scanner_reads_paths_and_groups() {
    let names = named_modules(
        "use crate::config::{A, B};\nuse crate::{Error, model::{Model, X}, data};\nlet x = mycrate::train;",
    );
    let expected: BTreeSet<String> = ["config", "Error", "model", "data"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expected);
}
