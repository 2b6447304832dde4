//! Deterministic simulation of the scheduler in a faulty cluster: many
//! seeds, each a random graph, cluster and fault schedule; invariants
//! checked after every event, results against a plain evaluation, and no
//! leaks at the end. A failing seed is reproduced with `SIM_SEED=<n>`; `SIM_SOAK=<n>`
//! runs `n` more seeds.

mod simulation;

use blockwork_testkit::sim;
use simulation::{Sim, Stats};

fn run_seeds(seeds: std::ops::Range<u64>) -> Stats {
    sim::run_seeds(seeds, |seed| Sim::new(seed).run())
}

/// `SIM_SOAK=<n>` runs seeds 2000..2000+n as well (for soaking, not CI).
#[test]
fn sim_soak() {
    sim::soak(2000, |seed| Sim::new(seed).run());
}

#[test]
fn sim_seeds_0_500() {
    run_seeds(0..500);
}

#[test]
fn sim_seeds_500_1000() {
    run_seeds(500..1000);
}

#[test]
fn sim_seeds_1000_1500() {
    run_seeds(1000..1500);
}

#[test]
fn sim_seeds_1500_2000() {
    let s = run_seeds(1500..2000);
    if !sim::one_seed() {
        // The faults and features are actually exercised.
        assert!(s.deaths > 0 && s.hangs_detected > 0 && s.killed_worker > 0, "{s:?}");
        assert!(s.steals_released > 0 && s.fetch_failures > 0 && s.counts.erred > 0, "{s:?}");
        assert!(s.max_queued > 0 && s.gpu_runs > 0 && s.second_clients > 0, "{s:?}");
        // Every row of the transition table is taken but a scatter's
        // (released → memory), which the reactor tests take: the
        // simulated clients scatter nothing.
        use blockwork_scheduler::TaskStateKind::{Memory, Released};
        assert_eq!(s.transitions.unexercised(), [(Some(Released), Some(Memory))], "{:?}", s.transitions);
    }
}

/// A worker lost at every step: small graphs, each run once per event
/// of its undisturbed run, with a worker killed right after that event;
/// every run must end with the right results and no leaks.
#[test]
fn a_worker_lost_at_every_step() {
    let mut graphs = 0;
    let mut runs = 0;
    for seed in 0..1000 {
        if graphs == 20 {
            break;
        }
        if Sim::new(seed).num_tasks() > 16 {
            continue;
        }
        graphs += 1;
        let events = Sim::with_kill_at(seed, u64::MAX).run().counts.events;
        for step in 1..=events {
            let s = Sim::with_kill_at(seed, step).run();
            assert!(s.deaths <= 1, "seed {seed} step {step}");
            runs += 1;
        }
    }
    assert_eq!(graphs, 20, "twenty small graphs among the seeds");
    eprintln!("{runs} runs, each losing a worker at a different step");
}
