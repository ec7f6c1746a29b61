//! Pareto fronts: the non-dominated points of a set, over any number of objectives.
//!
//! Pure. A point dominates another when it is at least as good in every objective and
//! strictly better in one; the front is every point no other point dominates. Equal points
//! do not dominate each other, so duplicates are all on the front. Results are in input
//! order, whatever the sort inside.

use std::cmp::Ordering;

use crate::error::{Error, Problem, Result};
use crate::table::Table;

/// Whether an objective is better low or high.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    Minimize,
    Maximize,
}

impl Sense {
    pub fn as_str(self) -> &'static str {
        match self {
            Sense::Minimize => "minimize",
            Sense::Maximize => "maximize",
        }
    }

    /// The value as a cost (lower is better).
    fn cost(self, v: f64) -> f64 {
        match self {
            Sense::Minimize => v,
            Sense::Maximize => -v,
        }
    }
}

/// True when `a` dominates `b` under `senses` (values must not be NaN).
pub fn dominates(a: &[f64], b: &[f64], senses: &[Sense]) -> bool {
    let mut strictly = false;
    for ((x, y), s) in a.iter().zip(b).zip(senses) {
        let (x, y) = (s.cost(*x), s.cost(*y));
        if x > y {
            return false;
        }
        if x < y {
            strictly = true;
        }
    }
    strictly
}

/// Indices (ascending) of the non-dominated points. Every point has one value per sense;
/// points with a NaN value are never on the front.
///
/// Points are visited in lexicographic order of their costs: a point can only be dominated
/// by one before it, and then by one on the front (dominance is transitive), so each point
/// is checked against the front found so far. O(n log n + n f).
pub fn front(points: &[Vec<f64>], senses: &[Sense]) -> Vec<usize> {
    let costs: Vec<Vec<f64>> = points
        .iter()
        .map(|p| p.iter().zip(senses).map(|(v, s)| s.cost(*v)).collect())
        .collect();
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| costs[i].iter().all(|v| !v.is_nan()))
        .collect();
    order.sort_by(|&a, &b| {
        costs[a]
            .iter()
            .zip(&costs[b])
            .map(|(x, y)| x.partial_cmp(y).unwrap_or(Ordering::Equal))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut on: Vec<usize> = Vec::new();
    for i in order {
        if !on
            .iter()
            .any(|&f| dominates(&points[f], &points[i], senses))
        {
            on.push(i);
        }
    }
    on.sort_unstable();
    on
}

/// The objective values of every row of `t` (in row order); rows where one is empty or not
/// a number are `None`. `origin` names the file in messages.
pub fn objective_values(
    t: &Table,
    objectives: &[(String, Sense)],
    origin: &str,
) -> Result<Vec<Option<Vec<f64>>>> {
    let cols: Vec<usize> = objectives
        .iter()
        .map(|(c, s)| t.require(c, origin, &format!("--{}", s.as_str())))
        .collect::<Result<_>>()?;
    Ok(t.rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|&c| r[c].parse::<f64>().ok().filter(|v| !v.is_nan()))
                .collect::<Option<Vec<f64>>>()
        })
        .collect())
}

/// The rows of `t` on the front of `objectives`, in row order, computed separately within
/// each value of `group_by` (e.g. per workload: designs compete on the same network only).
pub fn front_rows(
    t: &Table,
    objectives: &[(String, Sense)],
    group_by: Option<&str>,
    origin: &str,
) -> Result<Vec<usize>> {
    if objectives.is_empty() {
        return Err(Error::invalid(
            origin,
            vec![Problem::new("objectives", "no objectives")
                .with_help("name at least one column to minimize or maximize")],
        ));
    }
    let values = objective_values(t, objectives, origin)?;
    let g = group_by
        .map(|g| t.require(g, origin, "--group-by"))
        .transpose()?;
    let senses: Vec<Sense> = objectives.iter().map(|(_, s)| *s).collect();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if v.is_none() {
            continue;
        }
        let key = g.map_or(String::new(), |g| t.rows[i][g].clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut out = Vec::new();
    for (_, rows) in groups {
        let pts: Vec<Vec<f64>> = rows
            .iter()
            .map(|&i| values[i].clone().unwrap_or_default())
            .collect();
        out.extend(front(&pts, &senses).into_iter().map(|k| rows[k]));
    }
    out.sort_unstable();
    Ok(out)
}
