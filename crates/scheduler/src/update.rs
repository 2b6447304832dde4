//! Graph updates from clients: checked completely, then applied.
//!
//! An update is a batch of tasks (each naming its dependencies by key)
//! and the keys the client wants. Nothing of it is applied unless all of
//! it is valid, so a rejected update leaves the scheduler as it was.
//! A task whose key the scheduler already knows is not replaced: equal
//! keys mean equal computations, so the client simply shares it (a key is
//! computed once, for every client that wants it).

use std::collections::VecDeque;
use std::sync::Arc;

use blockwork_graph::Key;
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use crate::comm::Comm;
use crate::core::Core;
use crate::error::SchedError;
use crate::ids::{ClientId, TaskId};
use crate::resources::ResourceRequest;
use crate::task::{Payload, Priority, Restrict, Task, TaskState, TaskStateKind};

/// One task of a graph update.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// Its key.
    pub key: Key,
    /// The keys of its inputs, in the order the task takes them.
    pub deps: Vec<Key>,
    /// Its position in the graph's static order (lower runs first).
    pub priority: u32,
    /// The serialized task, forwarded to workers unchanged.
    pub payload: Payload,
    /// How many times to rerun it after an error.
    pub retries: u32,
    /// Abstract resources it holds while running, e.g. `[("GPU", 1.0)]`.
    pub resources: Vec<(Arc<str>, f64)>,
    /// The user's priority (Dask's `priority=`): higher runs first, before
    /// tasks of lower priority submitted earlier; 0 for most.
    pub user_priority: i32,
    /// The workers (by address or name) it may run on; empty: any.
    pub workers: Vec<Arc<str>>,
    /// With `workers`: any worker may take it while none of those runs
    /// (Dask's `allow_other_workers`).
    pub loose: bool,
}

impl TaskSpec {
    /// A task with no retries, resources, priority or restriction.
    pub fn new(key: impl Into<Key>, deps: Vec<Key>, priority: u32, payload: Payload) -> Self {
        TaskSpec {
            key: key.into(),
            deps,
            priority,
            payload,
            retries: 0,
            resources: Vec::new(),
            user_priority: 0,
            workers: Vec::new(),
            loose: false,
        }
    }

    /// Only on `workers` (by address or name); with `loose`, on any
    /// worker while none of them runs.
    pub fn on_workers(mut self, workers: &[&str], loose: bool) -> Self {
        self.workers = workers.iter().map(|w| Arc::from(*w)).collect();
        self.loose = loose;
        self
    }

    /// With the user's priority `p` (higher first).
    pub fn user_priority(mut self, p: i32) -> Self {
        self.user_priority = p;
        self
    }

    /// With `n` retries.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Also needing `amount` of `resource`.
    pub fn resource(mut self, resource: &str, amount: f64) -> Self {
        self.resources.push((resource.into(), amount));
        self
    }
}

/// A batch of tasks and the keys the client wants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphUpdate {
    /// New tasks (known keys among them are ignored).
    pub tasks: Vec<TaskSpec>,
    /// Keys the client wants results of (new or known).
    pub wanted: Vec<Key>,
}

impl Core {
    /// Validates and applies an update; on error nothing changed.
    pub(crate) fn update_graph(
        &mut self,
        client: ClientId,
        update: GraphUpdate,
        comm: &mut dyn Comm,
    ) -> Result<(), SchedError> {
        if self.clients.get(client.idx()).and_then(Option::as_ref).is_none() {
            return Err(SchedError::UnknownClient(client));
        }
        let (order, resources) = self.check_update(&update)?;
        self.generation += 1;
        let mut slots: FxHashMap<&Key, TaskId> = FxHashMap::default();
        for (i, req) in order.into_iter().zip(resources) {
            let spec = &update.tasks[i];
            let mut deps: SmallVec<[TaskId; 4]> = SmallVec::new();
            let mut dedup = Dedup::default();
            for d in &spec.deps {
                let id = slots.get(d).copied().or_else(|| self.id_of(d)).expect("checked");
                if dedup.first(&deps, id) {
                    deps.push(id);
                }
            }
            let t = self.new_task(spec, deps, req);
            slots.insert(&spec.key, t);
        }
        for key in &update.wanted {
            let t = slots.get(key).copied().or_else(|| self.id_of(key)).expect("checked");
            self.want(client, t, comm);
        }
        Ok(())
    }

