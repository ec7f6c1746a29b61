//! The layer graph: a stable topological order of the raw layers.

use petgraph::graph::{DiGraph, NodeIndex};

use super::TensorId;

/// Kahn's algorithm, always taking the ready layer that comes first in the file, so a file
/// already in topological order keeps its order. `Err` lists the layers on or behind a cycle.
pub(crate) fn stable_toposort(
    graph: &DiGraph<usize, TensorId>,
) -> std::result::Result<Vec<usize>, Vec<usize>> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = graph.node_count();
    let mut indegree = vec![0usize; n];
    for e in graph.raw_edges() {
        indegree[e.target().index()] += 1;
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(graph[NodeIndex::new(i)]);
        for next in graph.neighbors(NodeIndex::new(i)) {
            indegree[next.index()] -= 1;
            if indegree[next.index()] == 0 {
                ready.push(Reverse(next.index()));
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err((0..n)
            .filter(|&i| indegree[i] > 0)
            .map(|i| graph[NodeIndex::new(i)])
            .collect())
    }
}
