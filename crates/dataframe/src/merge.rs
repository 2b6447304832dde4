//! Joins (pandas' `merge`): when one side is a single partition it is
//! broadcast to every partition of the other (no shuffle); otherwise both
//! sides are hash-shuffled on their keys into as many partitions as the
//! larger has, and partition `j` of one joins partition `j` of the other.

use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, r, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Tokenize, Value};
use polars::prelude::{DataFrame as PlFrame, DataFrameJoinOps, JoinArgs, JoinCoalesce, JoinType, MaintainOrderJoin};

use crate::error::{DataFrameError, Result};
use crate::expr::col;
use crate::frame::DataFrame;
use crate::param::named_enum;
use crate::partition::Partition;

named_enum! {
    /// Which rows a join keeps.
    pub enum How {
        /// Rows whose keys are on both sides.
        Inner = "inner",
        /// Every left row (missing values where the right has no match).
        Left = "left",
        /// Every right row.
        Right = "right",
        /// Every row of both sides.
        Outer = "outer",
    }
}

kernel_params! {
    /// A join's description: the parameters of `dataframe.join`.
    struct Join {
        left_on: Vec<String>,
        right_on: Vec<String>,
        how: How,
    }
}

/// Suffix of a right column whose name the left has too.
pub const SUFFIX: &str = "_right";

impl Join {
    /// Same-named keys come out once (pandas' `on=`); differently named
    /// keys both stay (pandas' `left_on=`/`right_on=`).
    fn coalesce(&self) -> bool {
        self.left_on == self.right_on
    }

    fn columns(&self, left: &[String], right: &[String]) -> Vec<String> {
        let mut out = left.to_vec();
        for c in right {
            if self.coalesce() && self.right_on.contains(c) {
                continue;
            }
            out.push(if left.contains(c) { format!("{c}{SUFFIX}") } else { c.clone() });
        }
        out
    }

    fn apply(&self, left: &PlFrame, right: &PlFrame) -> polars::prelude::PolarsResult<PlFrame> {
        let (how, order) = match self.how {
            How::Inner => (JoinType::Inner, MaintainOrderJoin::LeftRight),
            How::Left => (JoinType::Left, MaintainOrderJoin::LeftRight),
            How::Right => (JoinType::Right, MaintainOrderJoin::RightLeft),
            How::Outer => (JoinType::Full, MaintainOrderJoin::LeftRight),
        };
        let coalesce = if self.coalesce() { JoinCoalesce::CoalesceColumns } else { JoinCoalesce::KeepColumns };
        let mut args = JoinArgs::new(how).with_coalesce(coalesce).with_suffix(Some(SUFFIX.into()));
        args.maintain_order = order;
        // As pandas: a missing key matches a missing key.
        args.nulls_equal = true;
        let out = left.join(right, &self.left_on, &self.right_on, args, None)?;
        // A right join lists the right's columns first; pandas keeps the left's first.
        let columns = self.columns(&names(left), &names(right));
        out.select(columns)
    }
}

fn names(df: &PlFrame) -> Vec<String> {
    df.get_column_names().iter().map(|c| c.to_string()).collect()
}

fn join_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let join = Join::from_value(params)?;
    let [left, right] = inputs.as_slice() else { return Err(TaskError::new("dataframe.join takes two partitions")) };
    let out = join
        .apply(Partition::of(left)?, Partition::of(right)?)
        .map_err(|e| TaskError::new(format!("joining on {:?} = {:?}: {e}", join.left_on, join.right_on)))?;
    Ok(Partition(out).into_value())
}

pub(crate) static JOIN: NamedFn = NamedFn::new("dataframe.join", join_task).params::<Join>();

impl DataFrame {
    /// Joins `right` on columns of the same names on both sides.
    pub fn merge(&self, right: &DataFrame, on: &[&str], how: How) -> Result<DataFrame> {
        self.merge_on(right, on, on, how)
    }

