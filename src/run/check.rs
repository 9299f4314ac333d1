//! What `--check` adds to a run: the `PATH`s that reach no selected target, and the one line
//! a failed check ends with.

use std::path::PathBuf;

use crate::console::{Console, shell_word};
use crate::error::Warning;
use crate::event::Tally;
use crate::options::Options;
use crate::scan::Scan;
use crate::workspace::Workspace;

/// The `PATH…` arguments that reach a file of a selected target (as the user wrote them, for
/// the hint); each of the others is warned about. Paths of the packages' other targets
/// (`tests/`, `examples/`, `benches/`, `build.rs`), which a pre-commit hook passes along, are
/// left out quietly: not an error, and not checked either.
pub(super) fn paths_in_targets<'a>(
    options: &'a Options,
    canonical: &[PathBuf],
    scan: &Scan,
    workspace: &Workspace,
    console: &Console,
    tally: &mut Tally,
) -> Vec<&'a PathBuf> {
    let mut given = Vec::new();
    for (path, canonical) in options.paths.iter().zip(canonical) {
        if scan.reached.iter().any(|file| file.starts_with(canonical)) {
            given.push(path);
        } else if !workspace.packages.iter().any(|package| {
            package.other_roots.contains(canonical)
                || ["tests", "examples", "benches"]
                    .iter()
                    .any(|dir| canonical.starts_with(package.root.join(dir)))
        }) {
            let path = path.display().to_string();
            super::warn(console, tally, &Warning::NotInTarget { path });
        }
    }
    given
}

/// The one line `--check` ends with: the command that writes the missing tests, with the
/// selection the user gave, and what to do about scaffolds.
pub(super) fn hint(options: &Options, given: &[&PathBuf], tally: &Tally) -> Option<String> {
    let missing = tally.tests - tally.scaffolded.min(tally.tests);
    let scaffolds = "replace the `todo!()` of each scaffold with assertions";
    if missing == 0 {
        return (tally.scaffolded > 0).then(|| scaffolds.to_owned());
    }
    let mut words = vec!["cargo".to_owned(), "testsmith".to_owned()];
    words.extend(options.selection_args());
    words.extend(given.iter().map(|path| path.display().to_string()));
    let command: Vec<String> = words.iter().map(|word| shell_word(word)).collect();
    let them = if tally.scaffolded > 0 {
        "the missing ones"
    } else {
        "them"
    };
    let mut hint = format!(
        "run `{}` to write {them} from what the code does (or add --llm for a model's)",
        command.join(" ")
    );
    if tally.scaffolded > 0 {
        hint.push_str(", and ");
        hint.push_str(scaffolds);
    }
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::Changes;
    use crate::options::{Color, ConsoleOptions, MessageFormat, Mode};

    fn options() -> Options {
        Options {
            selection: Default::default(),
            paths: Vec::new(),
            mode: Mode::Check,
            scaffolds: false,
            console: ConsoleOptions {
                quiet: false,
                verbose: false,
                color: Color::Never,
                format: MessageFormat::Human,
            },
            llm: None,
            verify: Default::default(),
            changes: None,
        }
    }

    #[test]
    fn the_hint_repeats_the_selection_and_names_scaffolds() {
        let mut options = options();
        options.selection.packages = vec!["my app".to_owned()];
        options.changes = Some(Changes::Since("origin/main".to_owned()));
        let path = PathBuf::from("src/lib.rs");
        let tally = Tally {
            tests: 2,
            ..Tally::default()
        };
        assert_eq!(
            hint(&options, &[&path], &tally).as_deref(),
            Some(
                "run `cargo testsmith -p 'my app' --since origin/main src/lib.rs` to write them from what the code does (or add --llm for a model's)"
            )
        );
        let both = Tally {
            tests: 3,
            scaffolded: 1,
            ..Tally::default()
        };
        let text = hint(&options, &[], &both).unwrap();
        assert!(text.ends_with("to write the missing ones from what the code does (or add --llm for a model's), and replace the `todo!()` of each scaffold with assertions"), "{text}");
        let only_scaffolds = Tally {
            tests: 1,
            scaffolded: 1,
            ..Tally::default()
        };
        assert_eq!(
            hint(&options, &[], &only_scaffolds).as_deref(),
            Some("replace the `todo!()` of each scaffold with assertions")
        );
        assert_eq!(hint(&options, &[], &Tally::default()), None);
    }
}
