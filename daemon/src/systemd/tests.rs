use std::collections::HashMap;
use std::ffi::OsString;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use super::Notifier;

const PID: u32 = 4242;

fn notifier(vars: &[(&str, &str)]) -> Notifier {
    let vars: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
        .collect();
    Notifier::from_vars(|name| vars.get(name).cloned(), PID)
}

/// A socket standing in for systemd's, in a temp dir, and a notifier pointed at it.
fn manager() -> (tempfile::TempDir, UnixDatagram, Notifier) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let notifier = notifier(&[("NOTIFY_SOCKET", path.to_str().unwrap())]);
    (dir, socket, notifier)
}

fn receive(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn each_call_sends_its_datagram() {
    let (_dir, socket, notifier) = manager();
    notifier.ready();
    assert_eq!(receive(&socket), "READY=1");
    notifier.reloading();
    assert_eq!(receive(&socket), "RELOADING=1");
    notifier.stopping();
    assert_eq!(receive(&socket), "STOPPING=1");
    notifier.watchdog();
    assert_eq!(receive(&socket), "WATCHDOG=1");
    notifier.status("4 objects, 0 errors");
    assert_eq!(receive(&socket), "STATUS=4 objects, 0 errors");
}

#[test]
fn a_status_cannot_smuggle_other_fields() {
    let (_dir, socket, notifier) = manager();
    notifier.status("loaded\nREADY=1\r\n");
    assert_eq!(receive(&socket), "STATUS=loaded READY=1  ");
}

#[test]
fn abstract_socket() {
    let name = format!("imagebump-notify-test-{}", std::process::id());
    let socket = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let notifier = notifier(&[("NOTIFY_SOCKET", &format!("@{name}"))]);
    notifier.ready();
    assert_eq!(receive(&socket), "READY=1");
}

#[test]
fn without_notify_socket_nothing_is_sent_and_nothing_fails() {
    let notifier = notifier(&[]);
    assert!(notifier.link.is_none());
    notifier.ready();
    notifier.status("x");
    notifier.watchdog();
    notifier.stopping();
}

#[test]
fn unusable_sockets_are_ignored() {
    // Nobody listening, a relative path, vsock: none of them may panic or fail the daemon.
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    notifier(&[("NOTIFY_SOCKET", gone.to_str().unwrap())]).ready();
    assert!(notifier(&[("NOTIFY_SOCKET", "relative/sock")]).link.is_none());
    assert!(notifier(&[("NOTIFY_SOCKET", "vsock:2:1234")]).link.is_none());
    assert!(notifier(&[("NOTIFY_SOCKET", "")]).link.is_none());
}

#[test]
fn watchdog_interval_is_half_the_timeout() {
    let n = notifier(&[("WATCHDOG_USEC", "60000000")]);
    assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(30)));
    let n = notifier(&[("WATCHDOG_USEC", "60000000"), ("WATCHDOG_PID", &PID.to_string())]);
    assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(30)));
}

#[test]
fn no_watchdog_for_another_process_or_bad_values() {
    for vars in [
        &[][..],
        &[("WATCHDOG_USEC", "60000000"), ("WATCHDOG_PID", "1")][..],
        &[("WATCHDOG_USEC", "60000000"), ("WATCHDOG_PID", "x")][..],
        &[("WATCHDOG_USEC", "0")][..],
        &[("WATCHDOG_USEC", "-5")][..],
        &[("WATCHDOG_USEC", "60s")][..],
        &[("WATCHDOG_PID", "4242")][..],
    ] {
        assert_eq!(notifier(vars).watchdog_interval(), None, "{vars:?}");
    }
}
