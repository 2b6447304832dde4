//! Blocking calls made from inside an async runtime are errors that say
//! what to do, not panics (tokio's `block_on` would panic there).

use blockwork_runtime::{serve_scheduler, serve_worker, Client, LocalCluster, SchedulerOptions, WorkerOptions};

#[test]
fn blocking_calls_inside_an_async_runtime_are_errors() {
    let (served, addr) = serve_scheduler("127.0.0.1:0", SchedulerOptions::default()).unwrap();
    let addr = addr.to_string();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let messages = rt.block_on(async {
        vec![
            Client::connect(&addr).err().map(|e| e.to_string()),
            serve_scheduler("127.0.0.1:0", SchedulerOptions::default()).err().map(|e| e.to_string()),
            serve_worker(&addr, WorkerOptions::new(1, "w")).err().map(|e| e.to_string()),
            LocalCluster::start(1, 1).err().map(|e| e.to_string()),
        ]
    });
    for (m, what) in messages.iter().zip(["Client::connect", "serve_scheduler", "serve_worker", "LocalCluster::start"])
    {
        let m = m.as_deref().unwrap_or_else(|| panic!("{what} inside a runtime should be refused"));
        assert!(m.starts_with(what) && m.contains("spawn_blocking"), "{m}");
    }
    // The same calls from a plain thread work.
    let client = Client::connect(&addr).unwrap();
    drop(client);
    drop(served);
}
