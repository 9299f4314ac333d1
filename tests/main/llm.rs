//! `--llm` over real HTTP: the real binary against a scripted server on 127.0.0.1 that the
//! test starts itself. Call counts, requests in flight, retries, the cache and the three wire
//! formats are asserted on what crossed the wire.

use std::time::Duration;

use crate::common::llm_server::{self, Call, Reply, Server, only_for, tests_for};
use crate::common::{cargo_test, changed, fixture, read, snapshot_tree, testsmith};
use predicates::prelude::*;

/// The binary with `--llm` against `server`, speaking OpenAI's format, keys from nowhere else.
/// These tests are about the calls: verification (tests/main/verify.rs) is off.
fn llm(dir: &std::path::Path, server: &Server) -> assert_cmd::Command {
    let mut cmd = testsmith(dir);
    cmd.args([
        "--llm",
        "--no-verify",
        "--provider",
        "openai",
        "--model",
        "test-model",
        "--base-url",
    ])
    .arg(format!("{}/v1", server.url))
    .env_remove("OPENAI_API_KEY")
    .env_remove("ANTHROPIC_API_KEY")
    .env_remove("TESTSMITH_PROVIDER")
    .env_remove("TESTSMITH_MODEL")
    .env_remove("OPENAI_BASE_URL");
    cmd
}

fn names(calls: &[Call]) -> Vec<Vec<String>> {
    let mut names: Vec<Vec<String>> = calls.iter().map(|c| c.names.clone()).collect();
    names.sort();
    names
}

#[test]
fn one_call_per_file_tests_that_pass_and_a_warm_run_makes_no_call() {
    let dir = fixture("llm");
    let server = Server::start(|_| Reply::Tests);
    // Fill the cache without writing.
    llm(dir.path(), &server)
        .args(["--dry-run", "-v"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "LLM cache — hits: 0 misses: 7 entries: 7\n",
        ));
    assert_eq!(
        names(&server.calls()),
        [
            vec!["Counter::new", "Counter::increment", "Counter::get"],
            vec!["add", "mul"],
            vec!["shout", "initials"],
        ]
    );
    // The schema enumerates exactly the requested names.
    for call in server.calls() {
        let schema = &call.body["response_format"]["json_schema"];
        assert_eq!(schema["strict"], true);
        let allowed =
            &schema["schema"]["properties"]["tests"]["items"]["properties"]["name"]["enum"];
        assert_eq!(allowed, &serde_json::json!(call.names));
        assert!(call.body["max_tokens"].as_u64().unwrap() >= 1024 * call.names.len() as u64);
    }

    // Warm: no call at all, every item from the cache, and the tests written pass.
    llm(dir.path(), &server)
        .arg("-v")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "LLM cache — hits: 7 misses: 0 entries: 7\n",
        ))
        .stderr(predicate::str::contains("generated 7 tests in 3 files"));
    assert_eq!(server.calls().len(), 3, "the warm run made a call");
    let lib = read(dir.path(), "src/lib.rs");
    assert!(
        lib.contains("fn adds() {\n        assert_eq!(add(2, 3), 5);\n    }"),
        "{lib}"
    );
    let out = cargo_test(dir.path(), &[]);
    assert!(
        out.contains("test result: ok. 7 passed; 0 failed; 0 ignored"),
        "{out}"
    );

    // Everything is tested now: a third run asks nothing and changes nothing.
    let before = snapshot_tree(dir.path());
    llm(dir.path(), &server).assert().success();
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
    assert_eq!(server.calls().len(), 3);
}

#[test]
fn editing_one_fn_asks_again_for_that_fn_only() {
    let dir = fixture("llm");
    let server = Server::start(|_| Reply::Tests);
    llm(dir.path(), &server).arg("--dry-run").assert().success();
    let path = dir.path().join("src/text.rs");
    let source = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        source.replace("text.to_uppercase()", "text.to_uppercase().to_string()"),
    )
    .unwrap();
    llm(dir.path(), &server)
        .args(["--dry-run", "-v"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "LLM cache — hits: 6 misses: 1 entries: 8\n",
        ));
    let calls = server.calls();
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[3].names, ["shout"]);
}

