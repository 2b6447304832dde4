//! Row-wise operations: each partition transformed on its own, by one
//! task per partition (`dataframe.map`) that applies a [`Step`].

use blockwork_graph::{kernel_params, KernelParams, NamedFn, TaskError, TaskResult, Value};
use polars::prelude::{
    polars_bail, BooleanChunked, ChunkFillNullValue, Column, DataFrame as PlFrame, DataType, IntoColumn, PolarsResult,
};

use crate::expr::{eval_frame, Expr};
use crate::lit::Lit;
use crate::partition::Partition;

kernel_params! {
    /// One partition-wise step: the parameters of `dataframe.map`.
    pub(crate) enum Step {
        /// Exactly these expressions, as columns.
        Select { exprs: Vec<Expr> },
        /// These expressions added (or replacing columns of the same name).
        Assign { exprs: Vec<Expr> },
        /// The rows where the boolean expression holds (missing: dropped).
        Filter { predicate: Expr },
        /// Rows without a missing value in these columns (all when empty).
        DropNa { subset: Vec<String> },
        /// Missing values of every column that can hold it replaced.
        FillNa { value: Lit },
        /// The first `n` rows.
        Head { n: usize },
        /// The last `n` rows.
        Tail { n: usize },
        /// Sorted by these columns, each ascending or descending (missing
        /// values last, stable).
        Sort { by: Vec<String>, descending: Vec<bool> },
    }
}

impl Step {
    pub(crate) fn apply(&self, df: &PlFrame) -> PolarsResult<PlFrame> {
        match self {
            Step::Select { exprs } => eval_frame(exprs, df),
            Step::Assign { exprs } => {
                let mut out = df.clone();
                for e in exprs {
                    out.with_column(e.eval(df)?.into_column())?;
                }
                Ok(out)
            }
            Step::Filter { predicate: e } => {
                let mask = e.eval(df)?;
                let Ok(mask) = mask.bool() else {
                    polars_bail!(InvalidOperation: "a filter wants booleans; {} is {}", e.name(), mask.dtype())
                };
                let mask: BooleanChunked = mask.fill_null_with_values(false)?;
                df.filter(&mask)
            }
            Step::DropNa { subset } if subset.is_empty() => df.drop_nulls::<String>(None),
            Step::DropNa { subset } => df.drop_nulls(Some(subset)),
            Step::FillNa { value: v } => {
                let cols: Vec<Column> = df
                    .columns()
                    .iter()
                    .map(|c| {
                        let s = c.as_materialized_series();
                        let kinds_match = match v {
                            Lit::Str(_) => s.dtype() == &DataType::String,
                            Lit::Bool(_) => s.dtype() == &DataType::Boolean,
                            Lit::Int(_) | Lit::Float(_) => s.dtype().is_primitive_numeric(),
                            Lit::Null => false,
                        };
                        if kinds_match {
                            Ok(crate::expr::col(s.name()).fillna(v.clone()).eval(df)?.into_column())
                        } else {
                            Ok(c.clone())
                        }
                    })
                    .collect::<PolarsResult<_>>()?;
                PlFrame::new(df.height(), cols)
            }
            Step::Head { n } => Ok(df.head(Some(*n))),
            Step::Tail { n } => Ok(df.tail(Some(*n))),
            Step::Sort { by, descending } => crate::sort::sort_frame(df, by, descending),
        }
    }

    /// The columns after it, from those before.
    pub(crate) fn columns(&self, before: &[String]) -> Vec<String> {
        match self {
            Step::Select { exprs } => exprs.iter().map(|e| e.name().to_string()).collect(),
            Step::Assign { exprs } => {
                let mut out = before.to_vec();
                for e in exprs {
                    let name = e.name().to_string();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                out
            }
            _ => before.to_vec(),
        }
    }

    /// The columns it reads.
    pub(crate) fn reads(&self) -> Vec<String> {
        let of = |es: &[Expr]| es.iter().flat_map(|e| e.columns()).map(|c| c.to_string()).collect();
        match self {
            Step::Select { exprs } | Step::Assign { exprs } => of(exprs),
            Step::Filter { predicate } => of(std::slice::from_ref(predicate)),
            Step::DropNa { subset: cols } | Step::Sort { by: cols, .. } => cols.clone(),
            _ => Vec::new(),
        }
    }
}

fn map_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let step = Step::from_value(params)?;
    let [input] = inputs.as_slice() else { return Err(TaskError::new("dataframe.map takes one partition")) };
    let df = Partition::of(input)?;
    let out = step.apply(df).map_err(|e| TaskError::new(e.to_string()))?;
    Ok(Partition(out).into_value())
}

pub(crate) static MAP: NamedFn = NamedFn::new("dataframe.map", map_task).params::<Step>();
