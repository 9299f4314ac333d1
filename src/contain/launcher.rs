//! The launcher: a fresh, single-threaded process (our binary run with `LAUNCHER_ARG`) that
//! enters new namespaces, forks the contained process as the first process of its PID
//! namespace, restricts it (rlimits, Landlock) and execs the program; then waits and exits as
//! the program did. Being single-threaded, it may fork and allocate freely, which a
//! `pre_exec` in the multi-threaded tool may not.
//!
//! `--probe` tries each layer in a child of its own and prints what worked.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};
use nix::sched::{CloneFlags, unshare};
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, Signal, raise, signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getgid, getuid};

use super::Layers;
use super::observe::{jump, stmt};

/// How a line of the launcher on the test's stderr starts when it tells what the test tried
/// beyond its sandbox; the rest of the line says what.
pub const ESCAPE: &str = "testsmith launcher: escape: ";

/// Exit status when the launcher itself failed: the program never ran.
const FAILED: i32 = 125;

/// Limits on what one contained process tree may take.
const MAX_FILE: u64 = 1 << 30;
const MAX_DATA: u64 = 8 << 30;
const MAX_PROCESSES: u64 = 4096;

struct Plan {
    namespaces: bool,
    landlock: bool,
    /// Watch what the test tries beyond its sandbox (the probe said this kernel can).
    observe: bool,
    writable: Vec<PathBuf>,
    readable: Vec<PathBuf>,
    program: OsString,
    args: Vec<OsString>,
}

pub(super) fn main(args: Vec<OsString>) -> i32 {
    if args.first().is_some_and(|a| a == "--probe") {
        probe();
        return 0;
    }
    // The tool killed outright (SIGKILL) takes the launcher, and so the namespace, with it.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err()
        || nix::unistd::getppid().as_raw() == 1
    {
        return FAILED;
    }
    let plan = match parse(args) {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("testsmith launcher: {why}");
            return FAILED;
        }
    };
    if !plan.namespaces {
        restrict_and_exec(&plan, None);
    }
    if let Err(why) = enter_namespaces() {
        eprintln!("testsmith launcher: {why}");
        return FAILED;
    }
    let pipes = nix::unistd::pipe().and_then(|status| Ok((status, nix::unistd::pipe()?)));
    let ((read, write), (life_read, life_write)) = match pipes {
        Ok(pipes) => pipes,
        Err(err) => {
            eprintln!("testsmith launcher: pipe: {err}");
            return FAILED;
        }
    };
    // SAFETY: this process is single-threaded (nothing but `main` ran), so the child may do
    // anything the parent could.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop((read, life_write));
            init(&plan, write, life_read)
        }
        Ok(ForkResult::Parent { child }) => {
            drop((write, life_read));
            // Held open while the launcher lives: `init` reads its end of the pipe.
            let _life = life_write;
            relay(child, read)
        }
        Err(err) => {
            eprintln!("testsmith launcher: fork: {err}");
            FAILED
        }
    }
}

/// The first process of the new PID namespace, ours, not the test's: a test that clears its
/// own death signal or calls `setsid` still cannot outlive it, and when it exits the kernel
/// kills everything in the namespace. It runs the program as its child, reaps what is
/// orphaned to it, and tells the launcher how the program ended through `status`.
fn init(plan: &Plan, status: std::os::fd::OwnedFd, life: std::os::fd::OwnedFd) -> ! {
    // The launcher dying (killed with its process group) takes the namespace with it.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() {
        std::process::exit(FAILED);
    }
    // Had it died before that, its end of the pipe is closed: a read sees the end at once.
    if nix::fcntl::fcntl(
        &life,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .is_err()
        || matches!(nix::unistd::read(&life, &mut [0u8; 1]), Ok(0))
    {
        std::process::exit(FAILED);
    }
    // A /proc of the namespace's own: the test sees its own processes only, and the pids the
    // observer is told are the ones /proc knows. Where it cannot be mounted (a container that
    // masks parts of the host's), the test runs unobserved.
    let observed = plan.observe && own_proc().is_ok();
    // The test hands its seccomp listener over this pair, before it execs.
    let channel = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    );
    let Ok((ours, theirs)) = channel else {
        std::process::exit(FAILED)
    };
    // SAFETY: single-threaded, as the launcher was.
    let program = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop((status, life, ours));
            restrict_and_exec(plan, observed.then_some(&theirs))
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(err) => {
            eprintln!("testsmith launcher: fork: {err}");
            std::process::exit(FAILED)
        }
    };
    drop(theirs);
    let listener = if observed {
        super::observe::receive(&ours)
    } else {
        None
    };
    let mut tried = Vec::new();
    let ended = loop {
        if let Some(listener) = &listener {
            super::observe::serve(listener, &plan.writable, &mut tried, 0);
        }
        match waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == program => break format!("exit {code}"),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == program => {
                break format!("signal {}", sig as i32);
            }
            Ok(WaitStatus::StillAlive) => match &listener {
                Some(listener) => super::observe::serve(listener, &plan.writable, &mut tried, 10),
                None => std::thread::sleep(std::time::Duration::from_millis(10)),
            },
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(err) => break format!("error {err}"),
        }
    };
    // Processes the program started and left running (a daemon, a `setsid` child) die with this
    // one; that they were there is news: in the user's own `cargo test` they would live on.
    let left = loop {
        match waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => break true,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break false,
        }
    };
    if left {
        tried.push("it left a process running when it ended (a daemon)".to_owned());
    }
    let mut report = ended;
    for what in tried {
        report.push('\n');
        report.push_str(&what);
    }
    let _ = nix::unistd::write(&status, report.as_bytes());
    std::process::exit(0)
}

