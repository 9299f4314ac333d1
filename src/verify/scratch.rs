//! The scratch copy of a workspace that generated tests are built in, kept in step with the
//! user's tree file by file so the user's files and target dir are never touched. The
//! interfaces to the `ignore` and `toml_edit` crates are localized here.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};

use ignore::WalkBuilder;
use toml_edit::{DocumentMut, Item, Table, Value};

/// Held for the whole verification: a second `cargo testsmith` on the same workspace waits.
#[derive(Debug)]
pub struct ScratchLock {
    // Closing the file releases the lock.
    _file: File,
}

/// Take an exclusive lock on `<dir>/scratch.lock` (creating dir), blocking until free.
pub fn lock(dir: &Path) -> io::Result<ScratchLock> {
    fs::create_dir_all(dir)?;
    let path = dir.join("scratch.lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|err| with_path(err, &path))?;
    file.lock().map_err(|err| with_path(err, &path))?;
    Ok(ScratchLock { _file: file })
}

/// What one [`sync`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncStats {
    /// Files whose bytes were written.
    pub written: usize,
    /// Files removed from the copy (directories are not counted).
    pub removed: usize,
}

/// Make `dest` a copy of the workspace at `src` for building.
///
/// Copied: every file under `src` that git does not ignore (a gitignored `Cargo.lock` too),
/// dotfiles included, except `.git`, the directories in `skip` and any directory holding a
/// `CACHEDIR.TAG` (a cargo target dir). Symlinks to files are copied as files; symlinks to
/// directories are skipped, so the walk never leaves the tree. A file is written only when its
/// bytes differ, so unchanged files keep their mtimes and cargo's fingerprints stay valid.
/// Files the copy should no longer have are removed, and directories left empty, except a
/// `Cargo.lock` cargo generated beside a copied `Cargo.toml`: whatever a test left in the copy
/// is gone before the next build (a planted `.cargo/config.toml` would run uncontained). In each `Cargo.toml`, a path that
/// would not resolve from `dest` is rewritten: to its absolute path when it leaves the tree
/// (or names something not copied), to a path within the tree when it leaves and comes back.
pub fn sync(src: &Path, skip: &[PathBuf], dest: &Path) -> io::Result<SyncStats> {
    sync_keeping(src, skip, dest, &HashSet::new())
}

/// [`sync`], but the files in `own` (relative paths) are copied only when the copy lacks
/// them: the caller writes them itself (with tests spliced in), and leaving the last run's
/// version in place keeps a rerun's build a no-op when it writes the same again.
pub fn sync_keeping(
    src: &Path,
    skip: &[PathBuf],
    dest: &Path,
    own: &HashSet<PathBuf>,
) -> io::Result<SyncStats> {
    // Lexical, like cargo resolves manifest paths, and not canonical, so rewritten paths
    // name the tree the way the caller (cargo metadata) does.
    let src = normalize(&std::path::absolute(src)?);
    fs::create_dir_all(dest).map_err(|err| with_path(err, dest))?;
    let skip = skipped(&src, skip, dest)?;
    let files = source_files(&src, skip)?;
    let dirs: BTreeSet<&Path> = files
        .iter()
        .flat_map(|rel| rel.ancestors().skip(1))
        .filter(|dir| !dir.as_os_str().is_empty())
        .collect();

    let mut stats = SyncStats::default();
    // Pruning first clears a file that stands where a directory is now wanted.
    prune(dest, Path::new(""), &files, &dirs, &mut stats)?;
    for rel in &files {
        let to = dest.join(rel);
        if own.contains(rel) && to.is_file() {
            continue;
        }
        let from = src.join(rel);
        let mut bytes = fs::read(&from).map_err(|err| with_path(err, &from))?;
        if rel.file_name().is_some_and(|name| name == "Cargo.toml") {
            let relocator = Relocator {
                src: &src,
                dir: rel.parent().unwrap_or(Path::new("")),
                files: &files,
            };
            if let Some(text) = relocated_manifest(&bytes, &relocator) {
                bytes = text.into_bytes();
            }
        }
        if write_if_changed(&to, &bytes)? {
            stats.written += 1;
        }
        copy_mode(&from, &to)?;
    }
    Ok(stats)
}

/// Write `contents` at `dest/rel` unless it already holds exactly those bytes (same mtime rule).
pub fn put(dest: &Path, rel: &Path, contents: &str) -> io::Result<bool> {
    write_if_changed(&dest.join(rel), contents.as_bytes())
}

