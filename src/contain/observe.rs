//! Seeing what a contained test tries beyond its sandbox, not only refusing it: a seccomp filter
//! with a user-space listener stops the test at each call that writes, deletes, renames or
//! makes a file, or connects; the namespace's init reads the call's path or address, notes it
//! when it is outside what the test may touch, and lets the kernel go on (Landlock and the
//! network namespace still refuse). A test that swallows the refusal (`let _ =`) passes, but
//! what it tried is known.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Component, Path, PathBuf};

/// The calls watched: (syscall, what it does, which argument is the path or address, which is
/// the directory fd it is relative to).
const WATCHED: &[(libc::c_long, Verb, usize, Option<usize>)] = &[
    (libc::SYS_openat, Verb::Write, 1, Some(0)),
    (libc::SYS_unlinkat, Verb::Delete, 1, Some(0)),
    (libc::SYS_renameat2, Verb::Rename, 1, Some(0)),
    (libc::SYS_renameat, Verb::Rename, 1, Some(0)),
    (libc::SYS_mkdirat, Verb::Create, 1, Some(0)),
    (libc::SYS_linkat, Verb::Create, 3, Some(2)),
    (libc::SYS_symlinkat, Verb::Create, 2, Some(1)),
    (libc::SYS_mknodat, Verb::Create, 1, Some(0)),
    (libc::SYS_truncate, Verb::Write, 0, None),
    (libc::SYS_openat2, Verb::Write, 1, Some(0)),
    (libc::SYS_fchmodat, Verb::Change, 1, Some(0)),
    (libc::SYS_fchownat, Verb::Change, 1, Some(0)),
    (libc::SYS_utimensat, Verb::Change, 1, Some(0)),
    (libc::SYS_setxattr, Verb::Change, 0, None),
    (libc::SYS_lsetxattr, Verb::Change, 0, None),
    (libc::SYS_removexattr, Verb::Change, 0, None),
    (libc::SYS_lremovexattr, Verb::Change, 0, None),
    (libc::SYS_connect, Verb::Connect, 1, None),
    (libc::SYS_bind, Verb::Listen, 1, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_open, Verb::Write, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_creat, Verb::Write, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_unlink, Verb::Delete, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_rmdir, Verb::Delete, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_rename, Verb::Rename, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_mkdir, Verb::Create, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_symlink, Verb::Create, 1, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_link, Verb::Create, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_mknod, Verb::Create, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_chmod, Verb::Change, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_chown, Verb::Change, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_lchown, Verb::Change, 0, None),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_utimes, Verb::Change, 0, None),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Write,
    Delete,
    Rename,
    Create,
    Connect,
    Listen,
    /// Mode, owner, times, extended attributes.
    Change,
}

/// Whether this kernel answers a listener's `CONTINUE` (5.5 and later): on an older one every
/// watched call would wait forever.
pub(super) fn kernel_can() -> Result<(), String> {
    let release = nix::sys::utsname::uname()
        .map_err(|err| format!("uname: {err}"))?
        .release()
        .to_string_lossy()
        .into_owned();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    if version >= (5, 5) {
        Ok(())
    } else {
        Err(format!("Linux {release} is older than 5.5"))
    }
}

/// Where an open's flags are in `struct seccomp_data` (args from 16, 8 bytes each): `openat`'s
/// third argument, `open`'s second. Other calls always notify.
fn flags_offset(nr: libc::c_long) -> Option<u32> {
    if nr == libc::SYS_openat {
        return Some(16 + 2 * 8);
    }
    #[cfg(target_arch = "x86_64")]
    if nr == libc::SYS_open {
        return Some(16 + 8);
    }
    None
}