#[test]
fn no_batch_makes_one_call_per_item_and_no_cache_reads_nothing() {
    let dir = fixture("llm");
    let server = Server::start(|_| Reply::Tests);
    llm(dir.path(), &server)
        .args(["--dry-run", "--no-batch"])
        .assert()
        .success();
    assert_eq!(server.calls().len(), 7);
    assert!(server.calls().iter().all(|c| c.names.len() == 1));
    llm(dir.path(), &server)
        .args(["--dry-run", "--no-cache", "-v"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "LLM cache — hits: 0 misses: 7 entries: 0\n",
        ));
    assert_eq!(server.calls().len(), 10, "--no-cache must ask again");
}

#[test]
fn concurrency_is_capped_and_reached() {
    let dir = fixture("llm");
    let server =
        Server::start(|_| Reply::Delay(Duration::from_millis(300), Box::new(Reply::Tests)));
    llm(dir.path(), &server)
        .args(["--dry-run", "--no-batch", "--max-concurrent", "3"])
        .assert()
        .success();
    assert_eq!(server.calls().len(), 7);
    assert_eq!(server.max_in_flight(), 3);
}

#[test]
fn rate_limits_and_server_errors_are_retried_with_the_servers_wait() {
    let dir = fixture("llm");
    // The first call is told to wait 400 ms, the second fails with 503, 529 and a dropped
    // connection come next; the files still get their tests.
    let server = Server::start(|call| match call.index {
        0 => Reply::Status(
            429,
            r#"{"error":{"message":"slow down"}}"#.into(),
            vec![("retry-after-ms", "400".into())],
        ),
        1 => Reply::Status(503, "unavailable".into(), vec![]),
        2 => Reply::Status(529, "overloaded".into(), vec![]),
        3 => Reply::Drop,
        4 => Reply::Status(500, "boom".into(), vec![("retry-after", "0".into())]),
        _ => Reply::Tests,
    });
    llm(dir.path(), &server)
        .args(["--max-concurrent", "1", "--max-retries", "4"])
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 7 tests in 3 files"));
    let calls = server.calls();
    assert_eq!(calls.len(), 3 + 5, "{:?}", names(&calls));
    let same_file: Vec<&Call> = calls.iter().filter(|c| c.names == calls[0].names).collect();
    assert!(
        same_file[1].at - same_file[0].at >= Duration::from_millis(400),
        "retry-after-ms not honoured"
    );
    cargo_test(dir.path(), &[]);
}

#[test]
fn a_file_whose_calls_keep_failing_is_reported_and_the_rest_goes_on() {
    let dir = fixture("llm");
    let before = snapshot_tree(dir.path());
    let server = Server::start(only_for("shout", || {
        Reply::Status(
            500,
            r#"{"error":{"message":"model crashed"}}"#.into(),
            vec![],
        )
    }));
    llm(dir.path(), &server)
        .assert()
        .success()
        .stderr(predicate::str::contains("src/text.rs: no tests generated:"))
        .stderr(predicate::str::contains("HTTP 500: model crashed (after 3 attempts)"))
        .stderr(predicate::str::contains("generated 5 tests in 2 files (not verified: --no-verify), 0 items already tested, 1 file skipped (1 generation failed)"));
    let text_calls = server
        .calls()
        .iter()
        .filter(|c| c.names.contains(&"shout".to_owned()))
        .count();
    assert_eq!(text_calls, 3);
    let mut files = changed(&before, &snapshot_tree(dir.path()));
    files.sort();
    assert_eq!(files, ["src/counter.rs", "src/lib.rs"]);
}