fn canonical(path: OsString) -> PathBuf {
    let path = PathBuf::from(path);
    path.canonicalize().unwrap_or(path)
}

fn parse(args: Vec<OsString>) -> Result<Plan, String> {
    let mut plan = Plan {
        namespaces: false,
        landlock: false,
        observe: false,
        writable: Vec::new(),
        readable: Vec::new(),
        program: OsString::new(),
        args: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--namespaces") => plan.namespaces = true,
            Some("--landlock") => plan.landlock = true,
            Some("--observe") => plan.observe = true,
            // As the kernel names them (symlinks resolved), which is how paths come back from
            // /proc for the observer to compare.
            Some("--write") => plan
                .writable
                .push(canonical(args.next().ok_or("--write takes a directory")?)),
            Some("--read") => plan
                .readable
                .push(canonical(args.next().ok_or("--read takes a directory")?)),
            Some("--") => {
                plan.program = args.next().ok_or("no program after --")?;
                plan.args = args.collect();
                return Ok(plan);
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Err("no program given".to_owned())
}

/// New user, network and PID namespaces, the user mapped to itself, loopback up.
fn enter_namespaces() -> Result<(), String> {
    let (uid, gid) = (getuid(), getgid());
    unshare(
        CloneFlags::CLONE_NEWUSER
            | CloneFlags::CLONE_NEWNET
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWNS,
    )
    .map_err(|err| format!("unshare: {err}"))?;
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|err| format!("writing {file}: {err}"))
    };
    // Needed before gid_map by an unprivileged process; absent on old kernels.
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1\n"))?;
    loopback_up()
}

/// Mount a fresh /proc for this PID namespace, in a mount namespace of its own.
fn own_proc() -> Result<(), nix::Error> {
    use nix::mount::{MsFlags, mount};
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
}

/// A new network namespace's loopback is down: tests that serve on 127.0.0.1 expect it up.
fn loopback_up() -> Result<(), String> {
    // SAFETY: plain syscalls on a socket of our own and a zeroed `ifreq` naming `lo`.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (to, from) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *to = *from as libc::c_char;
        }
        let mut result = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request);
        if result == 0 {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            result = libc::ioctl(fd, libc::SIOCSIFFLAGS, &request);
        }
        let error = std::io::Error::last_os_error();
        libc::close(fd);
        if result != 0 {
            return Err(format!("bringing up loopback: {error}"));
        }
    }
    Ok(())
}

