//! Find the packages to work on and their lib and bin targets, the way `cargo test` selects
//! them. The interface to `cargo metadata` (through the cargo_metadata crate) is localized here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package};

use crate::error::Error;

/// Which packages to work on: `--manifest-path`, `-p`, `--workspace`, `--exclude`.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub manifest_path: Option<PathBuf>,
    pub packages: Vec<String>,
    pub workspace: bool,
    pub exclude: Vec<String>,
}

/// The selected packages of one workspace.
#[derive(Debug)]
pub struct Workspace {
    /// Canonical path of the workspace root directory.
    pub root: PathBuf,
    pub packages: Vec<PackageSources>,
    /// Specs given to `--exclude` that named no member.
    pub unknown_excludes: Vec<String>,
    /// Cargo's target directory (where the LLM cache lives by default).
    pub target_dir: PathBuf,
    /// Cargo's build directory (`build.build-dir`, the target dir unless configured): the
    /// intermediate artifacts, dependencies included, that the scratch build shares.
    pub build_dir: PathBuf,
    /// `[workspace.metadata.testsmith]`, overlaid with `[package.metadata.testsmith]` when a
    /// single package is selected.
    pub config: serde_json::Value,
}

/// One package and its lib and bin targets.
#[derive(Debug)]
pub struct PackageSources {
    pub name: String,
    /// Canonical path of the directory holding the package's `Cargo.toml`.
    pub root: PathBuf,
    pub targets: Vec<Target>,
    /// Root files of the package's other targets (tests, examples, benches, build script): a
    /// path among them is not one testsmith works on, and not a mistake either.
    pub other_roots: Vec<PathBuf>,
    /// Crates a test may use: dependencies and dev-dependencies, as they are named in code.
    pub crates: Vec<String>,
    /// The crate roots of its integration tests (`tests/*.rs` and `[[test]]` paths).
    pub test_roots: Vec<PathBuf>,
    /// The lib target's name as code spells it (`my_crate`), when there is a lib.
    pub lib_name: Option<String>,
    /// It can run `#[tokio::test]`: tokio with its `macros` and a runtime is a dependency.
    pub tokio_test: bool,
    /// `[features]`: each feature and what it enables (`other`, `dep:x`, `x/feature`), with
    /// the implicit feature of each optional dependency; `default` among them.
    pub features: BTreeMap<String, Vec<String>>,
}

/// A lib or bin target: the crates whose unit tests testsmith writes.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    /// Canonical path of the crate root file (`src/lib.rs`, `src/main.rs`, `src/bin/x.rs`).
    pub root: PathBuf,
    /// The target's edition (2015, 2018, 2021, 2024, …).
    pub edition: u16,
    /// `required-features`: cargo builds the target only with them on.
    pub required_features: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Lib,
    Bin,
}

/// Run `cargo metadata` (without resolving dependencies: no network, no lock file needed) and
/// select packages.
pub fn load(selection: &Selection) -> Result<Workspace, Error> {
    let mut command = MetadataCommand::new();
    command.no_deps();
    if let Some(path) = &selection.manifest_path {
        command.manifest_path(path);
    }
    let metadata = command.exec().map_err(|err| match err {
        cargo_metadata::Error::CargoMetadata { stderr } => Error::Metadata(cargo_reason(&stderr)),
        other => Error::Metadata(other.to_string()),
    })?;
    let (packages, unknown_excludes) = select(&metadata, selection)?;
    let root = canonical(metadata.workspace_root.as_std_path());
    let mut config = metadata
        .workspace_metadata
        .get("testsmith")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    if let [package] = packages.as_slice()
        && let (Some(own), Some(table)) =
            (package.metadata.get("testsmith"), config.as_object_mut())
        && let Some(own) = own.as_object()
    {
        table.extend(own.clone());
    }
    let packages = packages
        .into_iter()
        .map(|package| {
            let manifest = package.manifest_path.as_std_path();
            PackageSources {
                name: package.name.to_string(),
                root: canonical(manifest.parent().unwrap_or(manifest)),
                targets: package
                    .targets
                    .iter()
                    .filter(|t| t.is_bin() || is_library(t))
                    .map(|t| Target {
                        name: t.name.clone(),
                        kind: if t.is_bin() {
                            TargetKind::Bin
                        } else {
                            TargetKind::Lib
                        },
                        root: canonical(t.src_path.as_std_path()),
                        edition: t.edition.as_str().parse().unwrap_or(2021),
                        required_features: t.required_features.clone(),
                    })
                    .collect(),
                other_roots: package
                    .targets
                    .iter()
                    .filter(|t| !t.is_bin() && !is_library(t))
                    .map(|t| canonical(t.src_path.as_std_path()))
                    .collect(),
                crates: crate_names(package),
                test_roots: package
                    .targets
                    .iter()
                    .filter(|t| t.is_test())
                    .map(|t| canonical(t.src_path.as_std_path()))
                    .collect(),
                tokio_test: can_run_tokio_tests(package),
                features: package.features.clone().into_iter().collect(),
                lib_name: package
                    .targets
                    .iter()
                    .find(|t| is_library(t))
                    .map(|t| t.name.replace('-', "_")),
            }
        })
        .collect();
    Ok(Workspace {
        root,
        packages,
        unknown_excludes,
        target_dir: metadata.target_directory.clone().into_std_path_buf(),
        // Cargo before 1.91 does not say; its build dir is the target dir.
        build_dir: metadata
            .build_directory
            .as_ref()
            .unwrap_or(&metadata.target_directory)
            .clone()
            .into_std_path_buf(),
        config,
    })
}