#[test]
fn a_hang_past_the_timeout_is_retried_then_reported() {
    let dir = fixture("llm");
    let server = Server::start(only_for("add", || Reply::Hang));
    llm(dir.path(), &server)
        .args(["--timeout", "0.5", "--max-retries", "2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("src/lib.rs: no tests generated:"))
        .stderr(predicate::str::contains("timed out (after 2 attempts)"));
    assert_eq!(
        server
            .calls()
            .iter()
            .filter(|c| c.names.contains(&"add".to_owned()))
            .count(),
        2
    );
}

#[test]
fn a_refused_key_fails_fast_with_the_servers_message_and_touches_nothing() {
    let dir = fixture("llm");
    let before = snapshot_tree(dir.path());
    let server = Server::start(|_| {
        Reply::Status(
            401,
            r#"{"error":{"message":"Incorrect API key provided"}}"#.into(),
            vec![],
        )
    });
    llm(dir.path(), &server)
        .env("OPENAI_API_KEY", "sk-very-secret-key")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("refused the request"))
        .stderr(predicate::str::contains(
            "HTTP 401: Incorrect API key provided",
        ))
        .stderr(predicate::str::contains("sk-very-secret").not());
    let calls = server.calls();
    // The first refusal ends the run: the other files' calls may or may not have gone out,
    // but none is retried.
    assert!((1..=3).contains(&calls.len()), "{}", calls.len());
    let mut asked: Vec<&Vec<String>> = calls.iter().map(|c| &c.names).collect();
    asked.dedup();
    assert_eq!(asked.len(), calls.len(), "a refused call was retried");
    assert_eq!(
        calls[0].headers["authorization"],
        "Bearer sk-very-secret-key"
    );
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
}

#[test]
fn a_missing_key_or_an_unreachable_server_is_one_sentence_and_exit_2() {
    let dir = fixture("llm");
    let before = snapshot_tree(dir.path());
    testsmith(dir.path())
        .args(["--llm", "--no-verify", "--provider", "anthropic"])
        .env_remove("ANTHROPIC_API_KEY")
        .assert()
        .code(2)
        .stderr("error: --llm with provider anthropic needs an API key: set ANTHROPIC_API_KEY in the environment\n");
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    testsmith(dir.path())
        .args([
            "--llm",
            "--no-verify",
            "--provider",
            "ollama",
            "--max-retries",
            "1",
            "--base-url",
        ])
        .arg(format!("http://127.0.0.1:{port}"))
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: could not reach the ollama server: request to http://127.0.0.1:",
        ));
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
}

#[test]
fn markdown_replies_are_parsed_and_assigned_by_what_each_test_calls() {
    let dir = fixture("llm");
    let server = Server::start(|call| {
        let blocks: Vec<String> = call
            .names
            .iter()
            .map(|n| llm_server::passing_test(n))
            .collect();
        Reply::Text(format!(
            "Sure! Here are the tests:\n\n```rust\n{}\n```\n",
            blocks.join("\n\n")
        ))
    });
    llm(dir.path(), &server)
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 7 tests in 3 files"));
    assert_eq!(server.calls().len(), 3);
    let out = cargo_test(dir.path(), &[]);
    assert!(out.contains("7 passed"), "{out}");
}

#[test]
fn items_a_reply_leaves_out_are_asked_for_one_by_one() {
    let dir = fixture("llm");
    let server = Server::start(|call| {
        if call.names.len() > 1 {
            Reply::TestsFor(call.names[..1].to_vec())
        } else {
            Reply::Tests
        }
    });
    llm(dir.path(), &server)
        .args(["--dry-run", "-v"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "LLM cache — hits: 0 misses: 7 entries: 7",
        ));
    // 3 batched calls, then one for each of the 4 items they left out.
    let calls = server.calls();
    assert_eq!(calls.len(), 7);
    let (batched, singles): (Vec<Call>, Vec<Call>) =
        calls.into_iter().partition(|c| c.names.len() > 1);
    assert_eq!(batched.len(), 3);
    assert_eq!(
        names(&singles),
        [
            vec!["Counter::get"],
            vec!["Counter::increment"],
            vec!["initials"],
            vec!["mul"]
        ]
    );
}

#[test]
fn invented_names_unparsable_code_and_non_tests_are_dropped_with_a_warning() {
    let dir = fixture("llm");
    let server = Server::start(|call| {
        if call.names.contains(&"add".to_owned()) {
            let tests = serde_json::json!({"tests": [
                {"name": "add", "code": llm_server::passing_test("add")},
                {"name": "mul", "code": "#[test] fn broken( { mul(1, 2); }"},
                {"name": "delete_everything", "code": "#[test] fn evil() { std::process::exit(1); }"},
                {"name": "add", "code": "fn helper() -> i32 { add(1, 1) }"},
            ]});
            Reply::Text(tests.to_string())
        } else {
            Reply::Tests
        }
    });
    llm(dir.path(), &server)
        .args(["--max-retries", "1"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "src/lib.rs: dropped a test for `delete_everything`, which was not asked for",
        ))
        .stderr(predicate::str::contains(
            "src/lib.rs: dropped the code for `mul`, which does not parse",
        ))
        .stderr(predicate::str::contains(
            "src/lib.rs: dropped fn `helper` in the code for `add`, which is not a #[test] fn this crate can run",
        ));
    // `mul` got nothing usable from the batch, so it was asked for on its own.
    assert_eq!(
        server.calls().iter().filter(|c| c.names == ["mul"]).count(),
        1
    );
    let lib = read(dir.path(), "src/lib.rs");
    assert!(!lib.contains("evil") && !lib.contains("helper"));
    cargo_test(dir.path(), &[]);
}

