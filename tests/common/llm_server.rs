//! A scripted LLM server on 127.0.0.1, started by the test itself: it speaks the OpenAI,
//! Anthropic and Ollama formats, records every request, counts requests in flight, and answers
//! what the test's script says (latency, error statuses, dropped connections, hangs, odd
//! replies).
//!
//! Also the benchmark's server (`examples/llm_bench.rs` includes this file), which uses a part.

#![cfg_attr(not(test), allow(dead_code))]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Call {
    /// 0-based, in arrival order.
    pub index: usize,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    /// The item names the prompt asks for (its `### name` lines).
    pub names: Vec<String>,
    /// The user prompt.
    pub prompt: String,
    pub at: Instant,
}

/// What to answer.
pub enum Reply {
    /// A passing test for each requested name, in the JSON envelope.
    Tests,
    /// The envelope for only these of the requested names.
    TestsFor(Vec<String>),
    /// This text as the model's answer.
    Text(String),
    /// An error status with a body and headers.
    Status(u16, String, Vec<(&'static str, String)>),
    /// A 200 whose body is not the provider's format.
    Garbage,
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Never answer (until the client gives up).
    Hang,
    /// Start a 200 and break the connection mid-body.
    Drop,
}

type Script = dyn Fn(&Call) -> Reply + Send + Sync;

struct Shared {
    script: Box<Script>,
    calls: Mutex<Vec<Call>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub struct Server {
    pub url: String,
    shared: Arc<Shared>,
}

impl Server {
    /// Start a server answering by `script`, on its own thread and runtime.
    pub fn start(script: impl Fn(&Call) -> Reply + Send + Sync + 'static) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            script: Box::new(script),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let state = shared.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        Server { url, shared }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let call = {
        let mut calls = shared.calls.lock().unwrap();
        let call = Call {
            index: calls.len(),
            path: uri.path().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                .collect(),
            names: requested_names(&body),
            prompt: user_prompt(&body).to_owned(),
            body,
            at: Instant::now(),
        };
        calls.push(call.clone());
        call
    };
    let reply = (shared.script)(&call);
    let response = answer(&call, reply).await;
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn answer(
    call: &Call,
    reply: Reply,
) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send + '_>> {
    Box::pin(async move {
        match reply {
            Reply::Tests => model_text(call, &envelope(&call.names)),
            Reply::TestsFor(names) => model_text(call, &envelope(&names)),
            Reply::Text(text) => model_text(call, &text),
            Reply::Status(status, body, headers) => {
                let mut response = Response::builder().status(status);
                for (name, value) in headers {
                    response = response.header(name, value);
                }
                response.body(Body::from(body)).unwrap()
            }
            Reply::Garbage => Response::new(Body::from("<html>proxy error</html>")),
            Reply::Delay(wait, then) => {
                tokio::time::sleep(wait).await;
                answer(call, *then).await
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Response::new(Body::empty())
            }
            Reply::Drop => {
                let chunks: Vec<Result<&'static str, std::io::Error>> =
                    vec![Ok("{\"choices\":"), Err(std::io::Error::other("dropped"))];
                Response::builder()
                    .status(StatusCode::OK)
                    .header("content-length", "1000")
                    .body(Body::from_stream(futures_util::stream::iter(chunks)))
                    .unwrap()
            }
        }
    })
}

/// The model's text wrapped in the reply format of the provider the path belongs to.
fn model_text(call: &Call, text: &str) -> Response {
    let body = if call.path.ends_with("/messages") {
        match serde_json::from_str::<Value>(text) {
            Ok(input) => {
                json!({"content": [{"type": "tool_use", "id": "t1", "name": "emit_tests", "input": input}]})
            }
            Err(_) => json!({"content": [{"type": "text", "text": text}]}),
        }
    } else if call.path.ends_with("/api/chat") {
        json!({"message": {"role": "assistant", "content": text}, "done": true})
    } else {
        json!({"choices": [{"message": {"role": "assistant", "content": text}}]})
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn user_prompt(body: &Value) -> &str {
    body.pointer("/messages")
        .and_then(Value::as_array)
        .and_then(|messages| messages.iter().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
}

/// The names a prompt asks for: its `### name` lines.
fn requested_names(body: &Value) -> Vec<String> {
    user_prompt(body)
        .lines()
        .filter_map(|line| line.strip_prefix("### "))
        .map(str::to_owned)
        .collect()
}

/// The envelope with `code(name)` as the test of each name it gives code for.
pub fn tests_for(names: &[String], code: impl Fn(&str) -> Option<String>) -> Reply {
    let tests: Vec<Value> = names
        .iter()
        .filter_map(|name| code(name).map(|code| json!({"name": name, "code": code})))
        .collect();
    Reply::Text(json!({ "tests": tests }).to_string())
}

/// A passing test for each item of `fixtures/llm`, in the envelope.
pub fn envelope(names: &[String]) -> String {
    let tests: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "code": passing_test(name)}))
        .collect();
    json!({ "tests": tests }).to_string()
}

pub fn passing_test(name: &str) -> String {
    match name {
        "add" => "#[test]\nfn adds() {\n    assert_eq!(add(2, 3), 5);\n}".to_owned(),
        "mul" => "#[test]\nfn multiplies() {\n    assert_eq!(mul(4, 5), 20);\n}".to_owned(),
        "Counter::new" => "#[test]\nfn starts_at_zero() {\n    assert_eq!(Counter::new().get(), 0);\n}".to_owned(),
        "Counter::increment" => "#[test]\nfn increments() {\n    let mut counter = Counter::new();\n    counter.increment();\n    assert_eq!(counter.get(), 1);\n}".to_owned(),
        "Counter::get" => "#[test]\nfn gets_the_count() {\n    let counter = Counter::new();\n    assert_eq!(counter.get(), 0);\n}".to_owned(),
        "shout" => "#[test]\nfn shouts() {\n    assert_eq!(shout(\"hi\"), \"HI\");\n}".to_owned(),
        "initials" => "#[test]\nfn initials_of_a_name() {\n    assert_eq!(initials(\"Ada Lovelace\"), \"AL\");\n}".to_owned(),
        // Synthetic crates (the benchmark): items are `fN(x: i32) -> i32`.
        other => {
            let ident = other.rsplit("::").next().unwrap_or(other);
            format!("#[test]\nfn {ident}_runs() {{\n    let _ = {other}(1);\n}}")
        }
    }
}

/// A script answering `reply()` to calls that ask for `name`, and passing tests to the rest.
pub fn only_for(
    name: &'static str,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
) -> impl Fn(&Call) -> Reply + Send + Sync + 'static {
    move |call| {
        if call.names.iter().any(|n| n == name) {
            reply()
        } else {
            Reply::Tests
        }
    }
}