    pub(crate) fn new_task(
        &mut self,
        spec: &TaskSpec,
        deps: SmallVec<[TaskId; 4]>,
        resources: Option<ResourceRequest>,
    ) -> TaskId {
        let t = self.free_ids.pop().unwrap_or_else(|| {
            self.tasks.push(None);
            TaskId(self.tasks.len() as u32 - 1)
        });
        for &d in &deps {
            self.tm(d).dependents.insert(t);
        }
        match self.groups.get_mut(spec.key.name()) {
            Some(n) => *n += 1,
            None => {
                self.groups.insert(spec.key.shared_name().clone(), 1);
            }
        }
        self.tasks[t.idx()] = Some(Task {
            key: spec.key.clone(),
            state: TaskState::Released,
            priority: Priority::with_user(spec.user_priority, self.generation, spec.priority),
            payload: spec.payload.clone(),
            deps,
            dependents: FxHashSet::default(),
            waiters: 0,
            who_wants: SmallVec::new(),
            prefix: self.durations.intern(spec.key.prefix()),
            retries: spec.retries,
            suspicious: 0,
            resources: resources.map(Box::new),
            restrict: Restrict::of(spec),
            scattered: false,
        });
        self.transitions.record(&spec.key, None, Some(TaskStateKind::Released));
        self.index.insert(spec.key.clone(), t);
        // Not wanted and not depended on: forgotten again when settled.
        self.dirty.push(t);
        t
    }

    /// Checks an update; returns the new tasks (indices into
    /// `update.tasks`) in dependency order with their resource requests.
    #[allow(clippy::type_complexity)]
    fn check_update(&mut self, update: &GraphUpdate) -> Result<(Vec<usize>, Vec<Option<ResourceRequest>>), SchedError> {
        let mut seen: FxHashSet<&Key> = FxHashSet::default();
        let mut new: FxHashMap<&Key, usize> = FxHashMap::default();
        for (i, spec) in update.tasks.iter().enumerate() {
            if !seen.insert(&spec.key) {
                return Err(SchedError::DuplicateKey(spec.key.clone()));
            }
            if self.id_of(&spec.key).is_none() {
                new.insert(&spec.key, i);
            }
        }
        for key in &update.wanted {
            if !new.contains_key(key) && self.id_of(key).is_none() {
                return Err(SchedError::UnknownKey(key.clone()));
            }
        }
        // Kahn's algorithm over the new tasks: dependency order, or a cycle.
        let mut indegree: FxHashMap<usize, u32> = FxHashMap::default();
        let mut dependents: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        let mut new_ids: Vec<usize> = new.values().copied().collect();
        new_ids.sort_unstable();
        for &i in &new_ids {
            let spec = &update.tasks[i];
            let mut n = 0;
            let mut counted: SmallVec<[usize; 4]> = SmallVec::new();
            let mut dedup = Dedup::default();
            for d in &spec.deps {
                match new.get(d) {
                    Some(&j) if dedup.first(&counted, j) => {
                        counted.push(j);
                        n += 1;
                        dependents.entry(j).or_default().push(i);
                    }
                    Some(_) => {}
                    None if self.id_of(d).is_some() => {}
                    None => return Err(SchedError::UnknownDependency { key: spec.key.clone(), dep: d.clone() }),
                }
            }
            indegree.insert(i, n);
        }
        let mut ready: VecDeque<usize> = new_ids.iter().copied().filter(|i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(new_ids.len());
        while let Some(i) = ready.pop_front() {
            order.push(i);
            for &j in dependents.get(&i).map(Vec::as_slice).unwrap_or(&[]) {
                let n = indegree.get_mut(&j).expect("new");
                *n -= 1;
                if *n == 0 {
                    ready.push_back(j);
                }
            }
        }
        if order.len() < new_ids.len() {
            // Walk unsorted dependencies from an unsorted task until one
            // repeats: that one is on a cycle (not merely after one).
            let mut at = *new_ids.iter().find(|i| indegree[i] > 0).expect("an unsorted task");
            let mut visited: FxHashSet<usize> = FxHashSet::default();
            while visited.insert(at) {
                at = update.tasks[at]
                    .deps
                    .iter()
                    .filter_map(|d| new.get(d).copied())
                    .find(|j| indegree[j] > 0)
                    .expect("an unsorted task has an unsorted dependency");
            }
            return Err(SchedError::Cycle(update.tasks[at].key.clone()));
        }
        let mut requests = Vec::with_capacity(order.len());
        for &i in &order {
            let spec = &update.tasks[i];
            requests.push(if spec.resources.is_empty() {
                None
            } else {
                Some(self.resource_names.request(&|| spec.key.to_string(), &spec.resources)?)
            });
        }
        Ok((order, requests))
    }
}

/// Whether an id is new to a list being built: a scan while the list is
/// short, a hash set once it is long (a reduction over 100,000 blocks
/// must not cost 10^10 comparisons).
struct Dedup<T> {
    seen: Option<FxHashSet<T>>,
}

impl<T> Default for Dedup<T> {
    fn default() -> Self {
        Dedup { seen: None }
    }
}

impl<T: Copy + Eq + std::hash::Hash> Dedup<T> {
    const SCAN_UP_TO: usize = 16;

    fn first(&mut self, list: &[T], x: T) -> bool {
        if list.len() < Self::SCAN_UP_TO {
            return !list.contains(&x);
        }
        let seen = self.seen.get_or_insert_with(|| list.iter().copied().collect());
        seen.insert(x)
    }
}
