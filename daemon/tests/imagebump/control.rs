//! `imagebump get`, `reconcile`, `suspend` and `resume`: the commands that talk to a daemon
//! over its control socket. A thread in the test answers on a real socket with canned JSON
//! lines, so what is checked is the binary: flags, the request it sends, what it prints and
//! its exit code.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;

use serde_json::{Value, json};

use crate::support::{Run, write};

/// Runs `imagebump ARGS` without `IMAGEBUMP_CONFIG` from the test's own environment.
fn imagebump(args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_imagebump"))
        .args(args)
        .env_remove("IMAGEBUMP_CONFIG")
        .output()
        .expect("the imagebump binary runs")
        .into()
}

/// Answers one connection on `socket` with `response` and returns the request it got.
fn answer_once(socket: &Path, response: Value) -> JoinHandle<Value> {
    let listener = UnixListener::bind(socket).expect("binding the test socket");
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("the CLI connects");
        let mut line = String::new();
        BufReader::new(&stream)
            .read_line(&mut line)
            .expect("the CLI sends a line");
        let mut stream = stream;
        writeln!(stream, "{response}").expect("answering the CLI");
        serde_json::from_str(&line).expect("the request is JSON")
    })
}

fn socket(dir: &tempfile::TempDir) -> (PathBuf, String) {
    let path = dir.path().join("control.sock");
    let text = path.display().to_string();
    (path, text)
}

fn repository(namespace: &str, name: &str, tags: u32) -> Value {
    json!({
        "kind": "ImageRepository",
        "namespace": namespace,
        "name": name,
        "ready": "True",
        "message": format!("successful scan: found {tags} tags"),
        "suspended": false,
        "last_time": "2026-11-23T14:03:32Z",
        "latest_image": null,
        "status": {"lastScanResult": {"tagCount": tags}},
    })
}

#[test]
fn no_daemon_is_a_failure_that_says_how_to_start_one() {
    let run = imagebump(&["get", "images", "all", "--socket", "/nonexistent/sock"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "✗ no imagebump daemon is running (nothing listening on /nonexistent/sock); start one \
         with `imagebump daemon --config <file>`\n"
    );
}

#[test]
fn reconcile_without_a_daemon_does_not_claim_to_wait() {
    let run = imagebump(&[
        "reconcile",
        "image",
        "repository",
        "podinfo",
        "--socket",
        "/nonexistent/sock",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.starts_with(
            "► triggering ImageRepository podinfo in flux-system namespace\n✗ no imagebump daemon"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("waiting"), "{}", run.stderr);
}

#[test]
fn without_config_or_socket_the_command_line_is_invalid() {
    let run = imagebump(&["get", "images", "repository"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--config <FILE>"), "{}", run.stderr);
}

#[test]
fn get_prints_a_table_and_asks_for_the_configs_namespace_and_socket() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = socket(&dir);
    let config = write(
        dir.path(),
        "imagebump.toml",
        &format!(
            "objects = [\"objects\"]\nstate_dir = \"state\"\ndefault_namespace = \"apps\"\n[control]\nsocket = {text:?}\n"
        ),
    );
    let daemon = answer_once(
        &path,
        json!({"result": "objects", "objects": [repository("apps", "podinfo", 13)]}),
    );
    let run = imagebump(&["get", "images", "repository", "--config", &config]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "NAME   \tLAST SCAN           \tSUSPENDED\tREADY\tMESSAGE\n\
         podinfo\t2026-11-23T14:03:32Z\tFalse    \tTrue \tsuccessful scan: found 13 tags\n"
    );
    assert_eq!(
        daemon.join().unwrap(),
        json!({"op": "get", "kinds": ["ImageRepository"], "namespace": "apps", "name": null})
    );
}

#[test]
fn get_all_namespaces_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = socket(&dir);
    let objects = json!([repository("apps", "a", 1), repository("flux-system", "b", 2)]);
    let daemon = answer_once(&path, json!({"result": "objects", "objects": objects}));
    let run = imagebump(&["get", "images", "all", "-A", "-o", "json", "--socket", &text]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), objects);
    assert_eq!(
        daemon.join().unwrap(),
        json!({
            "op": "get",
            "kinds": ["ImageRepository", "ImagePolicy", "ImageUpdateAutomation"],
            "namespace": null,
            "name": null,
        })
    );
}

#[test]
fn get_with_nothing_found_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = socket(&dir);
    let daemon = answer_once(&path, json!({"result": "objects", "objects": []}));
    let run = imagebump(&["get", "receivers", "-n", "apps", "--socket", &text]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "✗ no Receiver objects found in \"apps\" namespace\n");
    daemon.join().unwrap();
}

#[test]
fn reconcile_prints_progress_and_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = socket(&dir);
    let daemon = answer_once(&path, json!({"result": "done", "message": "scan fetched 4 tags"}));
    let run = imagebump(&["reconcile", "image", "repository", "podinfo", "--socket", &text]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        "► triggering ImageRepository podinfo in flux-system namespace\n\
         ◎ waiting for ImageRepository reconciliation\n\
         ✔ ImageRepository reconciliation completed\n\
         ✔ scan fetched 4 tags\n"
    );
    assert_eq!(
        daemon.join().unwrap(),
        json!({"op": "reconcile", "kind": "ImageRepository", "namespace": "flux-system", "name": "podinfo"})
    );
}

#[test]
fn a_failed_reconcile_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = socket(&dir);
    let message = "ImageUpdateAutomation apps/bump is suspended";
    let daemon = answer_once(&path, json!({"result": "failed", "message": message}));
    let run = imagebump(&[
        "reconcile",
        "image",
        "update",
        "bump",
        "-n",
        "apps",
        "--socket",
        &text,
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.ends_with(&format!("✗ {message}\n")), "{}", run.stderr);
    daemon.join().unwrap();
}

#[test]
fn suspend_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = socket(&dir);
    let daemon = answer_once(&path, json!({"result": "done", "message": ""}));
    let run = imagebump(&["suspend", "image", "update", "flux-system", "--socket", &text]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        "► suspending image update automation flux-system in flux-system namespace\n\
         ✔ image update automation suspended\n"
    );
    assert_eq!(daemon.join().unwrap()["op"], "suspend");

    std::fs::remove_file(&path).unwrap();
    let daemon = answer_once(&path, json!({"result": "done", "message": ""}));
    let run = imagebump(&["resume", "image", "repository", "podinfo", "--socket", &text]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        "► resuming image repository podinfo in flux-system namespace\n✔ image repository resumed\n"
    );
    assert_eq!(daemon.join().unwrap()["op"], "resume");
}
