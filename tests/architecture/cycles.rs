//! The cycles of a directed graph: its strongly connected components of more than one node
//! (Tarjan's algorithm), each shown as one concrete cycle plus every edge inside it.
//!
//! Hand-written (35 lines) rather than `petgraph::algo::tarjan_scc`: petgraph is in no
//! lock file of the workspace and would bring petgraph, fixedbitset and a fourth hashbrown
//! for one textbook algorithm, which the unit tests pin (`resolver_tests.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The strongly connected components with two nodes or more, each sorted, in order of their
/// first node. Self-loops are ignored (a file using its own items).
pub fn components(edges: &BTreeMap<(usize, usize), String>) -> Vec<Vec<usize>> {
    let mut successors: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(from, to) in edges.keys() {
        successors.entry(from).or_default().push(to);
        successors.entry(to).or_default();
    }
    let mut tarjan = Tarjan {
        successors: &successors,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &node in successors.keys() {
        if !tarjan.index.contains_key(&node) {
            tarjan.visit(node);
        }
    }
    let mut found: Vec<Vec<usize>> = tarjan.found.into_iter().filter(|c| c.len() > 1).collect();
    for component in &mut found {
        component.sort_unstable();
    }
    found.sort();
    found
}

struct Tarjan<'g> {
    successors: &'g BTreeMap<usize, Vec<usize>>,
    index: BTreeMap<usize, usize>,
    low: BTreeMap<usize, usize>,
    stack: Vec<usize>,
    on_stack: BTreeSet<usize>,
    found: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, node: usize) {
        let index = self.index.len();
        self.index.insert(node, index);
        self.low.insert(node, index);
        self.stack.push(node);
        self.on_stack.insert(node);
        for &next in self.successors.get(&node).into_iter().flatten() {
            let low = if !self.index.contains_key(&next) {
                self.visit(next);
                self.low[&next]
            } else if self.on_stack.contains(&next) {
                self.index[&next]
            } else {
                continue;
            };
            let own = self.low[&node].min(low);
            self.low.insert(node, own);
        }
        if self.low[&node] == self.index[&node] {
            let mut component = Vec::new();
            while let Some(top) = self.stack.pop() {
                self.on_stack.remove(&top);
                component.push(top);
                if top == node {
                    break;
                }
            }
            self.found.push(component);
        }
    }
}

/// A shortest cycle through the component's first node, staying inside the component:
/// `[a, b, c, a]`.
pub fn shortest_cycle(edges: &BTreeMap<(usize, usize), String>, component: &[usize]) -> Vec<usize> {
    let Some(&start) = component.first() else {
        return Vec::new();
    };
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(_, next) in edges.range((node, 0)..=(node, usize::MAX)).map(|(k, _)| k) {
            if !inside.contains(&next) || came_from.contains_key(&next) {
                continue;
            }
            came_from.insert(next, node);
            if next == start {
                let mut cycle = vec![start];
                let mut at = node;
                while at != start {
                    cycle.push(at);
                    at = came_from[&at];
                }
                cycle.push(start);
                cycle.reverse();
                return cycle;
            }
            queue.push_back(next);
        }
    }
    Vec::new()
}

/// One component, for a person: the cycle, then each edge inside it with the path that
/// makes it.
pub fn describe(
    edges: &BTreeMap<(usize, usize), String>,
    component: &[usize],
    name: &dyn Fn(usize) -> String,
) -> String {
    let cycle: Vec<String> = shortest_cycle(edges, component)
        .into_iter()
        .map(name)
        .collect();
    let mut text = format!("  cycle: {}\n", cycle.join(" -> "));
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    for ((from, to), why) in edges {
        if inside.contains(from) && inside.contains(to) && from != to {
            text.push_str(&format!(
                "    {} uses {} (`{why}`)\n",
                name(*from),
                name(*to)
            ));
        }
    }
    text
}
