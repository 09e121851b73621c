//! A private network for `rdsports demo`: on Linux, a new unprivileged user namespace and
//! network namespace for this process, with its own loopback interface brought up.
//!
//! Inside it the process is root of its own user namespace, so it may bind ports below 1024,
//! and every address of 127.0.0.0/8 is local, so each demo host gets its own address. The
//! machine's network is not touched: the namespace has no interface but its loopback and
//! disappears with the process. Nothing here needs root on the machine; it needs the kernel
//! to allow unprivileged user namespaces (`kernel.unprivileged_userns_clone`,
//! `user.max_user_namespaces`, AppArmor's `apparmor_restrict_unprivileged_userns`).
//!
//! It does not fall back on anything by itself: when the namespace cannot be had, the caller
//! is told why and decides (the demo then uses loopback addresses with a port offset).

/// What [`enter_private_network`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateNetwork {
    /// The process now lives in its own user and network namespace with loopback up.
    Entered,
    /// No namespace could be created; the process is unchanged. The text says why.
    Unavailable(String),
}

/// Moves this process into a new user and network namespace and brings its loopback up.
///
/// Call it before any thread is started (before a tokio runtime): the kernel refuses a new
/// user namespace to a multi-threaded process. `Err` means the namespaces were entered but
/// the loopback could not be brought up: the process has no usable network left and must
/// stop.
pub fn enter_private_network() -> Result<PrivateNetwork, String> {
    platform::enter()
}

#[cfg(target_os = "linux")]
mod platform {
    use std::io;

    use super::PrivateNetwork;

    pub(super) fn enter() -> Result<PrivateNetwork, String> {
        // SAFETY: geteuid and getegid only read the process's credentials.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        // SAFETY: unshare takes flags only; on failure nothing changed.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) };
        if rc != 0 {
            let error = io::Error::last_os_error();
            return Ok(PrivateNetwork::Unavailable(why_unavailable(&error)));
        }
        // Map our user and group to root inside. Without the maps the process still holds
        // every capability in the new namespaces, so a failure here is not fatal.
        let _ = std::fs::write("/proc/self/setgroups", "deny");
        let _ = std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"));
        let _ = std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"));
        loopback_up().map_err(|error| {
            format!(
                "entered a private network namespace but could not bring its loopback up: {error}"
            )
        })?;
        Ok(PrivateNetwork::Entered)
    }

    fn why_unavailable(error: &io::Error) -> String {
        let hint = match error.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                "unprivileged user namespaces are disabled here (sysctl \
                 kernel.unprivileged_userns_clone=0, an AppArmor or SELinux policy, or a \
                 container that forbids them)"
            }
            Some(libc::ENOSPC) | Some(libc::EUSERS) => {
                "the limit of user namespaces is reached (sysctl user.max_user_namespaces)"
            }
            Some(libc::EINVAL) => "the process already runs several threads",
            Some(libc::ENOSYS) => "the kernel has no namespace support",
            _ => "the kernel refused",
        };
        format!("no private network namespace: {hint} ({error})")
    }

    /// `ip link set lo up`, with one ioctl pair on a throwaway socket.
    fn loopback_up() -> io::Result<()> {
        // SAFETY: a plain socket call; the descriptor is closed below on every path.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let result = set_up(fd);
        // SAFETY: `fd` is the socket opened above, closed once.
        unsafe { libc::close(fd) };
        result
    }

    fn set_up(fd: libc::c_int) -> io::Result<()> {
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        // SAFETY: SIOCGIFFLAGS reads the flags of the interface named in `request` into it.
        if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut request) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: after SIOCGIFFLAGS the union holds the flags.
        unsafe {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        }
        // SAFETY: SIOCSIFFLAGS reads `request` (name and flags).
        if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &request) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::PrivateNetwork;

    pub(super) fn enter() -> Result<PrivateNetwork, String> {
        Ok(PrivateNetwork::Unavailable(
            "no private network namespace: they exist only on Linux".into(),
        ))
    }
}