/// The directories not to copy, relative to `src`: `skip` and `dest` itself, compared by
/// their canonical paths since the caller may spell them differently from `src`.
fn skipped(src: &Path, skip: &[PathBuf], dest: &Path) -> io::Result<HashSet<PathBuf>> {
    let root = src.canonicalize().map_err(|err| with_path(err, src))?;
    let dest = dest.canonicalize().map_err(|err| with_path(err, dest))?;
    if root.starts_with(&dest) {
        // Pruning would delete the user's untracked files.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "scratch copy {} would contain the workspace {}",
                dest.display(),
                root.display()
            ),
        ));
    }
    Ok(skip
        .iter()
        // A directory that does not exist has nothing to skip.
        .filter_map(|dir| dir.canonicalize().ok())
        .chain([dest])
        .filter_map(|dir| dir.strip_prefix(&root).ok().map(Path::to_path_buf))
        .collect())
}

/// The files to copy, relative to `src`.
fn source_files(src: &Path, skip: HashSet<PathBuf>) -> io::Result<BTreeSet<PathBuf>> {
    let root = src.to_path_buf();
    let mut builder = WalkBuilder::new(src);
    builder
        // `.cargo/config.toml` and other dotfiles can matter to the build.
        .hidden(false)
        // `.ignore` files are ripgrep's; the copy skips what git ignores (only in a git repo).
        .ignore(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .require_git(true)
        .follow_links(false)
        .filter_entry(move |entry| !pruned(entry, &root, &skip));
    let mut files = BTreeSet::new();
    for entry in builder.build() {
        let entry = entry.map_err(io::Error::other)?;
        let Ok(rel) = entry.path().strip_prefix(src) else {
            continue;
        };
        let Some(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            // A gitignored `Cargo.lock` still pins the versions the user builds with.
            if entry.path().join("Cargo.lock").is_file() {
                files.insert(rel.join("Cargo.lock"));
            }
        } else if kind.is_file() || (kind.is_symlink() && entry.path().is_file()) {
            // Links to directories and dangling links are left out, and so are fifos and
            // sockets, which a read would block on or fail.
            files.insert(rel.to_path_buf());
        }
    }
    Ok(files)
}

/// Whether the walk leaves out `entry` and, for a directory, everything under it.
fn pruned(entry: &ignore::DirEntry, root: &Path, skip: &HashSet<PathBuf>) -> bool {
    if entry.file_name() == ".git" {
        return true;
    }
    if !entry.file_type().is_some_and(|kind| kind.is_dir()) {
        return false;
    }
    entry
        .path()
        .strip_prefix(root)
        .is_ok_and(|rel| skip.contains(rel))
        || entry.path().join("CACHEDIR.TAG").exists()
}

/// Remove from `dir` (at `rel` in the copy) what the copy will not have; whether `dir` is
/// left empty.
fn prune(
    dir: &Path,
    rel: &Path,
    files: &BTreeSet<PathBuf>,
    dirs: &BTreeSet<&Path>,
    stats: &mut SyncStats,
) -> io::Result<bool> {
    let mut empty = true;
    for entry in fs::read_dir(dir).map_err(|err| with_path(err, dir))? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        let path = entry.path();
        // Not followed: a link in the copy is removed, never written through.
        let kind = entry.file_type()?;
        let keep = if kind.is_dir() {
            let left_empty = prune(&path, &rel, files, dirs, stats)?;
            if left_empty && !dirs.contains(rel.as_path()) {
                fs::remove_dir(&path).map_err(|err| with_path(err, &path))?;
                false
            } else {
                true
            }
        } else if kind.is_file() && (files.contains(&rel) || generated_lock(&rel, files)) {
            true
        } else {
            fs::remove_file(&path).map_err(|err| with_path(err, &path))?;
            stats.removed += 1;
            false
        };
        empty &= !keep;
    }
    Ok(empty)
}

/// A `Cargo.lock` cargo wrote beside a copied manifest that has none in the user's tree:
/// kept so the next build does not resolve again.
fn generated_lock(rel: &Path, files: &BTreeSet<PathBuf>) -> bool {
    rel.file_name().is_some_and(|name| name == "Cargo.lock")
        && files.contains(&rel.with_file_name("Cargo.toml"))
}

