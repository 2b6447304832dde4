//! Abstract resources (`{"GPU": 1.0, "MEM": 4e9}`).
//!
//! Names are interned to [`ResourceId`]s once, at the edge; amounts are
//! kept in thousandths as integers, so that taking and giving back the
//! same amounts always returns to exactly zero.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::sync::Arc;

use crate::error::SchedError;
use crate::ids::ResourceId;

/// Amount of a resource, in thousandths of a unit.
pub(crate) type Milli = u64;

/// What a task needs while it runs: `(resource, amount)`, sorted by id.
pub(crate) type ResourceRequest = SmallVec<[(ResourceId, Milli); 2]>;

/// Amounts by resource id, for a worker's total and what is in use.
pub(crate) type ResourceVec = SmallVec<[Milli; 4]>;

/// Interned resource names.
#[derive(Default, Debug)]
pub(crate) struct ResourceNames {
    ids: FxHashMap<Arc<str>, ResourceId>,
}

impl ResourceNames {
    pub fn intern(&mut self, name: &str) -> ResourceId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = ResourceId(self.ids.len() as u32);
        self.ids.insert(name.into(), id);
        id
    }

    /// Turns `(name, amount)` pairs into a request, checking amounts;
    /// `owner` names the task or worker in the error.
    pub fn request(
        &mut self,
        owner: &dyn Fn() -> String,
        raw: &[(Arc<str>, f64)],
    ) -> Result<ResourceRequest, SchedError> {
        let mut req = ResourceRequest::new();
        for (name, amount) in raw {
            let milli = to_milli(*amount).ok_or_else(|| SchedError::InvalidResource {
                key: owner(),
                resource: name.to_string(),
                amount: *amount,
            })?;
            let id = self.intern(name);
            match req.iter_mut().find(|(r, _)| *r == id) {
                Some((_, m)) => *m += milli,
                None => req.push((id, milli)),
            }
        }
        req.sort_unstable();
        Ok(req)
    }
}

fn to_milli(amount: f64) -> Option<Milli> {
    (0.0..1e15).contains(&amount).then(|| (amount * 1000.0).round() as Milli)
}

/// Amount of `r` in `v` (zero past its end).
#[inline]
pub(crate) fn get(v: &ResourceVec, r: ResourceId) -> Milli {
    v.get(r.idx()).copied().unwrap_or(0)
}

/// Adds (`add`) or takes away a request's amounts in `v`.
pub(crate) fn apply(v: &mut ResourceVec, req: &ResourceRequest, add: bool) {
    for &(r, m) in req {
        if v.len() <= r.idx() {
            v.resize(r.idx() + 1, 0);
        }
        if add {
            v[r.idx()] += m;
        } else {
            v[r.idx()] -= m;
        }
    }
}

/// Whether `total - used` covers `req`.
pub(crate) fn fits_free(total: &ResourceVec, used: &ResourceVec, req: &ResourceRequest) -> bool {
    req.iter().all(|&(r, m)| get(total, r) >= get(used, r) + m)
}
