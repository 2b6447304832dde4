//! Message kinds: the `u16` in every frame header that says which message
//! the frame carries. Numbers are grouped by direction and never reused.

/// Which messages travel on which connections.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// `Hello`, `Welcome`, `Refused`: the first frame each way.
    Handshake,
    /// Client → scheduler.
    ClientToScheduler,
    /// Scheduler → client.
    SchedulerToClient,
    /// Worker → scheduler.
    WorkerToScheduler,
    /// Scheduler → worker.
    SchedulerToWorker,
    /// Anyone → a worker's data port, and its answers.
    Peer,
}

impl Direction {
    /// A human name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Handshake => "a handshake message",
            Direction::ClientToScheduler => "a client → scheduler message",
            Direction::SchedulerToClient => "a scheduler → client message",
            Direction::WorkerToScheduler => "a worker → scheduler message",
            Direction::SchedulerToWorker => "a scheduler → worker message",
            Direction::Peer => "a worker data-port message",
        }
    }
}

macro_rules! kinds {
    ($($name:ident = $n:literal, $dir:ident, $label:literal;)*) => {
        /// The kind of message a frame carries.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[repr(u16)]
        pub enum Kind {
            $(
                #[doc = $label]
                $name = $n,
            )*
        }

        impl Kind {
            /// Every kind, in number order.
            pub const ALL: &'static [Kind] = &[$(Kind::$name),*];

            /// The kind with this number, if this version defines one.
            pub fn from_u16(n: u16) -> Option<Kind> {
                match n {
                    $($n => Some(Kind::$name),)*
                    _ => None,
                }
            }

            /// Its number on the wire.
            pub fn to_u16(self) -> u16 {
                self as u16
            }

            /// Where it travels.
            pub fn direction(self) -> Direction {
                match self {
                    $(Kind::$name => Direction::$dir,)*
                }
            }

            /// Its name, for error messages.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$name => $label,)*
                }
            }
        }
    };
}

kinds! {
    Hello = 0x0001, Handshake, "hello";
    Welcome = 0x0002, Handshake, "welcome";
    Refused = 0x0003, Handshake, "refused";

    UpdateGraph = 0x0010, ClientToScheduler, "update-graph";
    ReleaseKeys = 0x0011, ClientToScheduler, "release-keys";
    CancelKeys = 0x0012, ClientToScheduler, "cancel-keys";
    Gather = 0x0013, ClientToScheduler, "gather";
    Scatter = 0x0014, ClientToScheduler, "scatter";
    ClientHeartbeat = 0x0015, ClientToScheduler, "client-heartbeat";
    Close = 0x0016, ClientToScheduler, "close";
    AdaptiveTarget = 0x0017, ClientToScheduler, "adaptive-target";
    RetireWorkers = 0x0018, ClientToScheduler, "retire-workers";
    Coordinate = 0x0019, ClientToScheduler, "coordinate";
    Info = 0x001A, ClientToScheduler, "info";
    Replicate = 0x001B, ClientToScheduler, "replicate";
    Restart = 0x001C, ClientToScheduler, "restart";
    Rebalance = 0x001D, ClientToScheduler, "rebalance";

    KeyInMemory = 0x0020, SchedulerToClient, "key-in-memory";
    KeyErred = 0x0021, SchedulerToClient, "key-erred";
    KeyLost = 0x0022, SchedulerToClient, "key-lost";
    KeyCancelled = 0x0023, SchedulerToClient, "key-cancelled";
    UpdateRefused = 0x0024, SchedulerToClient, "update-refused";
    GatherReply = 0x0025, SchedulerToClient, "gather-reply";
    ScatterDone = 0x0026, SchedulerToClient, "scatter-done";
    AdaptiveTargetReply = 0x0027, SchedulerToClient, "adaptive-target-reply";
    Retired = 0x0028, SchedulerToClient, "retired";
    Coordinated = 0x0029, SchedulerToClient, "coordinated";
    InfoReply = 0x002A, SchedulerToClient, "info-reply";

    Register = 0x0030, WorkerToScheduler, "register";
    TaskFinished = 0x0031, WorkerToScheduler, "task-finished";
    TaskErred = 0x0032, WorkerToScheduler, "task-erred";
    FetchFailed = 0x0033, WorkerToScheduler, "fetch-failed";
    StealResponse = 0x0034, WorkerToScheduler, "steal-response";
    AddKeys = 0x0035, WorkerToScheduler, "add-keys";
    WorkerHeartbeat = 0x0036, WorkerToScheduler, "worker-heartbeat";
    RetireMe = 0x0037, WorkerToScheduler, "retire-me";
    WorkerEvents = 0x0038, WorkerToScheduler, "worker-events";

    Registered = 0x0040, SchedulerToWorker, "registered";
    Compute = 0x0041, SchedulerToWorker, "compute";
    FreeKeys = 0x0042, SchedulerToWorker, "free-keys";
    CancelCompute = 0x0043, SchedulerToWorker, "cancel-compute";
    StealRequest = 0x0044, SchedulerToWorker, "steal-request";
    AcquireReplicas = 0x0045, SchedulerToWorker, "acquire-replicas";
    CloseWorker = 0x0046, SchedulerToWorker, "close-worker";

    GetData = 0x0050, Peer, "get-data";
    Data = 0x0051, Peer, "data";
    Busy = 0x0052, Peer, "busy";
    PutData = 0x0053, Peer, "put-data";
    Stored = 0x0054, Peer, "stored";
    Run = 0x0055, Peer, "run";
    Ran = 0x0056, Peer, "ran";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &k in Kind::ALL {
            assert_eq!(Kind::from_u16(k.to_u16()), Some(k));
            assert!(seen.insert(k.to_u16()));
        }
        assert_eq!(Kind::from_u16(0), None);
        assert_eq!(Kind::from_u16(0xffff), None);
    }
}
