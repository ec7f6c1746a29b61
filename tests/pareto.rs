//! Pareto fronts: the fast front equals an O(n^2) brute-force check on random point sets
//! (with ties and duplicates), per-group fronts, and hand-checked cases.

use plumsim::pareto::{dominates, front, front_rows, Sense};
use plumsim::sweep::Table;
use proptest::prelude::*;

/// Every point no other point dominates, by definition.
fn brute(points: &[Vec<f64>], senses: &[Sense]) -> Vec<usize> {
    (0..points.len())
        .filter(|&i| points[i].iter().all(|v| !v.is_nan()))
        .filter(|&i| {
            !(0..points.len()).any(|j| {
                j != i
                    && points[j].iter().all(|v| !v.is_nan())
                    && dominates(&points[j], &points[i], senses)
            })
        })
        .collect()
}

fn sense() -> impl Strategy<Value = Sense> {
    prop_oneof![Just(Sense::Minimize), Just(Sense::Maximize)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Small integer coordinates make ties and duplicate points common.
    #[test]
    fn front_equals_brute_force_small_grid(
        (senses, points) in (1usize..=4).prop_flat_map(|d| (
            proptest::collection::vec(sense(), d),
            proptest::collection::vec(proptest::collection::vec((0i32..6).prop_map(f64::from), d), 0..60),
        ))
    ) {
        prop_assert_eq!(front(&points, &senses), brute(&points, &senses));
    }

    /// Continuous values, some NaN (never on the front).
    #[test]
    fn front_equals_brute_force_floats(
        (senses, points) in (1usize..=3).prop_flat_map(|d| (
            proptest::collection::vec(sense(), d),
            proptest::collection::vec(proptest::collection::vec(
                prop_oneof![9 => -1e6f64..1e6, 1 => Just(f64::NAN)], d), 0..80),
        ))
    ) {
        let f = front(&points, &senses);
        prop_assert_eq!(&f, &brute(&points, &senses));
        // Nothing on the front dominates anything else on it.
        for &a in &f {
            for &b in &f {
                prop_assert!(!dominates(&points[a], &points[b], &senses));
            }
        }
    }
}

#[test]
fn hand_checked_two_objectives() {
    // (latency, energy): (1,9) (2,5) (3,5) (4,1) (5,5) (2,5) again.
    let p: Vec<Vec<f64>> = [(1., 9.), (2., 5.), (3., 5.), (4., 1.), (5., 5.), (2., 5.)]
        .iter()
        .map(|&(a, b)| vec![a, b])
        .collect();
    let min = [Sense::Minimize, Sense::Minimize];
    // (3,5) and (5,5) are dominated by (2,5); the duplicate (2,5) stays.
    assert_eq!(front(&p, &min), vec![0, 1, 3, 5]);
    // Maximizing the second objective: (1,9) dominates everything with x >= 1 and y <= 9.
    assert_eq!(front(&p, &[Sense::Minimize, Sense::Maximize]), vec![0]);
    assert_eq!(front(&[], &min), Vec::<usize>::new());
}

#[test]
fn fronts_are_per_group_and_skip_empty_cells() {
    let csv = "point,workload,status,x,y\n\
               0,a,ok,1,5\n1,a,ok,2,2\n2,a,ok,3,3\n\
               3,b,ok,9,9\n4,b,ok,10,1\n5,b,invalid,,\n6,b,ok,11,2\n";
    let t = Table::parse(csv, "t.csv").unwrap();
    let obj = [
        ("x".to_string(), Sense::Minimize),
        ("y".to_string(), Sense::Minimize),
    ];
    // Per workload: a -> rows 0, 1; b -> rows 3, 4 (row 6 is dominated by row 4).
    assert_eq!(
        front_rows(&t, &obj, Some("workload"), "t.csv").unwrap(),
        vec![0, 1, 3, 4]
    );
    // Pooled: (9,9) is dominated by (2,2); (10,1) is not.
    assert_eq!(front_rows(&t, &obj, None, "t.csv").unwrap(), vec![0, 1, 4]);
    let e = front_rows(&t, &[("z".to_string(), Sense::Minimize)], None, "t.csv").unwrap_err();
    assert!(
        e.to_string().contains("t.csv") && e.to_string().contains("no column `z`"),
        "{e}"
    );
}