/// Limits, then Landlock, then the program; never returns.
fn restrict_and_exec(plan: &Plan, observer: Option<&std::os::fd::OwnedFd>) -> ! {
    for (resource, limit) in [
        (Resource::RLIMIT_FSIZE, MAX_FILE),
        (Resource::RLIMIT_DATA, MAX_DATA),
        (Resource::RLIMIT_NPROC, MAX_PROCESSES),
        (Resource::RLIMIT_CORE, 0),
    ] {
        // Lower only: a limit already below ours stays.
        let (soft, hard) = nix::sys::resource::getrlimit(resource).unwrap_or((limit, limit));
        if let Err(err) = setrlimit(resource, soft.min(limit), hard.min(limit)) {
            eprintln!("testsmith launcher: setrlimit {resource:?}: {err}");
            std::process::exit(FAILED);
        }
    }
    if plan.landlock
        && let Err(why) = landlock(&plan.readable, &plan.writable, !plan.namespaces)
    {
        eprintln!("testsmith launcher: Landlock: {why}");
        std::process::exit(FAILED);
    }
    if let Err(why) = no_unix_sockets() {
        eprintln!("testsmith launcher: seccomp: {why}");
        std::process::exit(FAILED);
    }
    // Unobserved if the listener cannot be had (one exists already: a container that
    // intercepts syscalls): the channel closes at exec, and the init stops waiting for it.
    if let Some(channel) = observer {
        let _ = super::observe::install(channel);
    }
    // What the tool had open (a pipe, a socket) is not the test's: closed at exec.
    // SAFETY: close_range with the close-on-exec flag touches only the fd table.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
    let err = std::process::Command::new(&plan.program)
        .args(&plan.args)
        .exec();
    eprintln!("testsmith launcher: cannot run {:?}: {err}", plan.program);
    std::process::exit(FAILED)
}

/// Where a test may read and run things besides `readable` and `writable`: the system's
/// programs, libraries and settings, and the kernel's views. Not the user's home.
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/opt", "/nix", "/proc", "/sys",
    "/dev",
];

/// Read and run the system's files and `readable`, write only under `writable` (and
/// `/dev/null`), signal nothing outside; without a network namespace, no TCP either.
fn landlock(readable: &[PathBuf], writable: &[PathBuf], no_tcp: bool) -> Result<(), String> {
    let abi = ABI::V5;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(|e| e.to_string())?
        .scope(Scope::from_all(ABI::V6))
        .map_err(|e| e.to_string())?;
    if no_tcp {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI::V4))
            .map_err(|e| e.to_string())?;
    }
    let system = SYSTEM_DIRS
        .iter()
        .map(PathBuf::from)
        .filter(|dir| dir.exists());
    let status = ruleset
        .create()
        .map_err(|e| e.to_string())?
        .add_rules(path_beneath_rules(
            system.chain(readable.iter().cloned()),
            AccessFs::from_read(abi),
        ))
        .map_err(|e| e.to_string())?
        .add_rules(path_beneath_rules(writable, AccessFs::from_all(abi)))
        .map_err(|e| e.to_string())?
        .add_rules(path_beneath_rules(["/dev/null"], AccessFs::from_file(abi)))
        .map_err(|e| e.to_string())?
        .restrict_self()
        .map_err(|e| e.to_string())?;
    match status.ruleset {
        RulesetStatus::NotEnforced => Err("not enforced by this kernel".to_owned()),
        RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
    }
}

/// A seccomp filter that allows sockets of the internet families only (`EACCES` for the rest):
/// neither the network namespace nor Landlock keeps a test from connecting to a socket file
/// (the Docker daemon's, the session bus, an ssh agent) or a `vsock` to the host. io_uring,
/// which makes sockets without the `socket` syscall, is refused too; `socketpair` stays
/// allowed. A syscall of another ABI (x32, 32-bit) kills the process, since its numbers would
/// slip past the filter.
fn no_unix_sockets() -> Result<(), String> {
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    const ARCH: u32 = 0xC000_00B7;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return Ok(());
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
        let (load, eq, ge, ret) = (
            BPF_LD | BPF_W | BPF_ABS,
            BPF_JMP | BPF_JEQ | BPF_K,
            BPF_JMP | BPF_JGE | BPF_K,
            BPF_RET | BPF_K,
        );
        let deny = libc::SECCOMP_RET_ERRNO | libc::EACCES as u32;
        // `struct seccomp_data`: nr at 0, arch at 4, args from 16. Jumps count instructions
        // after the next one: 13 is DENY, 14 is ALLOW.
        let filter = [
            stmt(load, 4),                                      // 0
            jump(eq, ARCH, 1, 0),                               // 1
            stmt(ret, libc::SECCOMP_RET_KILL_PROCESS),          // 2
            stmt(load, 0),                                      // 3
            jump(ge, 0x4000_0000, 0, 1),                        // 4
            stmt(ret, libc::SECCOMP_RET_KILL_PROCESS),          // 5
            jump(eq, libc::SYS_io_uring_setup as u32, 6, 0),    // 6
            jump(eq, libc::SYS_io_uring_enter as u32, 5, 0),    // 7
            jump(eq, libc::SYS_io_uring_register as u32, 4, 0), // 8
            jump(eq, libc::SYS_socket as u32, 0, 4),            // 9
            stmt(load, 16),                                     // 10
            jump(eq, libc::AF_INET as u32, 2, 0),               // 11
            jump(eq, libc::AF_INET6 as u32, 1, 0),              // 12
            stmt(ret, deny),                                    // 13
            stmt(ret, libc::SECCOMP_RET_ALLOW),                 // 14
        ];
        let program = libc::sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_ptr().cast_mut(),
        };
        // SAFETY: prctl with a filter that lives until the call returns (the kernel copies it).
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program) != 0
            {
                return Err(std::io::Error::last_os_error().to_string());
            }
        }
        Ok(())
    }
}

