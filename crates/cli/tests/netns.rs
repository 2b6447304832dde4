//! Scheduler and workers on three "hosts": network namespaces joined by a
//! bridge, as separate machines on one network would be. Needs root (to
//! make namespaces); skipped, saying why, otherwise — except where
//! `BLOCKWORK_REQUIRE_NETNS` is set (the test command), where it fails.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use blockwork::array as bwa;
use common::{blockwork, lines_of, Terminated};

/// Runs `ip …`; whether it succeeded.
fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Three namespaces `{tag}-1..3` with addresses `{net}.1..3` on a bridge
/// that also gives this process `{net}.254`; removed on drop.
struct Hosts {
    tag: String,
    net: String,
}

impl Hosts {
    fn make() -> Result<Hosts, String> {
        let id = std::process::id() % 10_000;
        let hosts = Hosts { tag: format!("bw{id}"), net: format!("10.77.{}", id % 250) };
        let (tag, net) = (&hosts.tag, &hosts.net);
        let bridge = format!("{tag}br");
        if !ip(&["link", "add", &bridge, "type", "bridge"]) {
            return Err("cannot make a bridge (not root, or no CAP_NET_ADMIN)".into());
        }
        let mut ok =
            ip(&["addr", "add", &format!("{net}.254/24"), "dev", &bridge]) && ip(&["link", "set", &bridge, "up"]);
        for i in 1..=3 {
            let (ns, veth) = (format!("{tag}-{i}"), format!("{tag}v{i}"));
            ok = ok
                && ip(&["netns", "add", &ns])
                && ip(&["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns])
                && ip(&["link", "set", &veth, "master", &bridge, "up"])
                && ip(&["-n", &ns, "addr", "add", &format!("{net}.{i}/24"), "dev", "eth0"])
                && ip(&["-n", &ns, "link", "set", "eth0", "up"])
                && ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        if ok {
            Ok(hosts)
        } else {
            Err("cannot make network namespaces".into())
        }
    }

    /// `blockwork ARGS` on host `i`.
    fn run(&self, i: u32, args: &[&str]) -> Terminated {
        let child = Command::new("ip")
            .args(["netns", "exec", &format!("{}-{i}", self.tag)])
            .arg(env!("CARGO_BIN_EXE_blockwork"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ip netns exec");
        Terminated(child)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for i in 1..=3 {
            ip(&["netns", "del", &format!("{}-{i}", self.tag)]);
        }
        ip(&["link", "del", &format!("{}br", self.tag)]);
    }
}

#[test]
fn a_cluster_over_three_hosts() {
    let _ = blockwork; // the binary runs inside the namespaces
    let hosts = match Hosts::make() {
        Ok(h) => h,
        Err(why) if std::env::var("BLOCKWORK_REQUIRE_NETNS").is_ok() => {
            panic!("BLOCKWORK_REQUIRE_NETNS is set but the hosts cannot be made: {why}")
        }
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    blockwork::register_builtins();
    let net = hosts.net.clone();
    let mut scheduler = hosts.run(1, &["scheduler", "--host", &format!("{net}.1"), "--port", "8786"]);
    let sched_out = lines_of(scheduler.0.stdout.take().unwrap());
    let line = sched_out.recv_timeout(Duration::from_secs(60)).expect("the scheduler's line");
    assert_eq!(line, format!("scheduler at tcp://{net}.1:8786"));
    let mut workers = Vec::new();
    for i in [2, 3] {
        let mut w =
            hosts.run(i, &["worker", &format!("tcp://{net}.1:8786"), "--nthreads", "1", "--name", &format!("h{i}")]);
        let out = lines_of(w.0.stdout.take().unwrap());
        let line = out.recv_timeout(Duration::from_secs(60)).expect("a worker's line");
        // Each worker is reached at its own host's address.
        assert!(line.starts_with(&format!("worker h{i} at {net}.{i}:")), "{line}");
        workers.push(w);
    }
    let client = blockwork::distributed::Client::connect(&format!("{net}.1:8786")).unwrap();
    let x = bwa::random::random(&[200, 200], [50, 50], 9).unwrap();
    let y = (&x.dot(&x.t()).unwrap() - x.mean_axis(0).unwrap()).sum();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    let want = y.compute().unwrap();
    assert!((got[[]] - want[[]]).abs() <= 1e-9 * want[[]].abs().max(1.0), "{got} vs {want}");
    drop(client);
    drop(workers);
    drop(scheduler);
}
