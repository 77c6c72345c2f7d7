//! The workspace's shape as tests: no two files of a crate import each other, however far
//! round the circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path inside its crate: `[]` for the root, `["a", "b"]` for `a/b.rs`.
type Module = Vec<String>;

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "main.rs" | "mod.rs" => {}
        _ => parts.push(last.trim_end_matches(".rs").to_owned()),
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Tests may reach anywhere; the shape is the production code's.
        if name == "tests" || name == "tests.rs" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The paths a piece of code names after `crate::` or `super::`, as module paths from the
/// crate's root; a brace group gives one path per member.
fn named_paths(code: &str, module: &Module) -> Vec<Module> {
    let mut out = Vec::new();
    // `super` of `a/b.rs` is `a`, and so is that of `a/b/mod.rs` (module `a::b` both).
    let parent = module[..module.len().saturating_sub(1)].to_vec();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut path = base.clone();
            let mut tail = rest;
            loop {
                if tail.starts_with('{') {
                    // Members of a group: each first segment.
                    let close = tail.find('}').unwrap_or(tail.len());
                    for member in tail[1..close].split(',') {
                        let m = ident(member.trim());
                        if !m.is_empty() && m != "self" {
                            let mut p = path.clone();
                            p.push(m.to_owned());
                            out.push(p);
                        }
                    }
                    break;
                }
                let seg = ident(tail);
                if seg.is_empty() {
                    break;
                }
                path.push(seg.to_owned());
                tail = &tail[seg.len()..];
                match tail.strip_prefix("::") {
                    Some(t) => tail = t,
                    None => break,
                }
            }
            out.push(path);
        }
    }
    out
}

/// Each crate's circles: sets of files that reach one another through imports. Imports
/// between a module and its ancestors (a parent and its children) are the module tree, not a
/// circle.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Module, &PathBuf> =
        files.iter().map(|f| (module_of(src, f), f)).collect();
    let mut edges: BTreeMap<&Module, BTreeSet<&Module>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        // An inline test module is test code.
        let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap();
        // A link in a comment is no import.
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for path in named_paths(&code, module) {
            // The longest prefix that is a file.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p));
            let Some(target) = target else { continue };
            let (target, _) = modules.get_key_value(&target).unwrap();
            let related = target.starts_with(module) || module.starts_with(target);
            if !related {
                edges.entry(module).or_default().insert(target);
            }
        }
    }
    // Strongly connected components, by reachability both ways (the crates are small).
    let reach = |from: &Module| -> BTreeSet<&Module> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&Module> = edges.get(from).into_iter().flatten().copied().collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m) {
                todo.extend(edges.get(m).into_iter().flatten().copied());
            }
        }
        seen
    };
    let reached: BTreeMap<&Module, BTreeSet<&Module>> =
        modules.keys().map(|m| (m, reach(m))).collect();
    let mut out: BTreeSet<Vec<String>> = BTreeSet::new();
    for (m, r) in &reached {
        let circle: Vec<String> = r
            .iter()
            .filter(|o| reached[*o].contains(m))
            .map(|o| o.join("/"))
            .collect();
        if circle.len() > 1 || (circle.len() == 1 && circle[0] != m.join("/")) {
            let mut c = circle;
            c.push(m.join("/"));
            c.sort();
            c.dedup();
            out.insert(c);
        }
    }
    out.into_iter().collect()
}

#[test]
fn no_two_files_of_a_crate_import_each_other() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let name = src
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for c in circles(&src) {
            found.push(format!("{name}: {}", c.join(" <-> ")));
        }
    }
    found.sort();
    assert!(found.is_empty(), "circles of files:\n{}", found.join("\n"));
}

#[test]
fn the_circle_finder_sees_a_circle_and_not_a_module_tree() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |name: &str, text: &str| {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a; mod b; mod c; mod tree; pub use a::A;");
    write("a.rs", "use crate::b::B;\n");
    write("b.rs", "use crate::{c::C, tree};\n");
    write(
        "c.rs",
        "/// Not [`tree`](crate::tree).\npub fn f() { crate::a::g() }\n#[cfg(test)]\nmod tests {\n use crate::tree::x;\n}\n",
    );
    write("tree/mod.rs", "mod leaf; use leaf::L;\n");
    write("tree/leaf.rs", "use super::T; use crate::tree::U;\n");
    write("tests.rs", "use crate::a; use crate::tree;\n");
    assert_eq!(
        circles(src),
        vec![vec!["a".to_owned(), "b".into(), "c".into()]]
    );
}