#[test]
fn a_server_without_json_schema_is_asked_again_with_json_object() {
    let dir = fixture("llm");
    let server = Server::start(|call| {
        if call.body["response_format"]["type"] == "json_schema" {
            Reply::Status(
                400,
                r#"{"error":{"message":"response_format json_schema is not supported"}}"#.into(),
                vec![],
            )
        } else {
            Reply::Tests
        }
    });
    llm(dir.path(), &server)
        .args(["--max-concurrent", "1"])
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 7 tests in 3 files"));
    let formats: Vec<String> = server
        .calls()
        .iter()
        .map(|c| {
            c.body["response_format"]["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // Once refused, later calls go straight to json_object.
    assert_eq!(
        formats,
        ["json_schema", "json_object", "json_object", "json_object"]
    );
}

#[test]
fn garbage_from_the_server_is_reported_per_file() {
    let dir = fixture("llm");
    let server = Server::start(only_for("add", || Reply::Garbage));
    llm(dir.path(), &server)
        .assert()
        .success()
        .stderr(predicate::str::contains("src/lib.rs: no tests generated:"))
        .stderr(predicate::str::contains(
            "answered, but not in the provider's format (starts with \"<html>proxy error</html>\")",
        ));
}

#[test]
fn anthropic_and_ollama_formats() {
    let dir = fixture("llm");
    let server = Server::start(|_| Reply::Tests);
    testsmith(dir.path())
        .args([
            "--llm",
            "--no-verify",
            "--provider",
            "anthropic",
            "--model",
            "claude-test",
            "--base-url",
            &server.url,
        ])
        .env("ANTHROPIC_API_KEY", "ak-secret")
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 7 tests in 3 files"));
    let call = &server.calls()[0];
    assert_eq!(call.path, "/v1/messages");
    assert_eq!(call.headers["x-api-key"], "ak-secret");
    assert_eq!(call.headers["anthropic-version"], "2023-06-01");
    assert_eq!(call.body["tool_choice"]["name"], "emit_tests");
    assert_eq!(
        call.body["tools"][0]["input_schema"]["required"],
        serde_json::json!(["tests"])
    );
    cargo_test(dir.path(), &[]);
    // The key is in no cache entry.
    let cache = snapshot_tree(&dir.path().join("target/testsmith/cache"));
    assert_eq!(cache.len(), 7);
    assert!(
        cache
            .values()
            .all(|bytes| !String::from_utf8_lossy(bytes).contains("ak-secret"))
    );

    let dir = fixture("llm");
    testsmith(dir.path())
        .args([
            "--llm",
            "--no-verify",
            "--provider",
            "ollama",
            "--model",
            "qwen-test",
        ])
        .env("OLLAMA_HOST", server.url.trim_start_matches("http://"))
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 7 tests in 3 files"));
    let call = server
        .calls()
        .into_iter()
        .find(|c| c.path == "/api/chat")
        .unwrap();
    assert_eq!(call.body["stream"], false);
    assert_eq!(call.body["model"], "qwen-test");
    assert!(call.body["format"]["properties"]["tests"].is_object());
}

#[test]
fn cache_subcommand_reports_and_clears() {
    let dir = fixture("llm");
    let server = Server::start(|_| Reply::Tests);
    llm(dir.path(), &server).arg("--dry-run").assert().success();
    testsmith(dir.path())
        .args(["cache", "stats"])
        .assert()
        .success()
        .stdout("LLM cache — entries: 7 (target/testsmith/cache)\n");
    let cached = std::fs::read_dir(dir.path().join("target/testsmith/cache"))
        .unwrap()
        .count();
    assert!(cached > 0);
    testsmith(dir.path())
        .args(["cache", "clear"])
        .assert()
        .success()
        .stdout("removed 7 LLM cache entries from target/testsmith/cache\n");
    testsmith(dir.path())
        .args(["cache", "stats"])
        .assert()
        .success()
        .stdout("LLM cache — entries: 0 (target/testsmith/cache)\n");
}

#[test]
fn ctrl_c_ends_backoff_waits_at_once_and_writes_nothing() {
    let dir = fixture("llm");
    let before = snapshot_tree(dir.path());
    // Every call is told to come back in 20 s.
    let server =
        Server::start(|_| Reply::Status(429, "later".into(), vec![("retry-after", "20".into())]));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-testsmith"))
        .current_dir(dir.path())
        .args([
            "testsmith",
            "--llm",
            "--no-verify",
            "--provider",
            "openai",
            "--base-url",
        ])
        .arg(format!("{}/v1", server.url))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_TERM_COLOR")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until every file's first attempt got its 429, so all three are in a backoff wait.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.calls().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no calls arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "the waits did not end at once"
    );
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: interrupted; no file was written"),
        "{stderr}"
    );
    assert_eq!(server.calls().len(), 3, "no attempt after Ctrl-C");
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
}

#[test]
fn metadata_configures_and_testsmith_md_reaches_the_prompt() {
    let dir = fixture("llm");
    let manifest = dir.path().join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("\n[package.metadata.testsmith]\nmodel = \"meta-model\"\nmax-concurrent = 1\n");
    std::fs::write(&manifest, text).unwrap();
    std::fs::write(
        dir.path().join("TESTSMITH.md"),
        "ROOT: prefer assert_eq!.\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/TESTSMITH.md"),
        "NESTED: name tests after behaviour.\n",
    )
    .unwrap();
    let server =
        Server::start(|_| Reply::Delay(Duration::from_millis(100), Box::new(Reply::Tests)));
    testsmith(dir.path())
        .args([
            "--llm",
            "--no-verify",
            "--provider",
            "ollama",
            "--dry-run",
            "--base-url",
            &server.url,
        ])
        .assert()
        .success();
    assert_eq!(server.max_in_flight(), 1, "max-concurrent from metadata");
    for call in server.calls() {
        assert_eq!(call.body["model"], "meta-model");
        let prompt = call.body["messages"][1]["content"].as_str().unwrap();
        assert!(
            prompt.contains("NESTED: name tests after behaviour."),
            "{prompt}"
        );
        assert!(
            !prompt.contains("ROOT:"),
            "the nested TESTSMITH.md overrides the root one"
        );
        assert!(prompt.contains("The whole file, for context:"));
        if call.names.contains(&"Counter::get".to_owned()) {
            // The item's source and the definition of the type it uses.
            assert!(
                prompt.contains("pub fn get(&self) -> u32 {\n        self.count\n    }"),
                "{prompt}"
            );
            assert!(
                prompt.contains("/// Counts up from zero.\n#[derive(Debug)]\npub struct Counter {"),
                "{prompt}"
            );
        }
    }
}

