//! Subprocesses that cannot outlive us. Test binaries and cargo start children of their own
//! (a test's server, rustc, build scripts), so killing the one process we started is not enough:
//! each child leads its own process group, and the group is what gets killed.
//!
//! A child in its own group is not in the terminal's foreground group: Ctrl-C reaches only us
//! (we drop the child and so kill its group), and a read from the terminal would stop it
//! (`SIGTTIN`) — give it a stdin of its own.

use std::io;
use std::process::ExitStatus;

use tokio::process::{ChildStderr, ChildStdout, Command};

/// A child in its own process group (unix), killed — the whole group, `SIGKILL` — when dropped
/// before it was reaped: a timeout, Ctrl-C (the caller drops the future), or an error.
pub struct Child {
    inner: tokio::process::Child,
    /// The group's id: the leader's pid, kept after it was reaped (see [`Child::kill_group`]).
    #[cfg(unix)]
    group: i32,
}

/// Spawn `command` as the leader of a new process group.
pub fn spawn(mut command: Command) -> io::Result<Child> {
    #[cfg(unix)]
    command.process_group(0);
    // Also kills the leader where there are no groups; tokio reaps what it kills on drop.
    command.kill_on_drop(true);
    let inner = command.spawn()?;
    Ok(Child {
        #[cfg(unix)]
        group: inner
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| io::Error::other("spawned child has no pid"))?,
        inner,
    })
}

impl Child {
    /// The child's stdout, if it was piped; the first call takes it.
    pub fn stdout(&mut self) -> Option<ChildStdout> {
        self.inner.stdout.take()
    }

    /// The child's stderr, if it was piped; the first call takes it.
    pub fn stderr(&mut self) -> Option<ChildStderr> {
        self.inner.stderr.take()
    }

    /// Wait for the leader to exit and reap it. Cancel safe. The rest of its group is left
    /// alone: cargo's children may be meant to outlive it (a compiler cache's server).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.inner.wait().await
    }

    /// `SIGKILL` the whole group, without waiting. Also after the leader was reaped, to kill what
    /// it left behind: a group's id is not reused as a pid while the group has members (POSIX),
    /// and once it has none the signal finds nothing — unless, in between, the pid space wrapped
    /// around and the new owner of that pid made itself a group leader.
    pub fn kill_group(&mut self) {
        #[cfg(unix)]
        {
            // A group id of 0 or 1 would mean our own group or every process; `spawn` never
            // gives one, but the check is cheap.
            if self.group > 1 {
                // SAFETY: kill(2) takes plain integers and touches no memory of ours.
                unsafe {
                    libc::kill(-self.group, libc::SIGKILL);
                }
            }
        }
        #[cfg(not(unix))]
        let _ = self.inner.start_kill();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // `id` is `None` once the leader was reaped: the group was then the caller's to kill.
        if self.inner.id().is_some() {
            self.kill_group();
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncBufReadExt, BufReader};

    use super::*;

    /// Whether `pid` is a live process. A killed process stays a zombie until its parent (here,
    /// after the shell died, whoever adopts orphans) reaps it, and a zombie is as good as gone.
    fn alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } != 0 {
            return false;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the parenthesized command name.
            Ok(stat) => !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
            Err(_) => true,
        }
    }

    async fn wait_gone(pid: i32) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if !alive(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    #[tokio::test]
    async fn dropping_a_child_kills_its_whole_group() {
        let mut command = Command::new("sh");
        command
            .args(["-c", "sleep 100 & echo $!; sleep 100"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut child = spawn(command).unwrap();
        let leader = child.inner.id().unwrap() as i32;
        let mut stdout = BufReader::new(child.stdout().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).await.unwrap();
        let grandchild: i32 = line.trim().parse().unwrap();
        assert!(alive(grandchild), "the background sleep runs");

        drop(child);
        assert!(
            wait_gone(grandchild).await,
            "grandchild {grandchild} survived"
        );
        assert!(wait_gone(leader).await, "leader {leader} survived");
    }

    #[tokio::test]
    async fn a_reaped_child_is_left_alone_on_drop_but_kill_group_still_reaches_its_group() {
        let mut command = Command::new("sh");
        command
            .args(["-c", "sleep 100 & echo $!"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut child = spawn(command).unwrap();
        let mut stdout = BufReader::new(child.stdout().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).await.unwrap();
        let grandchild: i32 = line.trim().parse().unwrap();
        assert!(child.wait().await.unwrap().success());
        assert!(
            alive(grandchild),
            "the leader's exit leaves the group alone"
        );
        child.kill_group();
        assert!(
            wait_gone(grandchild).await,
            "grandchild {grandchild} survived"
        );
    }
}