/// Write `bytes` at `path` unless it holds them already; whether it wrote.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            if meta.len() == bytes.len() as u64
                && fs::read(path).map_err(|err| with_path(err, path))? == bytes
            {
                return Ok(false);
            }
            if meta.permissions().readonly() {
                make_writable(path, meta.permissions())?;
            }
        }
        // Whatever stands in the way goes: the copy holds plain files, and writing through a
        // link could reach outside it.
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(path).map_err(|err| with_path(err, path))?
        }
        Ok(_) => fs::remove_file(path).map_err(|err| with_path(err, path))?,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|err| with_path(err, parent))?;
            }
        }
        Err(err) => return Err(with_path(err, path)),
    }
    fs::write(path, bytes).map_err(|err| with_path(err, path))?;
    Ok(true)
}

fn make_writable(path: &Path, mut permissions: fs::Permissions) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        permissions.set_mode(permissions.mode() | 0o200);
    }
    #[cfg(not(unix))]
    {
        // The lint is about Unix, where this would make the file world-writable.
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
    }
    fs::set_permissions(path, permissions).map_err(|err| with_path(err, path))
}

/// Unix mode bits travel with the copy (a build script may run a script from the tree),
/// owner-writable so the next change can be written.
#[cfg(unix)]
fn copy_mode(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = (fs::metadata(from)?.permissions().mode() | 0o200) & 0o777;
    if fs::metadata(to)?.permissions().mode() & 0o777 != mode {
        fs::set_permissions(to, fs::Permissions::from_mode(mode))
            .map_err(|err| with_path(err, to))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn copy_mode(_from: &Path, _to: &Path) -> io::Result<()> {
    Ok(())
}

fn with_path(err: io::Error, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

/// The dependency tables of a manifest, and of each `[target.<cfg>]`; the underscore
/// spellings are what editions before 2024 also accept.
const DEPENDENCY_TABLES: [&str; 5] = [
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

/// Rewrites the paths of one manifest so they resolve from the copy.
struct Relocator<'a> {
    src: &'a Path,
    /// The manifest's directory, relative to `src`.
    dir: &'a Path,
    files: &'a BTreeSet<PathBuf>,
}

impl Relocator<'_> {
    /// What to write instead of `written`, `None` when it resolves the same from the copy.
    /// `package`: it names a package directory, not a file.
    fn relocate(&self, written: &str, package: bool) -> Option<String> {
        let written = Path::new(written);
        let resolved = normalize(&self.src.join(self.dir).join(written));
        let copied = resolved.strip_prefix(self.src).ok().filter(|inside| {
            if package {
                self.files.contains(&inside.join("Cargo.toml"))
            } else {
                self.files.contains(*inside)
            }
        });
        match copied {
            Some(_) if !written.is_absolute() && !climbs_out(self.dir, written) => None,
            // Into the copy, not the user's tree, whichever way it was written.
            Some(inside) => within_tree(self.dir, inside),
            None if written.is_absolute() => None,
            None => resolved.to_str().map(str::to_owned),
        }
    }
}

/// The manifest with its paths relocated; `None` when nothing changes, or when it is not a
/// manifest toml_edit can parse (cargo will report that from the copy).
fn relocated_manifest(bytes: &[u8], relocator: &Relocator<'_>) -> Option<String> {
    let mut doc: DocumentMut = std::str::from_utf8(bytes).ok()?.parse().ok()?;
    relocate_manifest(doc.as_table_mut(), relocator).then(|| doc.to_string())
}

/// Relocate every path of the manifest `root`; whether any changed.
fn relocate_manifest(root: &mut Table, relocator: &Relocator<'_>) -> bool {
    let mut changed = false;
    for key in DEPENDENCY_TABLES {
        changed |= relocate_dependencies(root.get_mut(key), relocator);
    }
    if let Some(targets) = root.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            if let Some(target) = target.as_table_like_mut() {
                for key in DEPENDENCY_TABLES {
                    changed |= relocate_dependencies(target.get_mut(key), relocator);
                }
            }
        }
    }
    let workspace = root.get_mut("workspace").and_then(Item::as_table_like_mut);
    changed |= relocate_dependencies(
        workspace.and_then(|table| table.get_mut("dependencies")),
        relocator,
    );
    if let Some(registries) = root.get_mut("patch").and_then(Item::as_table_like_mut) {
        for (_, patches) in registries.iter_mut() {
            changed |= relocate_dependencies(Some(patches), relocator);
        }
    }
    changed |= relocate_dependencies(root.get_mut("replace"), relocator);

    // Target sources and the build script name files.
    let package = root.get_mut("package").and_then(Item::as_table_like_mut);
    changed |= relocate_value(
        package.and_then(|table| table.get_mut("build")),
        relocator,
        false,
    );
    let lib = root.get_mut("lib").and_then(Item::as_table_like_mut);
    changed |= relocate_value(
        lib.and_then(|table| table.get_mut("path")),
        relocator,
        false,
    );
    for kind in ["bin", "example", "test", "bench"] {
        if let Some(targets) = root.get_mut(kind).and_then(Item::as_array_of_tables_mut) {
            for target in targets.iter_mut() {
                changed |= relocate_value(target.get_mut("path"), relocator, false);
            }
        }
    }
    changed
}