#[test]
fn a_backoff_wait_holds_no_slot() {
    let dir = fixture("llm");
    // One slot. The first call is told to come back in 600 ms; the other two files must be
    // served during that wait, not after it.
    let server = Server::start(|call| {
        if call.index == 0 {
            Reply::Status(429, "later".into(), vec![("retry-after-ms", "600".into())])
        } else {
            Reply::Delay(Duration::from_millis(50), Box::new(Reply::Tests))
        }
    });
    llm(dir.path(), &server)
        .args(["--dry-run", "--no-cache", "--max-concurrent", "1"])
        .assert()
        .success();
    let calls = server.calls();
    assert_eq!(calls.len(), 4);
    let retry = calls
        .iter()
        .skip(1)
        .find(|c| c.names == calls[0].names)
        .unwrap();
    let others: Vec<&Call> = calls.iter().filter(|c| c.names != calls[0].names).collect();
    assert_eq!(others.len(), 2);
    assert!(
        others.iter().all(|c| c.at < retry.at),
        "the other files waited for the backoff: the slot was held"
    );
}

#[test]
fn statuses_are_retried_or_not_as_they_should_be() {
    // (status, attempts the server should see for the file, whether the run fails)
    for (status, attempts, fatal) in [
        (408, 3, false),
        (409, 3, false),
        (400, 1, false),
        (422, 1, false),
        (403, 1, true),
        (404, 1, true),
    ] {
        let dir = fixture("llm");
        let server = Server::start(only_for("shout", move || {
            let body = format!(r#"{{"error":{{"message":"status {status}"}}}}"#);
            Reply::Status(status, body, vec![])
        }));
        let assert = llm(dir.path(), &server)
            .args(["--dry-run", "--no-cache"])
            .assert();
        let output = assert.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("HTTP {status}: status {status}")),
            "{status}: {stderr}"
        );
        if fatal {
            assert_eq!(output.status.code(), Some(2), "{status}: {stderr}");
        } else {
            assert_eq!(output.status.code(), Some(0), "{status}: {stderr}");
            let asked = server
                .calls()
                .iter()
                .filter(|c| c.names.contains(&"shout".to_owned()))
                .count();
            assert_eq!(asked, attempts, "{status}");
        }
    }
}

