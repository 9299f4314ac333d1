//! A package's tree copied, without what a build leaves (`target/`, `Cargo.lock`): shared by
//! the tests' fixtures and the offline benchmark (by `#[path]`).

use std::path::Path;

/// Copy `from` into `to` (created), but `target/` and `Cargo.lock`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