/// Install the listening filter in the calling process (the test, before it execs) and hand
/// the listener to `init` over `channel`.
pub(super) fn install(channel: &OwnedFd) -> Result<(), String> {
    let flags_write = (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC) as u32;
    let mut filter = vec![stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0)];
    // For each watched call: `nr == call` → notify (opens only when they write).
    for (nr, _, _, _) in WATCHED {
        if let Some(flags_at) = flags_offset(*nr) {
            filter.push(jump(
                libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
                *nr as u32,
                0,
                4,
            ));
            filter.push(stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, flags_at));
            filter.push(jump(
                libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K,
                flags_write,
                0,
                1,
            ));
            filter.push(stmt(
                libc::BPF_RET | libc::BPF_K,
                libc::SECCOMP_RET_USER_NOTIF,
            ));
            filter.push(stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW));
        } else {
            filter.push(jump(
                libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
                *nr as u32,
                0,
                1,
            ));
            filter.push(stmt(
                libc::BPF_RET | libc::BPF_K,
                libc::SECCOMP_RET_USER_NOTIF,
            ));
        }
    }
    filter.push(stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW));
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: the seccomp syscall with a filter that lives until it returns.
    let listener = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &program,
        )
    };
    if listener < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    // SAFETY: the kernel just made this fd for us.
    let listener = unsafe { OwnedFd::from_raw_fd(listener as RawFd) };
    let fds = [listener.as_raw_fd()];
    let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
    let iov = [std::io::IoSlice::new(b"l")];
    nix::sys::socket::sendmsg::<()>(
        channel.as_raw_fd(),
        &iov,
        &cmsg,
        nix::sys::socket::MsgFlags::empty(),
        None,
    )
    .map_err(|err| format!("handing the listener over: {err}"))?;
    Ok(())
}

/// Receive the test's listener from `channel`.
pub(super) fn receive(channel: &OwnedFd) -> Option<OwnedFd> {
    let mut buf = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = nix::sys::socket::recvmsg::<()>(
        channel.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        nix::sys::socket::MsgFlags::empty(),
    )
    .ok()?;
    for cmsg in msg.cmsgs().ok()? {
        if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = cmsg
            && let Some(&fd) = fds.first()
        {
            // SAFETY: received over SCM_RIGHTS: a new fd of ours.
            return Some(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    None
}

/// What one test tried is reported up to this many times: enough to say what, not a flood.
const MAX_TRIED: usize = 20;

/// Answer the listener's notifications, waiting up to `wait_ms` for the first, until it has
/// none waiting; each one that goes beyond `writable` is added to `tried` (once).
pub(super) fn serve(
    listener: &OwnedFd,
    writable: &[PathBuf],
    tried: &mut Vec<String>,
    wait_ms: u16,
) {
    let mut wait = nix::poll::PollTimeout::from(wait_ms);
    // Back to the caller's `waitpid` now and then, whatever keeps calling.
    for _ in 0..64 {
        let mut poll = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(listener),
            nix::poll::PollFlags::POLLIN,
        )];
        let ready = nix::poll::poll(&mut poll, wait);
        wait = nix::poll::PollTimeout::ZERO;
        match ready {
            Ok(n) if n > 0 => {}
            _ => return,
        }
        let revents = poll[0].revents().unwrap_or(nix::poll::PollFlags::empty());
        if !revents.contains(nix::poll::PollFlags::POLLIN) {
            return;
        }
        // SAFETY: zeroed plain data the kernel fills.
        let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: the ioctl writes a `seccomp_notif`.
        if unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                &mut notif,
            )
        } != 0
        {
            return;
        }
        let seen = judge(&notif, writable);
        // A change of mode, owner, times or attributes outside is not a write to Landlock:
        // it is refused here, not let through.
        let refuse = seen.as_ref().is_some_and(|(verb, _)| *verb == Verb::Change);
        if let Some((_, what)) = seen
            && tried.len() < MAX_TRIED
            && !tried.contains(&what)
        {
            tried.push(what);
        }
        let mut resp = if refuse {
            libc::seccomp_notif_resp {
                id: notif.id,
                val: 0,
                error: -libc::EACCES,
                flags: 0,
            }
        } else {
            libc::seccomp_notif_resp {
                id: notif.id,
                val: 0,
                error: 0,
                flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
            }
        };
        // SAFETY: the ioctl reads a `seccomp_notif_resp`. The kernel goes on with the call
        // (and Landlock, or the namespace, refuses it).
        unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND,
                &mut resp,
            );
        }
    }
}

