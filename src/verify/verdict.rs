//! What verification decides about each test, as values: why a test was not kept as it was
//! ([`Reason`]), and what became of each test a generator first gave ([`TestVerdict`]). Their
//! `Display` is the text a user reads; nothing parses it back.

use std::fmt;
use std::time::Duration;

/// Why a test failed verification, in words a user acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The compiler's first line about it.
    DoesNotCompile {
        first: String,
    },
    /// Each compiled alone; all of them together do not.
    DoesNotCompileTogether {
        first: Option<String>,
    },
    /// The panic's message, on one line.
    Fails {
        message: String,
    },
    Crashed {
        how: String,
    },
    /// Its process printed what libtest would not have.
    Forged {
        how: String,
    },
    /// It did what a test must not; contained it harmed nothing, in `cargo test` it would.
    Escaped {
        what: String,
    },
    TimedOut {
        after: Duration,
    },
    /// Built, but in no test binary cargo reported.
    NotRun,
    Flaky {
        passed: usize,
        runs: usize,
    },
    /// Passed alone, failed among the crate's other tests.
    FlakyTogether,
    /// Passed among the crate's other tests, where another test of its item failed: what
    /// the item reads is shared, and the pass was luck.
    ItemFlakyTogether,
    /// Passes only in a process of its own, or only among the other candidates: it depends
    /// on what else ran (a `set_var`, a file, a static).
    OrderDependent {
        passes_alone: bool,
    },
    /// Among the crate's other tests it printed no result line of its own.
    NoResultTogether,
    /// The repairer gave nothing for it.
    NoRepair(Box<Reason>),
    /// Repairing it made no progress: the same test again, or the same failure.
    NoProgress {
        reason: Box<Reason>,
        repeated: &'static str,
    },
    /// The test that replaced it failed too, for this reason.
    AfterRepair(Box<Reason>),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::DoesNotCompile { first } => write!(f, "does not compile: {first}"),
            Reason::DoesNotCompileTogether { first: Some(first) } => {
                write!(f, "does not compile with the other tests: {first}")
            }
            Reason::DoesNotCompileTogether { first: None } => {
                f.write_str("does not compile with the other tests")
            }
            Reason::Fails { message } => write!(f, "fails: {message}"),
            Reason::Crashed { how } => write!(f, "crashed: {how}"),
            Reason::Forged { how } => write!(f, "its output is not libtest's own: {how}"),
            Reason::Escaped { what } => {
                write!(
                    f,
                    "{what}; in your own `cargo test` it would run uncontained"
                )
            }
            Reason::TimedOut { after } => write!(f, "timed out after {}", seconds(*after)),
            Reason::NotRun => f.write_str("was not run (not found in any test binary)"),
            Reason::Flaky { passed, runs } => write!(f, "flaky: passed {passed} of {runs} runs"),
            Reason::FlakyTogether => {
                f.write_str("flaky: passes alone but fails when run with the other tests")
            }
            Reason::ItemFlakyTogether => f.write_str(
                "flaky: another test of the item fails when run with the other tests, so what it reads is shared",
            ),
            Reason::OrderDependent { passes_alone: true } => {
                f.write_str("order-dependent: passes alone but not with the other tests")
            }
            Reason::OrderDependent {
                passes_alone: false,
            } => f.write_str("order-dependent: passes with the other tests but not alone"),
            Reason::NoResultTogether => {
                f.write_str("printed no result line when run with the other tests")
            }
            Reason::NoRepair(reason) => write!(f, "{reason} (no repair)"),
            Reason::NoProgress { reason, repeated } => {
                write!(f, "{reason} (no progress: {repeated})")
            }
            Reason::AfterRepair(reason) => write!(f, "{reason} (after repair)"),
        }
    }
}

/// `10 s`, `2.5 s`.
fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

/// What became of one test a generator first gave (its repairs included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestVerdict {
    /// Passed every run as first written.
    Passed,
    /// A repair of it passed every run.
    Repaired,
    /// A scaffold that did not compile, written as its lone `todo!()` form; the compiler's
    /// first line.
    FellBack {
        first: String,
    },
    /// Compiled but failed: written `#[ignore]`d with the reason (`--keep-failing`).
    KeptFailing(Reason),
    Dropped(Reason),
}

impl fmt::Display for TestVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestVerdict::Passed => f.write_str("passed"),
            TestVerdict::Repaired => f.write_str("passed after repair"),
            TestVerdict::FellBack { first } => {
                write!(
                    f,
                    "a lone `todo!()`: the scaffold does not compile ({first})"
                )
            }
            TestVerdict::KeptFailing(reason) => write!(f, "kept #[ignore]d: {reason}"),
            TestVerdict::Dropped(reason) => write!(f, "dropped: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_the_user_is_told_them() {
        let compile = Reason::DoesNotCompile {
            first: "error[E0425]: cannot find value `x`".into(),
        };
        assert_eq!(
            Reason::AfterRepair(Box::new(compile.clone())).to_string(),
            "does not compile: error[E0425]: cannot find value `x` (after repair)"
        );
        assert_eq!(
            Reason::NoRepair(Box::new(Reason::Flaky { passed: 1, runs: 3 })).to_string(),
            "flaky: passed 1 of 3 runs (no repair)"
        );
        assert_eq!(
            Reason::TimedOut {
                after: Duration::from_millis(2500)
            }
            .to_string(),
            "timed out after 2.5 s"
        );
        assert_eq!(
            Reason::TimedOut {
                after: Duration::from_secs(10)
            }
            .to_string(),
            "timed out after 10 s"
        );
        assert_eq!(
            TestVerdict::Dropped(compile).to_string(),
            "dropped: does not compile: error[E0425]: cannot find value `x`"
        );
    }
}