#[test]
fn an_edit_made_while_the_model_answers_wins() {
    let dir = fixture("llm");
    let server =
        Server::start(|_| Reply::Delay(Duration::from_millis(1500), Box::new(Reply::Tests)));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-testsmith"))
        .current_dir(dir.path())
        .args([
            "testsmith",
            "--llm",
            "--no-verify",
            "--provider",
            "ollama",
            "--base-url",
            &server.url,
        ])
        // Else the cache is the caller's target dir's, and a second test run asks nothing.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_TERM_COLOR")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.calls().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no calls arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lib = dir.path().join("src/lib.rs");
    let edited = std::fs::read_to_string(&lib).unwrap()
        + "
pub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n";
    std::fs::write(&lib, &edited).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: src/lib.rs changed while tests were being generated; left as it is now"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), edited);
    assert!(
        read(dir.path(), "src/text.rs").contains("fn shouts()"),
        "other files still written"
    );
}

/// A trait's method goes to the model with its impl header and, for the crate's own trait,
/// the trait's definition; the schema enumerates the `<Type as Trait>::method` names; a test
/// that calls it through `to_string()` is taken as its test.
#[test]
fn trait_methods_are_asked_for_with_their_impl_and_trait() {
    let dir = fixture("traits");
    let server = Server::start(|call| {
        tests_for(&call.names, |name| {
            (name == "<Money as Display>::fmt").then(|| {
                "#[test]\nfn shows_cents() {\n    assert_eq!(Money::from(150i64).to_string(), \"1.50\");\n}".to_owned()
            })
        })
    });
    llm(dir.path(), &server)
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains("+    fn shows_cents() {"));
    let first = &server.calls()[0];
    assert!(
        first.names.iter().any(|n| n == "<Money as From<u8>>::from"),
        "{:?}",
        first.names
    );
    let prompt = &first.prompt;
    assert!(
        prompt.contains(
            "### <Money as Display>::fmt\nIn `impl fmt::Display for Money`:\n```rust\nfn fmt("
        ),
        "{prompt}"
    );
    let snake = &prompt[prompt
        .find("### <str as ToSnakeCase>::to_snake_case")
        .unwrap()..];
    let snake = &snake[..snake[4..].find("### ").map_or(snake.len(), |i| i + 4)];
    assert!(snake.contains("Uses (below): `ToSnakeCase`"), "{snake}");
    // The crate's own trait is shown once, with the types, however many items name it (the
    // whole file, small enough to go in, comes after).
    let context = prompt.split("The whole file, for context:").next().unwrap();
    assert_eq!(
        context.matches("pub trait ToSnakeCase {").count(),
        1,
        "{prompt}"
    );
}

#[test]
fn a_type_with_private_fields_is_shown_once_with_its_constructors() {
    let dir = fixture("context");
    let server = Server::start(|call: &Call| tests_for(&call.names, |_| None));
    llm(dir.path(), &server).arg("--dry-run").assert().success();
    let calls = server.calls();
    let payment = calls
        .iter()
        .find(|c| c.names.iter().any(|n| n == "process_payment"))
        .expect("a call for src/payment.rs");
    let prompt = &payment.prompt;
    let mut names = payment.names.clone();
    names.sort();
    assert_eq!(names, ["process_payment", "refund"]);
    // Two items take `Money`; its definition is there once, with how to make one.
    assert_eq!(prompt.matches("struct Money {").count(), 1, "{prompt}");
    assert_eq!(
        prompt.matches("Uses (below): `Money`").count(),
        2,
        "{prompt}"
    );
    for way in [
        "It has private fields, so a struct literal does not compile in a test; make one with:",
        "- `Money::new(dollars: i64, cents: i64) -> Money`",
        "- `Money::from_cents(cents: i64) -> Self`",
    ] {
        assert!(prompt.contains(way), "no `{way}` in:\n{prompt}");
    }
    assert!(
        !prompt.contains("Money::cents("),
        "a method is no constructor:\n{prompt}"
    );
}