/// What the notified call tries, in words, if it goes beyond `writable`.
fn judge(notif: &libc::seccomp_notif, writable: &[PathBuf]) -> Option<(Verb, String)> {
    let nr = notif.data.nr as libc::c_long;
    let (_, verb, arg, dirfd) = WATCHED.iter().find(|(n, ..)| *n == nr)?;
    let pid = notif.pid;
    let address = notif.data.args[*arg];
    if matches!(verb, Verb::Connect | Verb::Listen) {
        let len = notif.data.args[2] as usize;
        let bytes = read_memory(pid, address, len.min(128))?;
        let connect = *verb == Verb::Connect;
        let how = if connect { "connect to" } else { "listen on" };
        let to = beyond_loopback(&bytes, connect)?;
        return Some((*verb, format!("it tried to {how} {to}")));
    }
    if nr == libc::SYS_openat2 {
        // `struct open_how` starts with the flags (a u64).
        let how = read_memory(pid, notif.data.args[2], 8)?;
        let flags = u64::from_ne_bytes(how.try_into().ok()?);
        let write = (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC) as u64;
        if flags & write == 0 {
            return None;
        }
    }
    let dirfd = dirfd.map(|i| notif.data.args[i] as i32);
    let mut paths = vec![resolve(pid, &read_path(pid, address)?, dirfd)?];
    // A rename or a link also names where it puts the file.
    if let Some((to, to_dirfd)) = second_path(nr) {
        let to_dirfd = to_dirfd.map(|i| notif.data.args[i] as i32);
        if let Some(to) = read_path(pid, notif.data.args[to]) {
            paths.extend(resolve(pid, &to, to_dirfd));
        }
    }
    let path = paths.into_iter().find(|path| !allowed(path, writable))?;
    let what = match verb {
        Verb::Change => "change",
        Verb::Write => "write",
        Verb::Delete => "delete",
        Verb::Rename => "rename",
        Verb::Create => "create",
        Verb::Connect | Verb::Listen => unreachable!("answered above"),
    };
    Some((*verb, format!("it tried to {what} {}", path.display())))
}

/// Where a test may write: its dirs, and the devices that are its own output.
fn allowed(path: &Path, writable: &[PathBuf]) -> bool {
    const DEVICES: &[&str] = &[
        "/dev/null",
        "/dev/tty",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/zero",
    ];
    DEVICES.iter().any(|device| path == Path::new(device))
        || path.starts_with("/dev/fd")
        || path.starts_with("/proc/self/fd")
        || writable.iter().any(|dir| path.starts_with(dir))
}

/// The second path of a call that has one (where a rename or link puts the file), and its
/// directory fd.
fn second_path(nr: libc::c_long) -> Option<(usize, Option<usize>)> {
    match nr {
        libc::SYS_renameat | libc::SYS_renameat2 | libc::SYS_linkat => Some((3, Some(2))),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_rename | libc::SYS_link => Some((1, None)),
        _ => None,
    }
}

/// A path the test passed, read from its memory.
fn read_path(pid: u32, address: u64) -> Option<PathBuf> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    let n = mem.read_at(&mut buf, address).ok()?;
    let end = buf[..n].iter().position(|&b| b == 0)?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes_of(&buf[..end])))
}

trait FromBytes {
    fn from_bytes_of(bytes: &[u8]) -> &std::ffi::OsStr;
}

impl FromBytes for std::ffi::OsStr {
    fn from_bytes_of(bytes: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(bytes)
    }
}