/// What a test build on this machine sets besides features, as `rustc --print cfg` says
/// (`unix`, `target_os = "linux"`), with `test`.
#[derive(Debug, Default)]
pub struct HostCfg {
    pub names: BTreeSet<String>,
    pub pairs: BTreeSet<(String, String)>,
}

/// Ask the toolchain the workspace builds with (`$RUSTC`, or rustup's choice for the root)
/// what it sets, with the `--cfg`s and target features of `RUSTFLAGS` (or cargo's encoded
/// form) and `CARGO_BUILD_TARGET`'s target. A toolchain that cannot be asked is answered for
/// by the facts this binary was built under, most likely the same machine's. Not read:
/// rustflags and a target set in `.cargo/config.toml`.
pub fn host_cfg(root: &Path) -> HostCfg {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut flags = rustflags(
        std::env::var("CARGO_ENCODED_RUSTFLAGS").ok(),
        std::env::var("RUSTFLAGS").ok(),
    );
    if let Ok(target) = std::env::var("CARGO_BUILD_TARGET") {
        flags.extend(["--target".to_owned(), target]);
    }
    let ask = |flags: &[String]| {
        std::process::Command::new(&rustc)
            .args(["--print", "cfg"])
            .args(flags)
            .current_dir(root)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    // Flags rustc refuses here (a linker's) are the build's business, not the cfgs'.
    let printed = ask(&flags).or_else(|| ask(&[]));
    let mut host = match printed {
        Some(text) => parse_cfg_print(&text),
        None => built_for(),
    };
    // `cargo test` builds the test profile: `test` always, debug assertions by default.
    host.names.insert("test".to_owned());
    host
}

/// The flags cargo passes rustc: `CARGO_ENCODED_RUSTFLAGS` (split on `\x1f`) where set, else
/// `RUSTFLAGS` (split on spaces), as cargo reads them.
fn rustflags(encoded: Option<String>, plain: Option<String>) -> Vec<String> {
    match (encoded, plain) {
        (Some(encoded), _) if !encoded.is_empty() => {
            encoded.split('\x1f').map(str::to_owned).collect()
        }
        (_, Some(plain)) => plain.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The lines of `rustc --print cfg`: `unix`, `target_os="linux"`.
fn parse_cfg_print(text: &str) -> HostCfg {
    let mut host = HostCfg::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once('=') {
            Some((key, value)) => {
                let value = value.trim_matches('"').to_owned();
                host.pairs.insert((key.to_owned(), value));
            }
            None => {
                host.names.insert(line.to_owned());
            }
        }
    }
    host
}

/// The facts this binary was compiled under.
fn built_for() -> HostCfg {
    use std::env::consts::{ARCH, FAMILY, OS};
    let pairs = [
        ("target_os", OS.to_owned()),
        ("target_family", FAMILY.to_owned()),
        ("target_arch", ARCH.to_owned()),
        ("target_pointer_width", usize::BITS.to_string()),
        ("panic", "unwind".to_owned()),
    ];
    HostCfg {
        names: [FAMILY, "debug_assertions"].map(str::to_owned).into(),
        pairs: pairs.map(|(k, v)| (k.to_owned(), v)).into(),
    }
}

/// Normal and dev dependencies, by the name code uses (`rename`, `-` as `_`).
fn crate_names(package: &Package) -> Vec<String> {
    use cargo_metadata::DependencyKind as K;
    let mut names: Vec<String> = package
        .dependencies
        .iter()
        .filter(|d| matches!(d.kind, K::Normal | K::Development))
        .map(|d| d.rename.as_deref().unwrap_or(&d.name).replace('-', "_"))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether tokio is a normal or dev dependency with the features `#[tokio::test]` needs.
fn can_run_tokio_tests(package: &Package) -> bool {
    use cargo_metadata::DependencyKind as K;
    package.dependencies.iter().any(|d| {
        let has = |f: &str| d.features.iter().any(|g| g == f || g == "full");
        // An optional tokio is there only under a feature the test build may not enable.
        d.name == "tokio"
            && d.rename.is_none()
            && !d.optional
            && matches!(d.kind, K::Normal | K::Development)
            && has("macros")
            && (has("rt") || has("rt-multi-thread"))
    })
}

/// Lib targets come in several kinds (`lib`, `rlib`, `cdylib`, `proc-macro`, …).
fn is_library(target: &cargo_metadata::Target) -> bool {
    use cargo_metadata::TargetKind as K;
    target.kind.iter().any(|k| {
        matches!(
            k,
            K::Lib | K::RLib | K::DyLib | K::CDyLib | K::StaticLib | K::ProcMacro
        )
    })
}

/// cargo's own reason, without its `error: ` prefix (ours is added when printed).
fn cargo_reason(stderr: &str) -> String {
    let text = stderr.trim();
    text.strip_prefix("error: ").unwrap_or(text).to_owned()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

fn select<'m>(
    metadata: &'m Metadata,
    selection: &Selection,
) -> Result<(Vec<&'m Package>, Vec<String>), Error> {
    let members = metadata.workspace_packages();
    if !selection.packages.is_empty() {
        let mut chosen = Vec::new();
        for spec in &selection.packages {
            let package = members
                .iter()
                .find(|p| matches_spec(p, spec))
                .ok_or_else(|| Error::UnknownPackage(spec.clone()))?;
            if !chosen.iter().any(|c: &&Package| c.id == package.id) {
                chosen.push(*package);
            }
        }
        return Ok((chosen, Vec::new()));
    }
    if selection.workspace {
        let unknown = selection
            .exclude
            .iter()
            .filter(|spec| !members.iter().any(|p| matches_spec(p, spec)))
            .cloned()
            .collect();
        let chosen = members
            .into_iter()
            .filter(|p| !selection.exclude.iter().any(|spec| matches_spec(p, spec)))
            .collect();
        return Ok((chosen, unknown));
    }
    if let Some(package) = current_package(metadata, selection) {
        return Ok((vec![package], Vec::new()));
    }
    // A virtual manifest: its default members, as `cargo test` does.
    let defaults = if metadata.workspace_default_members.is_available() {
        metadata.workspace_default_packages()
    } else {
        members
    };
    Ok((defaults, Vec::new()))
}

/// The package whose manifest is the one cargo would use: `--manifest-path`, or the nearest
/// `Cargo.toml` above the current directory.
fn current_package<'m>(metadata: &'m Metadata, selection: &Selection) -> Option<&'m Package> {
    let manifest = match &selection.manifest_path {
        Some(path) => canonical(path),
        None => {
            let cwd = std::env::current_dir().ok()?;
            cwd.ancestors()
                .map(|dir| dir.join("Cargo.toml"))
                .find(|candidate| candidate.is_file())
                .map(|path| canonical(&path))?
        }
    };
    metadata
        .workspace_packages()
        .into_iter()
        .find(|p| canonical(p.manifest_path.as_std_path()) == manifest)
}

/// `name` or `name@version`, like cargo's package ID specs in their common forms.
fn matches_spec(package: &Package, spec: &str) -> bool {
    match spec.split_once('@') {
        Some((name, version)) => {
            package.name.as_str() == name && package.version.to_string() == version
        }
        None => package.name.as_str() == spec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cfgs_rustflags_give_are_read_as_cargo_reads_them() {
        let plain = rustflags(None, Some("--cfg fast_path  -C opt-level=1".to_owned()));
        assert_eq!(plain, ["--cfg", "fast_path", "-C", "opt-level=1"]);
        let encoded = rustflags(
            Some("--cfg\x1fkind=\"a b\"".to_owned()),
            Some("--cfg ignored".to_owned()),
        );
        assert_eq!(encoded, ["--cfg", "kind=\"a b\""]);
        assert!(rustflags(None, None).is_empty());
        let printed = parse_cfg_print("fast_path\ntarget_os=\"linux\"\n");
        assert!(printed.names.contains("fast_path"));
        assert!(
            printed
                .pairs
                .contains(&("target_os".to_owned(), "linux".to_owned()))
        );
    }

    #[test]
    fn the_toolchain_and_the_fallback_agree_on_what_a_test_build_sets() {
        let os = ("target_os".to_owned(), std::env::consts::OS.to_owned());
        let mut fallback = built_for();
        fallback.names.insert("test".to_owned());
        for host in [host_cfg(Path::new(".")), fallback] {
            assert!(host.names.contains("test"));
            assert_eq!(host.names.contains("unix"), cfg!(unix));
            assert_eq!(host.names.contains("windows"), cfg!(windows));
            assert!(host.pairs.contains(&os), "{host:?}");
        }
    }
}
