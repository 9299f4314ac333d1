//! Benchmark: scan + generate over a synthetic workspace of 1,000 files, against a bare
//! `syn::parse_file` of the same files in the same run. Run with
//! `cargo run --release --example scan_bench`; figures go in the README.
//!
//! Both sides read every file from disk. Each is run several times, interleaved, and the median
//! is reported, so the ratio holds on a noisy machine even when the absolute times move.

use std::path::Path;
use std::time::{Duration, Instant};

use cargo_testsmith::generate::Progress;
use cargo_testsmith::generate::ScaffoldGenerator;
use cargo_testsmith::{generate_and_render, plan_all, request_for, scan, splice, workspace};

struct NoProgress;

impl Progress for NoProgress {
    fn file_done(&self, _: &str) {}
}

const FILES: usize = 1000;
const RUNS: usize = 7;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_workspace(dir.path());
    let bytes: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();

    let started = Instant::now();
    let ws = workspace::load(&workspace::Selection {
        manifest_path: Some(dir.path().join("Cargo.toml")),
        ..Default::default()
    })
    .expect("synthetic workspace loads");
    let metadata_time = started.elapsed();

    let mut parse_times = Vec::new();
    let mut testsmith_times = Vec::new();
    let mut tests_generated = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        for file in &files {
            let source = std::fs::read_to_string(file).unwrap();
            std::hint::black_box(syn::parse_file(&source).expect("synthetic files parse"));
            // As the analysis does: without it proc-macro2's span table grows without bound
            // and slows every later parse on this thread.
            proc_macro2::extra::invalidate_current_thread_spans();
        }
        parse_times.push(started.elapsed());

        let started = Instant::now();
        let scan = scan::scan(&ws, &[], &|_| {});
        assert_eq!(scan.files.len(), FILES, "every synthetic file is found");
        let plans = plan_all(&scan, &ws, None);
        let requests: Vec<_> = plans
            .iter()
            .map(|(file, plan)| request_for(file, plan.as_ref().expect("plans"), &scan, &ws))
            .collect();
        let generated = generate_and_render(&requests, &scan, &ScaffoldGenerator, &NoProgress)
            .expect("scaffolds never fail");
        tests_generated = generated.iter().map(|g| g.candidates.len()).sum();
        // Each file's new text, as a run writes it.
        for ((file, _), generated) in plans.iter().zip(&generated) {
            let tests: Vec<_> = generated.candidates.iter().collect();
            std::hint::black_box(splice::splice(
                &file.source,
                file.analysis.existing.as_ref(),
                &tests,
                &file.rules,
            ));
        }
        testsmith_times.push(started.elapsed());
    }
    let parse = median(&mut parse_times);
    let testsmith = median(&mut testsmith_times);
    println!(
        "synthetic workspace: {FILES} files, {} KiB, {tests_generated} tests generated",
        bytes / 1024
    );
    println!(
        "cargo metadata (once, not in the ratio): {:>8.1} ms",
        ms(metadata_time)
    );
    println!(
        "bare syn::parse_file (read + parse):     {:>8.1} ms",
        ms(parse)
    );
    println!(
        "testsmith scan + generate:               {:>8.1} ms",
        ms(testsmith)
    );
    println!(
        "ratio (target <= 1.5x):                  {:>8.2}x",
        ms(testsmith) / ms(parse)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A package whose `lib.rs` declares 999 modules, each a file of typical shape: a type with a
/// derived `Default` and methods, free fns of several signatures, and a test module; every
/// other file also puts its API behind traits (`Display`, `FromStr`, `From`, `Add`,
/// `Iterator`, a trait of its own).
fn write_workspace(root: &Path) -> Vec<std::path::PathBuf> {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"synthetic\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    let mut lib = String::from("//! Synthetic crate for the scan benchmark.\n\n");
    let mut files = vec![root.join("src/lib.rs")];
    for i in 1..FILES {
        lib.push_str(&format!("pub mod m{i:04};\n"));
        let path = root.join(format!("src/m{i:04}.rs"));
        std::fs::write(&path, module_source(i)).unwrap();
        files.push(path);
    }
    lib.push_str(&module_source(0));
    std::fs::write(&files[0], lib).unwrap();
    files
}

fn module_source(i: usize) -> String {
    let mut source = plain_source(i);
    if i.is_multiple_of(2) {
        source.push_str(&trait_source(i));
    }
    source
}

fn trait_source(i: usize) -> String {
    format!(
        r#"
use std::fmt;
use std::str::FromStr;

/// An amount of component {i}.
#[derive(Clone, Copy, Default, PartialEq)]
pub struct Amount{i}(pub i64);

impl fmt::Display for Amount{i} {{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{
        write!(f, "{{}}.{{:02}}", self.0 / 100, self.0 % 100)
    }}
}}

impl FromStr for Amount{i} {{
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {{
        s.replace('.', "").parse().map(Amount{i})
    }}
}}

impl From<i64> for Amount{i} {{
    fn from(cents: i64) -> Self {{
        Amount{i}(cents)
    }}
}}

impl std::ops::Add for Amount{i} {{
    type Output = Amount{i};

    fn add(self, other: Self) -> Self {{
        Amount{i}(self.0 + other.0)
    }}
}}

/// Counts down.
pub struct Countdown{i}(u32);

impl Iterator for Countdown{i} {{
    type Item = u32;

    fn next(&mut self) -> Option<u32> {{
        self.0 = self.0.checked_sub(1)?;
        Some(self.0)
    }}
}}

/// Something that can be shouted.
pub trait Shout{i} {{
    fn shout(&self) -> String;

    fn whisper(&self) -> String {{
        self.shout().to_lowercase()
    }}
}}

impl Shout{i} for str {{
    fn shout(&self) -> String {{
        self.to_uppercase()
    }}
}}
"#
    )
}

fn plain_source(i: usize) -> String {
    format!(
        r#"
use std::collections::HashMap;

/// Settings for component {i}.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Settings{i} {{
    pub name: String,
    pub limit: usize,
    pub weights: Vec<f64>,
}}

impl Settings{i} {{
    /// Builds settings with a name.
    pub fn named(name: &str) -> Self {{
        Settings{i} {{ name: name.to_owned(), ..Default::default() }}
    }}

    pub fn total_weight(&self) -> f64 {{
        self.weights.iter().sum()
    }}

    pub fn push_weight(&mut self, weight: f64) -> usize {{
        self.weights.push(weight);
        self.weights.len()
    }}

    fn validate(&self) -> Result<(), String> {{
        if self.limit == 0 {{ Err(format!("{{}}: limit is zero", self.name)) }} else {{ Ok(()) }}
    }}
}}

pub fn count_words_{i}(text: &str) -> HashMap<String, usize> {{
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {{
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }}
    counts
}}

pub fn clamp_{i}(value: i64, low: i64, high: i64) -> i64 {{
    if value < low {{ low }} else if value > high {{ high }} else {{ value }}
}}

pub fn largest_{i}<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {{
    let mut best: Option<T> = None;
    for &item in items {{
        match best {{
            Some(b) if b >= item => {{}}
            _ => best = Some(item),
        }}
    }}
    best
}}

pub async fn load_{i}(settings: &Settings{i}) -> Result<usize, String> {{
    settings.validate()?;
    Ok(settings.limit)
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn clamps() {{
        assert_eq!(clamp_{i}(5, 0, 3), 3);
        assert_eq!(clamp_{i}(-1, 0, 3), 0);
    }}
}}
"#
    )
}