/// `path` made absolute against the directory fd it is relative to, `.` and `..` resolved.
fn resolve(pid: u32, path: &Path, dirfd: Option<i32>) -> Option<PathBuf> {
    let full = if path.is_absolute() {
        path.to_owned()
    } else {
        let base = match dirfd {
            Some(libc::AT_FDCWD) | None => std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?,
            Some(fd) => std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?,
        };
        base.join(path)
    };
    let mut out = PathBuf::new();
    for component in full.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// `len` bytes of the test's memory at `address`.
fn read_memory(pid: u32, address: u64, len: usize) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut buf = vec![0u8; len];
    let n = mem.read_at(&mut buf, address).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// A socket address (`struct sockaddr_in`/`sockaddr_in6` as bytes) beyond loopback, shown;
/// `None` for loopback and other families.
fn beyond_loopback(bytes: &[u8], connect: bool) -> Option<String> {
    let family = i32::from(u16::from_ne_bytes([*bytes.first()?, *bytes.get(1)?]));
    let port = u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]);
    match family {
        libc::AF_INET if bytes.len() >= 8 => {
            let ip = std::net::Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            (!local(std::net::IpAddr::V4(ip), port, connect)).then(|| format!("{ip}:{port}"))
        }
        libc::AF_INET6 if bytes.len() >= 24 => {
            let octets: [u8; 16] = bytes[8..24].try_into().ok()?;
            let ip = std::net::Ipv6Addr::from(octets);
            (!local(std::net::IpAddr::V6(ip), port, connect)).then(|| format!("[{ip}]:{port}"))
        }
        _ => None,
    }
}

/// Loopback, as a test means it: `127.0.0.1`, `::1`, `::ffff:127.0.0.1`; a connection to the
/// unspecified address (which reaches the local host); a bind of it to an ephemeral port (a
/// UDP client's `bind("0.0.0.0:0")`). A listener on `0.0.0.0:8080` is not.
fn local(ip: std::net::IpAddr, port: u16, connect: bool) -> bool {
    let ip = match ip {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    };
    ip.is_loopback() || (ip.is_unspecified() && (connect || port == 0))
}

/// A BPF statement (no jump).
pub(super) fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A BPF jump: `jt` and `jf` count the instructions skipped.
pub(super) fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut bytes = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        bytes.extend(port.to_be_bytes());
        bytes.extend(ip);
        bytes.extend([0; 8]);
        bytes
    }

    #[test]
    fn only_addresses_beyond_loopback_are_news() {
        assert_eq!(beyond_loopback(&v4([127, 0, 0, 1], 80), true), None);
        // A listener on all interfaces is news; a client's ephemeral bind and a connection to
        // the local host are not.
        assert_eq!(beyond_loopback(&v4([0, 0, 0, 0], 0), false), None);
        assert_eq!(beyond_loopback(&v4([0, 0, 0, 0], 8080), true), None);
        assert_eq!(
            beyond_loopback(&v4([0, 0, 0, 0], 8080), false).as_deref(),
            Some("0.0.0.0:8080")
        );
        assert_eq!(
            beyond_loopback(&v4([192, 0, 2, 1], 443), true).as_deref(),
            Some("192.0.2.1:443")
        );
        let mut v6 = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        v6.extend(53u16.to_be_bytes());
        v6.extend([0; 4]);
        v6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        assert_eq!(beyond_loopback(&v6, true), None);
        let mut mapped = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        mapped.extend(53u16.to_be_bytes());
        mapped.extend([0; 4]);
        mapped.extend(std::net::Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets());
        assert_eq!(beyond_loopback(&mapped, true), None);
        let unix = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        assert_eq!(beyond_loopback(&unix, true), None);
    }

    #[test]
    fn a_tests_own_output_devices_are_not_escapes() {
        let dirs = [PathBuf::from("/w/scratch")];
        for path in [
            "/dev/null",
            "/dev/tty",
            "/dev/stdout",
            "/dev/fd/1",
            "/w/scratch/x",
        ] {
            assert!(allowed(Path::new(path), &dirs), "{path}");
        }
        for path in ["/dev/sda", "/w/other", "/etc/passwd"] {
            assert!(!allowed(Path::new(path), &dirs), "{path}");
        }
    }

    #[test]
    fn paths_are_made_absolute_and_plain() {
        let path = resolve(0, Path::new("/w/scratch/../../etc/./passwd"), None).unwrap();
        assert_eq!(path, Path::new("/etc/passwd"));
    }
}