    /// Joins `right` on the two frames' indexes (see
    /// [`DataFrame::set_index`]). Frames with the same divisions join
    /// partition by partition, keeping the index; others as
    /// [`DataFrame::merge_on`] their index columns.
    pub fn join(&self, right: &DataFrame, how: How) -> Result<DataFrame> {
        let (Some(li), Some(ri)) = (&self.index, &right.index) else {
            return Err(DataFrameError::Invalid("join wants both frames indexed: call set_index first".into()));
        };
        let join = Join { left_on: vec![li.column.clone()], right_on: vec![ri.column.clone()], how };
        if li.divisions.is_empty() || li.divisions != ri.divisions {
            return self.merge_on(right, &[&li.column], &[&ri.column], how);
        }
        let params = join.to_value();
        let namer = Namer::new("join").input(&self.layer).input(&right.layer).with(|t| params.tokenize(t));
        let name: Arc<str> = format!("join-{}", namer.token()).into();
        let tasks: Vec<_> = self
            .partitions
            .iter()
            .zip(&right.partitions)
            .enumerate()
            .map(|(i, (a, b))| {
                let task = Task::new(Op::named(&JOIN, params.clone()), vec![r(a.clone()), r(b.clone())]);
                (Key::with_shared_name(&name, &[i as u32]), task)
            })
            .collect();
        let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
        let columns = join.columns(&self.columns, &right.columns);
        let layer = Layer::new(name, tasks, vec![self.layer.clone(), right.layer.clone()]);
        let mut out = DataFrame::from_layer(layer, partitions, columns);
        // Equal keys meet in the same partition, inside the same bounds.
        out.index = self.index.clone().filter(|i| out.columns.contains(&i.column));
        Ok(out)
    }

    /// Joins `right` where `left_on` of this frame equals `right_on` of
    /// the other. Right columns whose names the left has too get the
    /// suffix [`SUFFIX`]; rows come out partition by partition, in each
    /// the left's order (the right's for `How::Right`).
    pub fn merge_on(&self, right: &DataFrame, left_on: &[&str], right_on: &[&str], how: How) -> Result<DataFrame> {
        if left_on.is_empty() || left_on.len() != right_on.len() {
            return Err(DataFrameError::Invalid(format!(
                "a join wants as many left keys as right keys, at least one: {left_on:?} and {right_on:?}"
            )));
        }
        left_on.iter().try_for_each(|c| self.check_column(c))?;
        right_on.iter().try_for_each(|c| right.check_column(c))?;
        let join = Join {
            left_on: left_on.iter().map(|s| s.to_string()).collect(),
            right_on: right_on.iter().map(|s| s.to_string()).collect(),
            how,
        };
        let columns = join.columns(&self.columns, &right.columns);
        let (l, r_) = (self.npartitions(), right.npartitions());
        // Broadcast the one-partition side when every output row comes
        // from a partition of the other side.
        let (lefts, rights, deps) = if r_ == 1 && matches!(how, How::Inner | How::Left) {
            (self.keys(), vec![right.partitions[0].clone(); l], vec![self.layer.clone(), right.layer.clone()])
        } else if l == 1 && matches!(how, How::Inner | How::Right) {
            (vec![self.partitions[0].clone(); r_], right.keys(), vec![self.layer.clone(), right.layer.clone()])
        } else {
            let n = l.max(r_);
            let ls = self.shuffle(&left_on.iter().map(|c| col(c)).collect::<Vec<_>>(), n)?;
            let rs = right.shuffle(&right_on.iter().map(|c| col(c)).collect::<Vec<_>>(), n)?;
            (ls.keys(), rs.keys(), vec![ls.layer.clone(), rs.layer.clone()])
        };
        let params = join.to_value();
        let namer = Namer::new("merge").input(&deps[0]).input(&deps[1]).with(|t| params.tokenize(t));
        let name: Arc<str> = format!("merge-{}", namer.token()).into();
        let tasks: Vec<_> = lefts
            .into_iter()
            .zip(rights)
            .enumerate()
            .map(|(i, (a, b))| {
                (
                    Key::with_shared_name(&name, &[i as u32]),
                    Task::new(Op::named(&JOIN, params.clone()), vec![r(a), r(b)]),
                )
            })
            .collect();
        let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
        Ok(DataFrame::from_layer(Layer::new(name, tasks, deps), partitions, columns))
    }
}