/// Wait for the namespace's first process and end as the program in it ended.
fn relay(init: nix::unistd::Pid, status: std::os::fd::OwnedFd) -> i32 {
    let mut ended = String::new();
    let _ = std::io::Read::read_to_string(&mut std::fs::File::from(status), &mut ended);
    loop {
        match waitpid(init, None) {
            Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => break,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    let mut lines = ended.lines();
    let first = lines.next().unwrap_or_default().to_owned();
    for what in lines {
        eprintln!("{ESCAPE}{what}");
    }
    let ended = first;
    if let Some(code) = ended.strip_prefix("exit ").and_then(|c| c.parse().ok()) {
        return code;
    }
    if let Some(sig) = ended
        .strip_prefix("signal ")
        .and_then(|s| s.parse::<i32>().ok())
        .and_then(|s| Signal::try_from(s).ok())
    {
        // Die of the same signal, so the runner reads the crash as the test's.
        // SAFETY: restoring the default disposition of a signal in a single-threaded
        // process.
        unsafe {
            let _ = signal(sig, SigHandler::SigDfl);
        }
        let _ = raise(sig);
        return 128 + sig as i32;
    }
    eprintln!("testsmith launcher: the contained process ended unseen ({ended})");
    FAILED
}

/// Try each layer in a child of its own (a layer, once entered, cannot be left) and print one
/// line per layer: `namespaces ok` or `namespaces <why not>`.
fn probe() {
    let try_in_child = |layer: &str, attempt: fn() -> Result<(), String>| {
        let (read, write) = match nix::unistd::pipe() {
            Ok(pipe) => pipe,
            Err(err) => {
                println!("{layer} pipe: {err}");
                return;
            }
        };
        // SAFETY: single-threaded; the child only runs `attempt` and writes to the pipe.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(read);
                let text = match attempt() {
                    Ok(()) => "ok".to_owned(),
                    Err(why) => why,
                };
                let _ = nix::unistd::write(&write, text.as_bytes());
                std::process::exit(0);
            }
            Ok(ForkResult::Parent { child }) => {
                drop(write);
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut std::fs::File::from(read), &mut text);
                let _ = waitpid(child, None);
                let text = if text.is_empty() {
                    "the probe died"
                } else {
                    &text
                };
                println!("{layer} {}", text.replace('\n', " "));
            }
            Err(err) => println!("{layer} fork: {err}"),
        }
    };
    try_in_child("namespaces", enter_namespaces);
    // Observation needs a /proc of the namespace's own, mounted by its first process.
    try_in_child("observe", || {
        super::observe::kernel_can()?;
        enter_namespaces()?;
        // SAFETY: single-threaded; the child only mounts and exits.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => std::process::exit(i32::from(own_proc().is_err())),
            Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, 0)) => Ok(()),
                _ => Err("cannot mount a /proc of its own".to_owned()),
            },
            Err(err) => Err(format!("fork: {err}")),
        }
    });
    try_in_child("landlock", || {
        let dir = std::env::temp_dir();
        landlock(&[], &[dir], false)
    });
}

/// The probe's lines as the layers they tell of.
pub(super) fn read_probe(text: &str) -> Layers {
    let layer = |name: &str| -> Result<(), String> {
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '));
        match line {
            Some("ok") => Ok(()),
            Some(why) => Err(why.to_owned()),
            None => Err("the launcher did not answer the probe".to_owned()),
        }
    };
    Layers {
        namespaces: layer("namespaces"),
        landlock: layer("landlock"),
        observe: layer("observe"),
    }
}