/// Relocate the `path` of each dependency in `table`.
fn relocate_dependencies(table: Option<&mut Item>, relocator: &Relocator<'_>) -> bool {
    let Some(table) = table.and_then(Item::as_table_like_mut) else {
        return false;
    };
    let mut changed = false;
    for (_, dependency) in table.iter_mut() {
        if let Some(dependency) = dependency.as_table_like_mut() {
            changed |= relocate_value(dependency.get_mut("path"), relocator, true);
        }
    }
    changed
}

/// Replace the string `item` when it needs relocating, keeping its comments and spacing.
fn relocate_value(item: Option<&mut Item>, relocator: &Relocator<'_>, package: bool) -> bool {
    let Some(value) = item.and_then(Item::as_value_mut) else {
        return false;
    };
    let Some(new) = value
        .as_str()
        .and_then(|path| relocator.relocate(path, package))
    else {
        return false;
    };
    let decor = value.decor().clone();
    *value = Value::from(new);
    *value.decor_mut() = decor;
    true
}

/// `path` with `.` and `..` resolved without the file system, as cargo does for manifests.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `written`, from the directory `dir` (relative to the tree's root), goes above
/// the root on its way; from the copy it would then reach outside the copy.
fn climbs_out(dir: &Path, written: &Path) -> bool {
    let mut depth = dir.components().count();
    for component in written.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(_) => depth += 1,
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => return true,
        }
    }
    false
}

