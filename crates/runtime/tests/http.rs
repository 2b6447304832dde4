//! The scheduler's HTTP API on a running cluster: workers, task counts,
//! Prometheus metrics and the adaptive target, as a deployment's
//! autoscaler reads them; malformed requests answered with what is wrong.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use blockwork_graph::Value;
use blockwork_runtime::{LocalCluster, SchedulerOptions, WorkerOptions};

/// Sends `request` and returns the status and body of the answer.
fn send(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let status = reply.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn get(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = send(addr, format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn the_http_api_reports_workers_tasks_metrics_and_the_adaptive_target() {
    let options = SchedulerOptions { http: Some("127.0.0.1:0".into()), ..SchedulerOptions::default() };
    let cluster = LocalCluster::start_with(2, WorkerOptions::new(1, "w"), options).unwrap();
    let http = cluster.http_address().expect("an HTTP API");

    let workers = get(http, "/api/v1/workers");
    let workers = workers.as_array().unwrap();
    assert_eq!(workers.len(), 2);
    assert!(workers.iter().all(|w| w["nthreads"] == 1 && w["address"].as_str().unwrap().contains("127.0.0.1")));

    // A value held on one worker: one task in memory; idle, the target
    // keeps its holder and names the other worker to close.
    let client = cluster.client().unwrap();
    let held = client.scatter(vec![Value::Int(7)]).unwrap();
    assert_eq!(get(http, "/api/v1/tasks")["memory"], 1);
    let target = get(http, "/api/v1/adaptive_target?target_duration=1s");
    assert_eq!(target["workers"], 1, "{target}");
    assert_eq!(target["to_close"].as_array().unwrap().len(), 1, "{target}");

    let (status, metrics) = send(http, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, 200);
    assert!(metrics.contains("blockwork_scheduler_workers 2"), "{metrics}");
    assert!(metrics.contains("blockwork_scheduler_tasks{state=\"memory\"} 1"), "{metrics}");
    assert!(metrics.contains("blockwork_scheduler_threads 2"), "{metrics}");
    assert!(metrics.contains("blockwork_worker_memory_bytes{worker=\"w-0\",kind=\"managed\"}"), "{metrics}");
    assert!(metrics.contains("blockwork_worker_threads{worker=\"w-1\"} 1"), "{metrics}");

    // What is wrong is said; the API and the cluster go on.
    let (status, body) = send(http, b"hello\r\n\r\n");
    assert!(status == 400 && body.contains("malformed request line"), "{status} {body}");
    let (status, body) = send(http, b"GET /nope HTTP/1.1\r\n\r\n");
    assert!(status == 404 && body.contains("/api/v1/adaptive_target"), "{status} {body}");
    let (status, body) = send(http, &vec![b'a'; 20_000]);
    assert!(status == 400 && body.contains("too long"), "{status} {body}");
    let (status, _) = send(http, b"GET /api/v1/adaptive_target?target_duration=soon HTTP/1.1\r\n\r\n");
    assert_eq!(status, 400);
    assert_eq!(client.gather(&held).unwrap(), vec![Value::Int(7)]);

    // A second scheduler asking for the same port gets another one.
    let same = SchedulerOptions { http: Some(http.to_string()), ..SchedulerOptions::default() };
    let second = LocalCluster::start_with(0, WorkerOptions::new(1, "w"), same).unwrap();
    let other = second.http_address().expect("an HTTP API");
    assert_ne!(other.port(), http.port());
    assert_eq!(get(other, "/api/v1/workers"), serde_json::json!([]));
}

#[test]
fn the_dashboard_page_and_its_pushed_updates() {
    use std::io::{BufRead, BufReader};
    let options = SchedulerOptions { http: Some("127.0.0.1:0".into()), ..SchedulerOptions::default() };
    let cluster = LocalCluster::start_with(2, WorkerOptions::new(1, "w"), options).unwrap();
    let link = cluster.dashboard_link().unwrap();
    assert!(link.ends_with("/status"), "{link}");
    let http = cluster.http_address().unwrap();
    let (status, page) = send(http, b"GET /status HTTP/1.1\r\n\r\n");
    assert!(status == 200 && page.contains("<canvas id=\"stream\""), "{status}");
    // Some tasks, then the stream and the progress name them.
    let client = cluster.client().unwrap();
    let held = client.scatter(vec![Value::Int(1), Value::Int(2)]).unwrap();
    let total = client.submit(common_add(), held.iter().map(blockwork_graph::Arg::from).collect()).unwrap();
    assert_eq!(total.result().unwrap(), Value::Int(3));
    // (The workers' transfers, reported with their heartbeats, may be in
    // the stream too: they are counted apart.)
    let stream = get(http, "/api/v1/stream?since=0");
    assert_eq!(added(&stream), 1, "{stream}");
    let progress = get(http, "/api/v1/progress");
    assert!(progress.as_array().unwrap().iter().any(|r| r["finished"] == 1), "{progress}");
    assert!(progress.as_array().unwrap().iter().all(|r| r["forgotten"].is_u64()), "{progress}");
    // The page's pushed updates: server-sent events, each a JSON update.
    let mut s = TcpStream::connect(http).unwrap();
    s.write_all(b"GET /api/v1/events HTTP/1.1\r\n\r\n").unwrap();
    let mut lines = BufReader::new(s).lines();
    assert!(lines.next().unwrap().unwrap().starts_with("HTTP/1.1 200"));
    let data = lines.map(Result::unwrap).find(|l| l.starts_with("data: ")).unwrap();
    let update: serde_json::Value = serde_json::from_str(&data["data: ".len()..]).unwrap();
    assert_eq!(added(&update), 1, "{update}");
    assert_eq!(update["workers"].as_array().unwrap().len(), 2);
    assert!(update["system"]["rss_bytes"].as_u64().unwrap() > 0);

    // A performance report holds what ran while it recorded, and only that.
    let path = std::env::temp_dir().join(format!("bw-report-{}.html", std::process::id()));
    let v = blockwork_runtime::performance_report(http, &path, || {
        let more = client.submit(common_add(), vec![blockwork_graph::lit(40i64), blockwork_graph::lit(2i64)]).unwrap();
        more.result().unwrap()
    })
    .unwrap();
    assert_eq!(v, Value::Int(42));
    let html = std::fs::read_to_string(&path).unwrap();
    let start = html.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(added(&data), 1, "only the task run meanwhile: {data}");
    assert!(data["records"].as_array().unwrap().len() <= 2, "nothing else but a transfer: {data}");
    assert!(data["memory"]["t_us"].is_array() && data["logs"].is_array(), "{data}");
    assert!(!html.contains("src=\"http"), "nothing loaded from the network");
    let _ = std::fs::remove_file(&path);
}

/// Records of the test's additions in a stream answer.
fn added(answer: &serde_json::Value) -> usize {
    let names = answer["prefixes"].as_array().unwrap();
    let is_add =
        |p: &serde_json::Value| names[p.as_u64().unwrap() as usize].as_str().unwrap().starts_with("http-test-add");
    answer["records"].as_array().unwrap().iter().filter(|r| is_add(&r[0])).count()
}

/// A named addition for the dashboard test.
fn common_add() -> &'static blockwork_graph::NamedFn {
    fn add(_: &Value, args: Vec<Value>) -> blockwork_graph::TaskResult {
        let n: i64 = args.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum();
        Ok(Value::Int(n))
    }
    static ADD: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("http-test-add", add);
    blockwork_graph::register(&ADD);
    &ADD
}

#[test]
fn a_workers_page_holds_its_log_lines_and_cpu_use() {
    fn spin_then_fail(_: &Value, _: Vec<Value>) -> blockwork_graph::TaskResult {
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(1500) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        Err(blockwork_graph::TaskError::new(format!("boom after spinning ({})", x % 2)))
    }
    static FAIL: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("http-test-spin-fail", spin_then_fail);
    blockwork_graph::register(&FAIL);

    let options = SchedulerOptions { http: Some("127.0.0.1:0".into()), ..SchedulerOptions::default() };
    let mut worker = WorkerOptions::new(1, "w");
    worker.heartbeat = std::time::Duration::from_millis(100);
    let cluster = LocalCluster::start_with(2, worker, options).unwrap();
    let http = cluster.http_address().unwrap();
    let client = cluster.client().unwrap();
    let failing = client.submit(&FAIL, vec![]).unwrap();

    // While it spins, its worker reports about a core busy (its task
    // thread's CPU time, though the workers share this process).
    let started = std::time::Instant::now();
    let mut busiest = 0.0f64;
    while busiest < 0.5 && started.elapsed() < std::time::Duration::from_secs(10) {
        let workers = get(http, "/api/v1/workers");
        for w in workers.as_array().unwrap() {
            busiest = busiest.max(w["cpu"].as_f64().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(busiest >= 0.5, "the spinning worker reported {busiest} cores busy");
    let err = failing.result().unwrap_err().to_string();
    assert!(err.contains("boom"), "{err}");

    // The failure is on the page of the worker that ran it, and only there,
    // with the worker's and the scheduler's lines about its joining.
    let mut pages: Vec<serde_json::Value>;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        pages = ["w-0", "w-1"].iter().map(|w| get(http, &format!("/api/v1/workers/{w}"))).collect();
        let told = |p: &serde_json::Value| {
            p["logs"].as_array().unwrap().iter().any(|l| {
                let text = l[1].as_str().unwrap();
                text.contains("task http-test-spin-fail") && text.contains("failed: boom after spinning")
            })
        };
        let told: Vec<bool> = pages.iter().map(told).collect();
        if told.iter().filter(|t| **t).count() == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no page shows the failure once: {pages:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for p in &pages {
        let lines: Vec<&str> = p["logs"].as_array().unwrap().iter().map(|l| l[1].as_str().unwrap()).collect();
        assert!(lines.iter().any(|l| l.starts_with("joined the scheduler at")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("scheduler: joined at")), "{lines:?}");
        assert!(p["left"].is_null() && p["address"].as_str().unwrap().starts_with("127.0.0.1:"));
        // The same page by id and by address.
        let id = p["id"].as_u64().unwrap();
        assert_eq!(get(http, &format!("/api/v1/workers/{id}"))["name"], p["name"]);
        let by_address = format!("/api/v1/workers/tcp%3A%2F%2F{}", p["address"].as_str().unwrap());
        assert_eq!(get(http, &by_address)["name"], p["name"]);
    }
    let (status, page) = send(http, b"GET /status/worker/w-0 HTTP/1.1\r\n\r\n");
    assert!(status == 200 && page.contains("workerView"), "{status}");
    let (status, body) = send(http, b"GET /api/v1/workers/nobody HTTP/1.1\r\n\r\n");
    assert!(status == 404 && body.contains("no worker \\\"nobody\\\""), "{status} {body}");
    let (status, body) = send(http, b"GET /api/v1/workers/%zz HTTP/1.1\r\n\r\n");
    assert!(status == 400 && body.contains("malformed escape"), "{status} {body}");
    let (_, metrics) = send(http, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(metrics.contains("blockwork_worker_cpu{worker=\"w-0\"}"), "{metrics}");
    for counter in ["transfers_total", "transfer_bytes_total", "spills_total", "spilled_bytes_total"] {
        assert!(metrics.contains(&format!("blockwork_worker_{counter}{{worker=\"w-1\"}} ")), "{metrics}");
    }
}
