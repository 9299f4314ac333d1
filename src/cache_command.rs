//! `cargo testsmith cache stats|clear`: the LLM cache's entries counted or removed. A
//! `--cache-dir` needs no workspace: the cache may have been moved out of every crate.

use crate::console::Console;
use crate::error::Error;
use crate::event::{Event, Reporter};
use crate::llm;
use crate::options::{CacheAction, CacheCommand};
use crate::scan;
use crate::workspace;

pub fn run(command: &CacheCommand) -> Result<(), Error> {
    let console = Console::new(command.console);
    let (dir, shown) = match &command.dir {
        Some(dir) => (dir.clone(), dir.display().to_string()),
        None => {
            let workspace = workspace::load(&command.selection)?;
            let dir = llm::config::default_cache_dir(&workspace.target_dir);
            let shown = scan::relative(&workspace.root, &dir);
            (dir, shown)
        }
    };
    match command.action {
        CacheAction::Stats => {
            let entries = llm::cache::count_entries(&dir);
            console.report(&Event::CacheEntries {
                entries,
                dir: &shown,
            });
        }
        CacheAction::Clear => {
            let removed = llm::cache::clear(&dir).map_err(|source| Error::Io {
                action: "clear",
                path: dir.clone(),
                source,
            })?;
            console.report(&Event::CacheCleared {
                removed,
                dir: &shown,
            });
        }
    }
    Ok(())
}