/// The path from `dir` to `target`, both relative to the tree's root, with `/` separators
/// (which cargo takes on every platform).
fn within_tree(dir: &Path, target: &Path) -> Option<String> {
    let dir: Vec<_> = dir.components().collect();
    let target: Vec<_> = target.components().collect();
    let common = dir.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; dir.len() - common];
    for component in &target[common..] {
        parts.push(component.as_os_str().to_str()?);
    }
    Some(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, SystemTime};

    fn write(path: &Path, contents: impl AsRef<[u8]>) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Every file under `dir`, relative, `/`-separated.
    fn listing(dir: &Path) -> BTreeSet<String> {
        fn walk(dir: &Path, rel: &str, out: &mut BTreeSet<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let name = format!("{rel}{}", entry.file_name().to_str().unwrap());
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), &format!("{name}/"), out);
                } else {
                    out.insert(name);
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(dir, "", &mut out);
        out
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    const OLD: Duration = Duration::from_secs(1_000_000_000);

    /// Backdate `path`, so a rewrite, however fast, shows in its mtime.
    fn backdate(path: &Path) {
        let file = File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + OLD).unwrap();
    }

    fn mtime(path: &Path) -> SystemTime {
        fs::metadata(path).unwrap().modified().unwrap()
    }

    const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n";

    fn stats(written: usize, removed: usize) -> SyncStats {
        SyncStats { written, removed }
    }

    /// A workspace with a build dir, a nested package with its own, VCS files, ignored files
    /// and a lock file the ignore rules name.
    fn write_workspace(src: &Path) {
        write(&src.join("Cargo.toml"), "[package]\nname = \"ws\"\n");
        write(&src.join("src/lib.rs"), "pub fn a() {}\n");
        write(&src.join("src/util.rs"), "pub fn b() {}\n");
        write(&src.join(".cargo/config.toml"), "[build]\n");
        write(&src.join(".git/HEAD"), "ref: refs/heads/main\n");
        write(&src.join(".gitignore"), "/ignored.txt\nCargo.lock\n");
        write(&src.join("ignored.txt"), "not copied");
        write(&src.join("Cargo.lock"), "# copied although ignored\n");
        write(&src.join("target/CACHEDIR.TAG"), TAG);
        write(&src.join("target/debug/out"), "build output");
        write(
            &src.join("fixtures/x/Cargo.toml"),
            "[package]\nname = \"x\"\n",
        );
        write(&src.join("fixtures/x/target/CACHEDIR.TAG"), TAG);
        write(&src.join("fixtures/x/target/debug/out"), "build output");
    }

    #[test]
    fn sync_writes_only_changes_and_mirrors_removals() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("ws");
        write_workspace(&src);
        let dest = src.join("target/testsmith/scratch");
        let skip = [src.join("target")];

        let first = sync(&src, &skip, &dest).unwrap();
        let copied = set(&[
            ".cargo/config.toml",
            ".gitignore",
            "Cargo.lock",
            "Cargo.toml",
            "fixtures/x/Cargo.toml",
            "src/lib.rs",
            "src/util.rs",
        ]);
        assert_eq!(listing(&dest), copied);
        assert_eq!(first, stats(7, 0));

        for rel in &copied {
            backdate(&dest.join(rel));
        }
        assert_eq!(sync(&src, &skip, &dest).unwrap(), SyncStats::default());
        for rel in &copied {
            assert_eq!(
                mtime(&dest.join(rel)),
                SystemTime::UNIX_EPOCH + OLD,
                "{rel}"
            );
        }

        write(&src.join("src/lib.rs"), "pub fn a() -> u8 { 1 }\n");
        let edited = sync(&src, &skip, &dest).unwrap();
        assert_eq!(edited, stats(1, 0));
        assert_eq!(
            fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
            "pub fn a() -> u8 { 1 }\n"
        );
        assert_ne!(
            mtime(&dest.join("src/lib.rs")),
            SystemTime::UNIX_EPOCH + OLD
        );
        assert_eq!(
            mtime(&dest.join("src/util.rs")),
            SystemTime::UNIX_EPOCH + OLD
        );

        fs::remove_file(src.join("src/util.rs")).unwrap();
        let deleted = sync(&src, &skip, &dest).unwrap();
        assert_eq!(deleted, stats(0, 1));
        assert!(!dest.join("src/util.rs").exists());

        // A lock file cargo generated in the copy stays while its manifest is copied; what a
        // test planted goes, a cache dir tag or a cargo config in it included.
        write(&dest.join("fixtures/x/Cargo.lock"), "# generated\n");
        write(&dest.join("build/CACHEDIR.TAG"), TAG);
        write(&dest.join("build/.cargo/config.toml"), "[build]\n");
        assert_eq!(sync(&src, &skip, &dest).unwrap(), stats(0, 2));
        assert!(dest.join("fixtures/x/Cargo.lock").exists());
        assert!(!dest.join("build").exists());

        fs::remove_dir_all(src.join("fixtures")).unwrap();
        let gone = sync(&src, &skip, &dest).unwrap();
        assert_eq!(gone, stats(0, 2));
        assert!(!dest.join("fixtures").exists());
    }

    #[test]
    fn sync_creates_dest_and_refuses_one_holding_the_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("ws");
        write(&src.join("src/lib.rs"), "");
        let dest = tmp.path().join("a/b/scratch");
        assert_eq!(sync(&src, &[], &dest).unwrap().written, 1);
        assert!(dest.join("src/lib.rs").is_file());

        let err = sync(&src, &[], tmp.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(src.join("src/lib.rs").is_file());
    }

    #[cfg(unix)]
    #[test]
    fn sync_copies_link_targets_bytes_and_modes() {
        use std::os::unix::fs::{PermissionsExt, symlink};

        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("ws");
        let outside = tmp.path().join("outside");
        write(&outside.join("data.rs"), "outside");
        write(&src.join("real.txt"), "real");
        symlink("real.txt", src.join("link.txt")).unwrap();
        symlink(&outside, src.join("outside_dir")).unwrap();
        symlink("nowhere", src.join("dangling")).unwrap();
        write(&src.join("bytes.bin"), [0xff, 0xfe, 0, 1]);
        write(&src.join("script.sh"), "#!/bin/sh\n");
        fs::set_permissions(src.join("script.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        write(&src.join("frozen.txt"), "frozen");
        fs::set_permissions(src.join("frozen.txt"), fs::Permissions::from_mode(0o444)).unwrap();
        let dest = tmp.path().join("scratch");

        sync(&src, &[], &dest).unwrap();
        assert_eq!(
            listing(&dest),
            set(&[
                "bytes.bin",
                "frozen.txt",
                "link.txt",
                "real.txt",
                "script.sh"
            ])
        );
        assert!(
            fs::symlink_metadata(dest.join("link.txt"))
                .unwrap()
                .is_file()
        );
        assert_eq!(fs::read(dest.join("link.txt")).unwrap(), b"real");
        assert_eq!(
            fs::read(dest.join("bytes.bin")).unwrap(),
            [0xff, 0xfe, 0, 1]
        );
        let mode = |rel: &str| fs::metadata(dest.join(rel)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("script.sh"), 0o755);
        assert_eq!(mode("frozen.txt"), 0o644);

        // A link in the copy is replaced, not written through.
        fs::remove_file(dest.join("real.txt")).unwrap();
        symlink(outside.join("data.rs"), dest.join("real.txt")).unwrap();
        assert_eq!(sync(&src, &[], &dest).unwrap().written, 1);
        assert_eq!(fs::read(outside.join("data.rs")).unwrap(), b"outside");
        assert!(
            fs::symlink_metadata(dest.join("real.txt"))
                .unwrap()
                .is_file()
        );

        fs::set_permissions(src.join("frozen.txt"), fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(src.join("frozen.txt"), "thawed").unwrap();
        fs::set_permissions(src.join("frozen.txt"), fs::Permissions::from_mode(0o444)).unwrap();
        assert_eq!(sync(&src, &[], &dest).unwrap().written, 1);
        assert_eq!(fs::read(dest.join("frozen.txt")).unwrap(), b"thawed");
    }

    /// How toml_edit writes `path` as a string value.
    fn quoted(path: &Path) -> String {
        Value::from(path.to_str().unwrap()).to_string()
    }

    #[test]
    fn sync_rewrites_manifest_paths_that_leave_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("ws");
        let root = r#"# The workspace root.
[workspace]
members = ["alpha"]

[workspace.dependencies]
shared = { path = "../shared" } # beside the workspace

[package]
name = "ws"
version = "0.1.0"
edition = "2024"

[dependencies]
alpha = { path = "alpha" }
outside = { path = "../outside", version = "0.1" }
vendored = { path = "vendor/v" }

[dependencies.tabled]
# a table of its own
path = "../tabled"

[target.'cfg(unix)'.dev-dependencies]
unixy = { path = "../unixy" }

[patch.crates-io]
serde = { path = "../serde" }
"#;
        let alpha = r#"[package]
name = "alpha"

[dependencies]
ws = { path = ".." }
again = { path = "../../ws" }
beta = { path = "../../beta" }

[lib]
path = "../../shared_src/lib.rs"

[[bin]]
name = "tool"
path = "src/main.rs"
"#;
        let broken = "[package\npath = \"../x\"\n";
        write(&src.join("Cargo.toml"), root);
        write(&src.join("alpha/Cargo.toml"), alpha);
        write(&src.join("alpha/src/main.rs"), "fn main() {}\n");
        write(&src.join("broken/Cargo.toml"), broken);
        write(&src.join(".git/HEAD"), "ref: refs/heads/main\n");
        write(&src.join(".gitignore"), "/vendor/\n");
        write(
            &src.join("vendor/v/Cargo.toml"),
            "[package]\nname = \"v\"\n",
        );
        let dest = src.join("target/testsmith/scratch");

        sync(&src, &[src.join("target")], &dest).unwrap();
        let at = |name: &str| quoted(&tmp.path().join(name));
        let expected_root = root
            .replace(r#""../shared""#, &at("shared"))
            .replace(r#""../outside""#, &at("outside"))
            .replace(r#""vendor/v""#, &quoted(&src.join("vendor/v")))
            .replace(r#""../tabled""#, &at("tabled"))
            .replace(r#""../unixy""#, &at("unixy"))
            .replace(r#""../serde""#, &at("serde"));
        assert_ne!(expected_root, root);
        assert_eq!(
            fs::read_to_string(dest.join("Cargo.toml")).unwrap(),
            expected_root
        );
        let expected_alpha = alpha
            .replace(r#""../../ws""#, r#""..""#)
            .replace(r#""../../beta""#, &at("beta"))
            .replace(r#""../../shared_src/lib.rs""#, &at("shared_src/lib.rs"));
        assert_eq!(
            fs::read_to_string(dest.join("alpha/Cargo.toml")).unwrap(),
            expected_alpha
        );
        assert_eq!(
            fs::read_to_string(dest.join("broken/Cargo.toml")).unwrap(),
            broken
        );
        assert!(!dest.join("vendor").exists());
        // The rewritten manifests compare equal next time: nothing is written.
        assert_eq!(
            sync(&src, &[src.join("target")], &dest).unwrap(),
            SyncStats::default()
        );
    }

    #[test]
    fn files_the_caller_owns_are_copied_only_when_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dest) = (tmp.path().join("ws"), tmp.path().join("copy"));
        write(&src.join("src/lib.rs"), "pub fn a() {}\n");
        write(&src.join("src/other.rs"), "pub fn b() {}\n");
        let own = HashSet::from([PathBuf::from("src/lib.rs")]);
        sync_keeping(&src, &[], &dest, &own).unwrap();
        assert_eq!(
            fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
            "pub fn a() {}\n"
        );
        // The last run's spliced version stays; a file not owned is reset.
        write(
            &dest.join("src/lib.rs"),
            "pub fn a() {}\nmod testsmith_tests {}\n",
        );
        write(&dest.join("src/other.rs"), "changed\n");
        let stats = sync_keeping(&src, &[], &dest, &own).unwrap();
        assert_eq!(stats.written, 1);
        assert!(
            fs::read_to_string(dest.join("src/lib.rs"))
                .unwrap()
                .contains("testsmith_tests")
        );
        assert_eq!(
            fs::read_to_string(dest.join("src/other.rs")).unwrap(),
            "pub fn b() {}\n"
        );
        // Without ownership it is a plain sync.
        sync(&src, &[], &dest).unwrap();
        assert_eq!(
            fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
            "pub fn a() {}\n"
        );
    }

    #[test]
    fn put_leaves_equal_contents_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let rel = Path::new("src/tests.rs");
        assert!(put(tmp.path(), rel, "one").unwrap());
        let path = tmp.path().join(rel);
        backdate(&path);
        assert!(!put(tmp.path(), rel, "one").unwrap());
        assert_eq!(mtime(&path), SystemTime::UNIX_EPOCH + OLD);
        let mut readonly = fs::metadata(&path).unwrap().permissions();
        readonly.set_readonly(true);
        fs::set_permissions(&path, readonly).unwrap();
        assert!(put(tmp.path(), rel, "two").unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_ne!(mtime(&path), SystemTime::UNIX_EPOCH + OLD);
    }

    #[test]
    fn the_copy_builds_with_cargo() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let manifest = |name: &str, deps: &str| {
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
            )
        };
        write(&tmp.path().join("dep/Cargo.toml"), manifest("dep", ""));
        write(
            &tmp.path().join("dep/src/lib.rs"),
            "pub fn answer() -> u32 { 42 }\n",
        );
        write(
            &ws.join("Cargo.toml"),
            manifest("ws", "dep = { path = \"../dep\" }\n"),
        );
        write(
            &ws.join("src/lib.rs"),
            "pub fn twice() -> u32 { dep::answer() * 2 }\n",
        );
        let dest = ws.join("target/testsmith/scratch");
        let skip = [ws.join("target")];
        sync(&ws, &skip, &dest).unwrap();

        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = std::process::Command::new(cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(&dest)
            .env("CARGO_TARGET_DIR", tmp.path().join("build"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(dest.join("Cargo.lock").is_file());
        // The lock file cargo generated in the copy survives the next sync.
        assert_eq!(sync(&ws, &skip, &dest).unwrap(), SyncStats::default());
        assert!(dest.join("Cargo.lock").is_file());
    }

    #[test]
    fn lock_waits_for_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("testsmith");
        let first = lock(&dir).unwrap();
        let probe = File::open(dir.join("scratch.lock")).unwrap();
        assert!(matches!(
            probe.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));

        let (sender, receiver) = mpsc::channel();
        let waiter = std::thread::spawn({
            let dir = dir.clone();
            move || {
                let second = lock(&dir).unwrap();
                sender.send(()).unwrap();
                second
            }
        });
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(300)),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        drop(first);
        receiver.recv_timeout(Duration::from_secs(10)).unwrap();
        let second = waiter.join().unwrap();
        assert!(matches!(
            probe.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(second);
        probe.try_lock().unwrap();
    }
}
